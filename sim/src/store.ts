import type { Pool } from 'mysql2/promise';
import { exec, rows } from './db';

/** An API as the publisher returns it (the `API` schema of publisher v4). */
export type ApiDoc = Record<string, unknown> & { id: string; name: string; version: string; context: string; lifeCycleStatus: string };

export class Conflict extends Error {}

/**
 * Where a control plane keeps its APIs. `SqlApiStore` is the product's behaviour (WSO2AM_DB);
 * `MemoryApiStore` is the seeded fault "state in memory", which a failover must expose.
 */
export interface ApiStore {
  insert(api: ApiDoc): Promise<void>;
  get(id: string): Promise<ApiDoc | undefined>;
  list(): Promise<ApiDoc[]>;
  update(api: ApiDoc): Promise<void>;
  delete(id: string): Promise<void>;
}

export class SqlApiStore implements ApiStore {
  constructor(private readonly pool: Pool) {}

  async insert(api: ApiDoc): Promise<void> {
    try {
      await exec(
        this.pool,
        'INSERT INTO AM_API (API_UUID, API_NAME, API_VERSION, CONTEXT, API_PROVIDER, STATUS, API_DOC, CREATED_TIME) VALUES (?,?,?,?,?,?,?,?)',
        [api.id, api.name, api.version, api.context, String(api.provider), api.lifeCycleStatus, JSON.stringify(api), Date.now()],
      );
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_DUP_ENTRY')
        throw new Conflict(`An API with name ${api.name} or context ${api.context} and version ${api.version} already exists`);
      throw err;
    }
  }

  async get(id: string): Promise<ApiDoc | undefined> {
    const [row] = await rows(this.pool, 'SELECT API_DOC FROM AM_API WHERE API_UUID = ?', [id]);
    return row ? (JSON.parse(String(row.API_DOC)) as ApiDoc) : undefined;
  }

  async list(): Promise<ApiDoc[]> {
    return (await rows(this.pool, 'SELECT API_DOC FROM AM_API ORDER BY CREATED_TIME, API_NAME')).map(
      (r) => JSON.parse(String(r.API_DOC)) as ApiDoc,
    );
  }

  async update(api: ApiDoc): Promise<void> {
    await exec(this.pool, 'UPDATE AM_API SET STATUS = ?, API_DOC = ? WHERE API_UUID = ?', [
      api.lifeCycleStatus,
      JSON.stringify(api),
      api.id,
    ]);
  }

  async delete(id: string): Promise<void> {
    await exec(this.pool, 'DELETE FROM AM_API WHERE API_UUID = ?', [id]);
  }
}

/**
 * The seeded fault "acknowledges before the commit": an insert returns at once and the database
 * write goes on in the background; if the database is away, the acknowledged API is gone.
 */
export class AckBeforeCommitStore extends SqlApiStore {
  override async insert(api: ApiDoc): Promise<void> {
    super.insert(api).catch((err: Error) => console.error(`ERROR {sim} API ${api.name} acknowledged but not stored: ${err.message}`));
  }
}

export class MemoryApiStore implements ApiStore {
  private readonly apis = new Map<string, ApiDoc>();

  async insert(api: ApiDoc): Promise<void> {
    for (const a of this.apis.values()) {
      if (a.version === api.version && (a.name === api.name || a.context === api.context))
        throw new Conflict(`An API with name ${api.name} or context ${api.context} and version ${api.version} already exists`);
    }
    this.apis.set(api.id, api);
  }

  async get(id: string): Promise<ApiDoc | undefined> {
    return this.apis.get(id);
  }
  async list(): Promise<ApiDoc[]> {
    return [...this.apis.values()];
  }
  async update(api: ApiDoc): Promise<void> {
    this.apis.set(api.id, api);
  }
  async delete(id: string): Promise<void> {
    this.apis.delete(id);
  }
}
