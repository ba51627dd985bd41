import { createPool, Pool, RowDataPacket } from 'mysql2/promise';
import type { DatabaseConfig } from './config';
import { log, sleep } from './http';

export type Row = RowDataPacket & Record<string, unknown>;

/** A pool on one of the lab's databases, opened the way the product's datasource is: retried at start. */
export async function openDatabase(name: string, cfg: DatabaseConfig, attempts = Infinity): Promise<Pool> {
  const pool = createPool({
    host: cfg.host,
    port: cfg.port,
    database: cfg.database,
    user: cfg.user,
    password: cfg.password,
    connectionLimit: 8,
    connectTimeout: 3000,
    enableKeepAlive: true,
  });
  if (cfg.socketTimeoutMs) socketTimeouts.set(pool, cfg.socketTimeoutMs);
  for (let i = 1; ; i++) {
    try {
      await pool.query('SELECT 1');
      log('INFO', 'DataSource', `${name} connected: jdbc:mysql://${cfg.host}:${cfg.port}/${cfg.database}`);
      return pool;
    } catch (err) {
      log(
        'ERROR',
        'DataSource',
        `Cannot create PoolableConnectionFactory for ${name} (Communications link failure to ${cfg.host}:${cfg.port}/${cfg.database}): ${(err as Error).message}`,
      );
      if (i >= attempts) throw err;
      await sleep(2000);
    }
  }
}

const socketTimeouts = new WeakMap<Pool, number>();

/** A query as Connector/J runs it: waiting for ever, or failing after the URL's `socketTimeout`. */
function query<T extends Row[]>(pool: Pool, sql: string, params: unknown[]) {
  return pool.query<T>({ sql, timeout: socketTimeouts.get(pool), values: params });
}

export async function rows(pool: Pool, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [result] = await query<Row[]>(pool, sql, params);
  return result;
}

export async function exec(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  await query(pool, sql, params);
}

export const isDuplicate = (err: unknown) => (err as { code?: string }).code === 'ER_DUP_ENTRY';

/** Runs an INSERT (or UPDATE) on a table with a unique key: false when such a row already exists, any other error thrown. */
export async function insertUnique(pool: Pool, sql: string, params: unknown[]): Promise<boolean> {
  try {
    await exec(pool, sql, params);
    return true;
  } catch (err) {
    if (isDuplicate(err)) return false;
    throw err;
  }
}

/** The integer ids the product's tables have, which the databases of older stand-ins lack. */
export const INTEGER_IDS = [
  ['AM_API', 'API_ID'],
  ['AM_APPLICATION', 'APPLICATION_ID'],
  ['AM_SUBSCRIPTION', 'SUBSCRIPTION_ID'],
] as const;

/**
 * A lab kept from an older carbon-labs (`make stop`/`start`, or `make lab` again after an upgrade)
 * keeps its database volume, whose schema script ran once: its tables get the integer ids here
 * (existing rows numbered), as a product upgrade's migration script would. Idempotent, and two
 * control planes may race on it: a column another one just added is fine. Checked through
 * information_schema, as MySQL 8 has no `ADD COLUMN IF NOT EXISTS`.
 */
export async function addIntegerIds(pool: Pool): Promise<void> {
  for (const [table, column] of INTEGER_IDS) {
    const [found] = await rows(
      pool,
      'SELECT COUNT(*) AS N FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?',
      [table, column],
    );
    if (Number(found?.N) > 0) continue;
    try {
      await exec(pool, `ALTER TABLE ${table} ADD COLUMN ${column} INTEGER NOT NULL AUTO_INCREMENT UNIQUE`);
      log('INFO', 'DataSource', `${table}: added ${column} (a database made by an older carbon-labs)`);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_DUP_FIELDNAME') throw err;
    }
  }
}
