import { randomUUID } from 'crypto';
import type { Pool } from 'mysql2/promise';
import type { GatewayEnvironment } from '../config';
import { exec, insertUnique, isDuplicate, Row, rows } from '../db';
import type { SubscriptionIds } from '../subscription-data';

/**
 * The control plane's SQL on WSO2AM_DB, one small class per aggregate, beside `ApiStore`
 * (sim/src/store.ts), which keeps the APIs themselves. Rows come back as the database gives them;
 * sim/src/control-plane/views.ts turns them into the REST APIs' DTOs.
 */

/** A new row of AM_APPLICATION. */
export interface NewApplication {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly throttlingPolicy: string;
  readonly description: string;
  readonly tokenType: string;
}

/** The devportal's applications (AM_APPLICATION), unique by name per owner. */
export class ApplicationRepository {
  constructor(private readonly pool: Pool) {}

  /** Inserts the application, created now; false when its owner already has one of that name. */
  insert(app: NewApplication): Promise<boolean> {
    return insertUnique(
      this.pool,
      'INSERT INTO AM_APPLICATION (UUID, NAME, OWNER, APPLICATION_TIER, DESCRIPTION, TOKEN_TYPE, CREATED_TIME) VALUES (?,?,?,?,?,?,?)',
      [app.id, app.name, app.owner, app.throttlingPolicy, app.description, app.tokenType, Date.now()],
    );
  }

  async get(id: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, 'SELECT * FROM AM_APPLICATION WHERE UUID = ?', [id]);
    return row;
  }

  /** The application when `owner` owns it. */
  async getOwned(id: string, owner: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, 'SELECT * FROM AM_APPLICATION WHERE UUID = ? AND OWNER = ?', [id, owner]);
    return row;
  }

  /** Every application, in the order of their integer ids (what gateways load at startup). */
  all(): Promise<Row[]> {
    return rows(this.pool, 'SELECT * FROM AM_APPLICATION ORDER BY APPLICATION_ID', []);
  }

  /** The applications of `owner`, oldest first. */
  listOwnedBy(owner: string): Promise<Row[]> {
    return rows(this.pool, 'SELECT * FROM AM_APPLICATION WHERE OWNER = ? ORDER BY CREATED_TIME', [owner]);
  }

  /** Changes an application's name, policy, description and token type; false when its owner has another of that name. */
  update(id: string, change: Pick<NewApplication, 'name' | 'throttlingPolicy' | 'description' | 'tokenType'>): Promise<boolean> {
    return insertUnique(
      this.pool,
      'UPDATE AM_APPLICATION SET NAME = ?, APPLICATION_TIER = ?, DESCRIPTION = ?, TOKEN_TYPE = ? WHERE UUID = ?',
      [change.name, change.throttlingPolicy, change.description, change.tokenType, id],
    );
  }

  /** Removes an application with its subscriptions, key mappings and OAuth clients, in one transaction. */
  async delete(id: string): Promise<void> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      await conn.execute('DELETE FROM AM_SUBSCRIPTION WHERE APPLICATION_UUID = ?', [id]);
      await conn.execute('DELETE FROM AM_APPLICATION_KEY_MAPPING WHERE APPLICATION_UUID = ?', [id]);
      await conn.execute('DELETE FROM IDN_OAUTH_CONSUMER_APPS WHERE APPLICATION_UUID = ?', [id]);
      await conn.execute('DELETE FROM AM_APPLICATION WHERE UUID = ?', [id]);
      await conn.commit();
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    } finally {
      conn.release();
    }
  }
}

/** A new row of AM_SUBSCRIPTION. */
export interface NewSubscription {
  readonly id: string;
  readonly apiId: string;
  readonly applicationId: string;
  readonly throttlingPolicy: string;
  readonly status: string;
}

/** A subscription's row with the integer ids of its API and application (null when either is gone). */
const WITH_IDS = `SELECT s.*, a.API_ID, app.APPLICATION_ID FROM AM_SUBSCRIPTION s
  LEFT JOIN AM_API a ON a.API_UUID = s.API_UUID LEFT JOIN AM_APPLICATION app ON app.UUID = s.APPLICATION_UUID`;

/** The integer ids of a subscription row read with WITH_IDS. */
export const subscriptionIdsOf = (row: Row): SubscriptionIds => ({
  subscriptionId: idOf(row.SUBSCRIPTION_ID),
  apiId: idOf(row.API_ID),
  appId: idOf(row.APPLICATION_ID),
});

/** An integer id as the database gives it; unknown (not 0) when a LEFT JOIN found no row. */
export const idOf = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));

/** Subscriptions of applications to APIs (AM_SUBSCRIPTION), one per API and application. */
export class SubscriptionRepository {
  constructor(private readonly pool: Pool) {}

  /** Inserts the subscription, created now; false when the application is already subscribed to the API. */
  insert(sub: NewSubscription): Promise<boolean> {
    return insertUnique(
      this.pool,
      'INSERT INTO AM_SUBSCRIPTION (UUID, API_UUID, APPLICATION_UUID, TIER_ID, SUB_STATUS, CREATED_TIME) VALUES (?,?,?,?,?,?)',
      [sub.id, sub.apiId, sub.applicationId, sub.throttlingPolicy, sub.status, Date.now()],
    );
  }

  /** The subscription, with the integer ids of its API and application (API_ID, APPLICATION_ID) beside its own. */
  async get(id: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, `${WITH_IDS} WHERE s.UUID = ?`, [id]);
    return row;
  }

  /** Every subscription with its integer ids, or those to one API and/or of one application (what gateways load). */
  withIds(filter: { readonly apiId: string | null; readonly applicationId: string | null }): Promise<Row[]> {
    return rows(
      this.pool,
      `${WITH_IDS} WHERE (? IS NULL OR s.API_UUID = ?) AND (? IS NULL OR s.APPLICATION_UUID = ?) ORDER BY s.SUBSCRIPTION_ID`,
      [filter.apiId, filter.apiId, filter.applicationId, filter.applicationId],
    );
  }

  /** Subscriptions, oldest first, to one API and/or of one application; null leaves that side open. */
  list(filter: { readonly apiId: string | null; readonly applicationId: string | null }): Promise<Row[]> {
    return rows(
      this.pool,
      'SELECT * FROM AM_SUBSCRIPTION WHERE (? IS NULL OR API_UUID = ?) AND (? IS NULL OR APPLICATION_UUID = ?) ORDER BY CREATED_TIME',
      [filter.apiId, filter.apiId, filter.applicationId, filter.applicationId],
    );
  }

  /** The applications subscribed to an API, each with its subscription's state (SUB_STATUS) and integer ids. */
  async subscribers(apiId: string): Promise<({ applicationId: string; status: string; policy: string } & SubscriptionIds)[]> {
    return (await rows(this.pool, `${WITH_IDS} WHERE s.API_UUID = ?`, [apiId])).map((s) => ({
      applicationId: String(s.APPLICATION_UUID),
      status: String(s.SUB_STATUS),
      policy: String(s.TIER_ID ?? 'Unlimited'),
      ...subscriptionIdsOf(s),
    }));
  }

  async delete(id: string): Promise<void> {
    await exec(this.pool, 'DELETE FROM AM_SUBSCRIPTION WHERE UUID = ?', [id]);
  }

  /** Sets a subscription's SUB_STATUS (UNBLOCKED, BLOCKED, PROD_ONLY_BLOCKED). */
  async setStatus(id: string, status: string): Promise<void> {
    await exec(this.pool, 'UPDATE AM_SUBSCRIPTION SET SUB_STATUS = ? WHERE UUID = ?', [status, id]);
  }
}

/** A new row of AM_REVISION: a snapshot of an API. */
export interface NewRevision {
  readonly id: string;
  readonly apiId: string;
  readonly description: string;
  /** The API as it is now, serialized: what a gateway deploys. */
  readonly apiDoc: string;
  readonly createdTime: number;
}

/** A row of AM_DEPLOYMENT_REVISION_MAPPING: which revision of an API a gateway environment serves. */
export interface Deployment {
  readonly apiId: string;
  readonly environment: string;
  readonly vhost: string;
  readonly revisionId: string;
  readonly displayOnDevportal: boolean;
  readonly deployedTime: number;
}

/** How many more times a revision number taken by a concurrent create is drawn again. */
const REVISION_NUMBER_RETRIES = 4;

/** Revisions of APIs (AM_REVISION) and their deployments to gateway environments (AM_DEPLOYMENT_REVISION_MAPPING). */
export class RevisionRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Inserts the revision with the API's next revision number. Two managers creating a revision of
   * the same API at once draw the same number; the unique key refuses one, which draws again.
   */
  async add(revision: NewRevision): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const [{ n }] = await rows(this.pool, 'SELECT COALESCE(MAX(REVISION_NUM), 0) + 1 AS n FROM AM_REVISION WHERE API_UUID = ?', [
        revision.apiId,
      ]);
      try {
        await exec(
          this.pool,
          'INSERT INTO AM_REVISION (REVISION_UUID, API_UUID, REVISION_NUM, DESCRIPTION, API_DOC, CREATED_TIME) VALUES (?,?,?,?,?,?)',
          [revision.id, revision.apiId, n, revision.description, revision.apiDoc, revision.createdTime],
        );
        return;
      } catch (err) {
        if (!isDuplicate(err) || attempt >= REVISION_NUMBER_RETRIES) throw err;
      }
    }
  }

  /** True when the revision exists and is one of this API's. */
  async exists(revisionId: string, apiId: string): Promise<boolean> {
    const [row] = await rows(this.pool, 'SELECT REVISION_UUID FROM AM_REVISION WHERE REVISION_UUID = ? AND API_UUID = ?', [
      revisionId,
      apiId,
    ]);
    return !!row;
  }

  /** The revisions of an API, by revision number. */
  list(apiId: string): Promise<Row[]> {
    return rows(this.pool, 'SELECT * FROM AM_REVISION WHERE API_UUID = ? ORDER BY REVISION_NUM', [apiId]);
  }

  /** Deploys a revision to an environment, in place of the revision the environment served. */
  async deploy(d: Deployment): Promise<void> {
    await exec(
      this.pool,
      'REPLACE INTO AM_DEPLOYMENT_REVISION_MAPPING (API_UUID, NAME, VHOST, REVISION_UUID, DISPLAY_ON_DEVPORTAL, DEPLOYED_TIME) VALUES (?,?,?,?,?,?)',
      [d.apiId, d.environment, d.vhost, d.revisionId, d.displayOnDevportal, d.deployedTime],
    );
  }

  /** The deployment rows of an API, every environment. */
  deployments(apiId: string): Promise<Row[]> {
    return rows(this.pool, 'SELECT * FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [apiId]);
  }

  /** The names of the environments an API is deployed to. */
  async deployedEnvironments(apiId: string): Promise<string[]> {
    return (await rows(this.pool, 'SELECT NAME FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [apiId])).map((d) =>
      String(d.NAME),
    );
  }

  /**
   * What a gateway of `label` serves: API_UUID, REVISION_UUID, VHOST and the revision's API_DOC
   * of each deployment there, of one API when `apiId` is not null.
   */
  deployedTo(label: string, apiId: string | null): Promise<Row[]> {
    return rows(
      this.pool,
      `SELECT d.API_UUID, d.REVISION_UUID, d.VHOST, r.API_DOC FROM AM_DEPLOYMENT_REVISION_MAPPING d
         JOIN AM_REVISION r ON r.REVISION_UUID = d.REVISION_UUID WHERE d.NAME = ? AND (? IS NULL OR d.API_UUID = ?)`,
      [label, apiId, apiId],
    );
  }

  /** Removes the deployments of one revision of an API from those environments. */
  async undeploy(apiId: string, revisionId: string, environments: readonly string[]): Promise<void> {
    for (const name of environments) {
      await exec(this.pool, 'DELETE FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ? AND REVISION_UUID = ? AND NAME = ?', [
        apiId,
        revisionId,
        name,
      ]);
    }
  }

  /** Removes the API's deployments, then its revisions. */
  async deleteForApi(apiId: string): Promise<void> {
    await exec(this.pool, 'DELETE FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [apiId]);
    await exec(this.pool, 'DELETE FROM AM_REVISION WHERE API_UUID = ?', [apiId]);
  }
}

/** A new OAuth client (row of IDN_OAUTH_CONSUMER_APPS). */
export interface NewOAuthClient {
  readonly consumerKey: string;
  readonly consumerSecret: string;
  readonly appName: string;
  readonly owner: string;
  /** Space-separated, as the product stores them. */
  readonly grantTypes: string;
  readonly callbackUrl: string;
}

/** A new key mapping (row of AM_APPLICATION_KEY_MAPPING): the OAuth client of an application for one key type. */
export interface NewKeyMapping {
  readonly id: string;
  readonly applicationId: string;
  readonly consumerKey: string;
  readonly keyType: string;
  readonly keyManager: string;
}

/**
 * OAuth clients of the resident key manager (IDN_OAUTH_CONSUMER_APPS, unique by name per owner):
 * those registered through DCR, and those generated for an application's keys, with the key
 * mappings that tie them to their application (AM_APPLICATION_KEY_MAPPING).
 */
export class OAuthClientRepository {
  constructor(private readonly pool: Pool) {}

  /** Registers a client of no application; false when its owner already has a client of that name. */
  register(client: NewOAuthClient): Promise<boolean> {
    return insertUnique(
      this.pool,
      'INSERT INTO IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY, CONSUMER_SECRET, APP_NAME, USERNAME, GRANT_TYPES, CALLBACK_URL) VALUES (?,?,?,?,?,?)',
      [client.consumerKey, client.consumerSecret, client.appName, client.owner, client.grantTypes, client.callbackUrl],
    );
  }

  /** Adds the client of an application's keys of one type (a duplicate is an error). */
  async addForApplication(client: NewOAuthClient & { readonly applicationId: string; readonly keyType: string }): Promise<void> {
    await exec(
      this.pool,
      'INSERT INTO IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY, CONSUMER_SECRET, APP_NAME, USERNAME, GRANT_TYPES, CALLBACK_URL, APPLICATION_UUID, KEY_TYPE) VALUES (?,?,?,?,?,?,?,?)',
      [
        client.consumerKey,
        client.consumerSecret,
        client.appName,
        client.owner,
        client.grantTypes,
        client.callbackUrl,
        client.applicationId,
        client.keyType,
      ],
    );
  }

  async byKey(consumerKey: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, 'SELECT * FROM IDN_OAUTH_CONSUMER_APPS WHERE CONSUMER_KEY = ?', [consumerKey]);
    return row;
  }

  async byName(appName: string, owner: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, 'SELECT * FROM IDN_OAUTH_CONSUMER_APPS WHERE APP_NAME = ? AND USERNAME = ?', [appName, owner]);
    return row;
  }

  /** Inserts the key mapping; false when the application already has keys of that type with that key manager. */
  addKeyMapping(mapping: NewKeyMapping): Promise<boolean> {
    return insertUnique(
      this.pool,
      'INSERT INTO AM_APPLICATION_KEY_MAPPING (UUID, APPLICATION_UUID, CONSUMER_KEY, KEY_TYPE, KEY_MANAGER) VALUES (?,?,?,?,?)',
      [mapping.id, mapping.applicationId, mapping.consumerKey, mapping.keyType, mapping.keyManager],
    );
  }

  /** Every key mapping, with its application's integer id (what gateways load at startup). */
  allKeyMappings(): Promise<Row[]> {
    return rows(
      this.pool,
      'SELECT m.*, a.APPLICATION_ID FROM AM_APPLICATION_KEY_MAPPING m JOIN AM_APPLICATION a ON a.UUID = m.APPLICATION_UUID ORDER BY a.APPLICATION_ID',
      [],
    );
  }

  /** One key mapping of an application, with the application's integer id. */
  async keyMappingOf(applicationId: string, keyType: string, keyManager: string): Promise<Row | undefined> {
    const [row] = await rows(
      this.pool,
      'SELECT m.*, a.APPLICATION_ID FROM AM_APPLICATION_KEY_MAPPING m JOIN AM_APPLICATION a ON a.UUID = m.APPLICATION_UUID WHERE m.APPLICATION_UUID = ? AND m.KEY_TYPE = ? AND m.KEY_MANAGER = ?',
      [applicationId, keyType, keyManager],
    );
    return row;
  }

  /**
   * A key mapping of an application `owner` owns, with its client's CONSUMER_SECRET and the
   * application's name (APP_NAME).
   */
  async keyMapping(id: string, applicationId: string, owner: string): Promise<Row | undefined> {
    const [row] = await rows(
      this.pool,
      `SELECT m.*, c.CONSUMER_SECRET, a.NAME AS APP_NAME FROM AM_APPLICATION_KEY_MAPPING m
         JOIN IDN_OAUTH_CONSUMER_APPS c ON c.CONSUMER_KEY = m.CONSUMER_KEY JOIN AM_APPLICATION a ON a.UUID = m.APPLICATION_UUID
         WHERE m.UUID = ? AND m.APPLICATION_UUID = ? AND a.OWNER = ?`,
      [id, applicationId, owner],
    );
    return row;
  }
}

/** A gateway environment; those added through the admin REST API have an id and a display name. */
export type Environment = GatewayEnvironment & { readonly id?: string; readonly displayName?: string };

/** A new row of AM_GATEWAY_ENVIRONMENT. */
export interface NewEnvironment {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly provider: string;
  readonly vhosts: readonly unknown[];
}

/**
 * Gateway environments: the read-only ones of deployment.toml (`[[apim.gateway.environment]]`),
 * then those added through the admin REST API (AM_GATEWAY_ENVIRONMENT), by name.
 */
export class EnvironmentRepository {
  constructor(
    private readonly pool: Pool,
    private readonly configured: readonly GatewayEnvironment[],
  ) {}

  async list(): Promise<Environment[]> {
    const added = (await rows(this.pool, 'SELECT * FROM AM_GATEWAY_ENVIRONMENT ORDER BY NAME')).map((r): Environment => ({
      name: String(r.NAME),
      type: 'hybrid',
      provider: String(r.PROVIDER ?? 'wso2'),
      description: String(r.DESCRIPTION ?? ''),
      displayInApiConsole: true,
      showAsTokenEndpointUrl: false,
      vhosts: JSON.parse(String(r.VHOSTS)),
      id: String(r.UUID),
      displayName: String(r.DISPLAY_NAME ?? r.NAME),
    }));
    return [...this.configured, ...added];
  }

  /** Inserts the environment; false when one of that name exists. */
  add(env: NewEnvironment): Promise<boolean> {
    return insertUnique(
      this.pool,
      'INSERT INTO AM_GATEWAY_ENVIRONMENT (UUID, NAME, DISPLAY_NAME, DESCRIPTION, PROVIDER, VHOSTS) VALUES (?,?,?,?,?,?)',
      [env.id, env.name, env.displayName, env.description, env.provider, JSON.stringify(env.vhosts)],
    );
  }
}

/**
 * The Resident Key Manager's row of AM_KEY_MANAGER, registered on its first read as
 * `KeyMgtRegistrationService.registerDefaultKeyManager` does (carbon-apimgt 9.31.86, lines 59-88):
 * a name and a uuid every control plane shares, and no URL. The rest is built from the answering
 * node's configuration on every read (`APIAdminImpl.getKeyManagerConfigurationsByOrganization`).
 */
export class KeyManagerRepository {
  constructor(private readonly pool: Pool) {}

  /** The uuid of the organization's Resident Key Manager, registered if it is not yet. */
  async residentUuid(name: string, organization: string): Promise<string> {
    await insertUnique(
      this.pool,
      'INSERT INTO AM_KEY_MANAGER (UUID, NAME, DESCRIPTION, TYPE, ENABLED, ORGANIZATION, TOKEN_TYPE) VALUES (?,?,?,?,?,?,?)',
      [randomUUID(), name, 'This is Resident Key Manager', 'default', true, organization, 'DIRECT'],
    );
    const [row] = await rows(this.pool, 'SELECT UUID FROM AM_KEY_MANAGER WHERE NAME = ? AND ORGANIZATION = ?', [name, organization]);
    return String(row.UUID);
  }
}

/** The two kinds of throttling policy the admin API manages here, by their table. */
export type PolicyLevel = 'application' | 'subscription';
const POLICY_TABLE: Readonly<Record<PolicyLevel, string>> = {
  application: 'AM_POLICY_APPLICATION',
  subscription: 'AM_POLICY_SUBSCRIPTION',
};

/** A new request-count throttling policy. */
export interface NewPolicy {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly requestCount: number;
  readonly unitTime: number;
  readonly timeUnit: string;
  /** Subscription policies only: drop requests past the quota (else let them through and bill). */
  readonly stopOnQuotaReach?: boolean;
}

/** Application and subscription throttling policies (AM_POLICY_APPLICATION, AM_POLICY_SUBSCRIPTION), unique by name. */
export class ThrottlePolicyRepository {
  constructor(private readonly pool: Pool) {}

  list(level: PolicyLevel): Promise<Row[]> {
    return rows(this.pool, `SELECT * FROM ${POLICY_TABLE[level]} ORDER BY NAME`);
  }

  async get(level: PolicyLevel, id: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, `SELECT * FROM ${POLICY_TABLE[level]} WHERE UUID = ?`, [id]);
    return row;
  }

  async byName(level: PolicyLevel, name: string): Promise<Row | undefined> {
    const [row] = await rows(this.pool, `SELECT * FROM ${POLICY_TABLE[level]} WHERE NAME = ?`, [name]);
    return row;
  }

  /** Adds a policy (deployed at once, as the product deploys it to the traffic managers); false when one has that name. */
  add(level: PolicyLevel, p: NewPolicy): Promise<boolean> {
    if (level === 'subscription') {
      return insertUnique(
        this.pool,
        'INSERT INTO AM_POLICY_SUBSCRIPTION (UUID, NAME, DISPLAY_NAME, DESCRIPTION, QUOTA_TYPE, QUOTA, UNIT_TIME, TIME_UNIT, STOP_ON_QUOTA_REACH, IS_DEPLOYED) VALUES (?,?,?,?,?,?,?,?,?,1)',
        [p.id, p.name, p.displayName, p.description, 'requestCount', p.requestCount, p.unitTime, p.timeUnit, p.stopOnQuotaReach ? 1 : 0],
      );
    }
    return insertUnique(
      this.pool,
      'INSERT INTO AM_POLICY_APPLICATION (UUID, NAME, DISPLAY_NAME, DESCRIPTION, QUOTA_TYPE, QUOTA, UNIT_TIME, TIME_UNIT, IS_DEPLOYED) VALUES (?,?,?,?,?,?,?,?,1)',
      [p.id, p.name, p.displayName, p.description, 'requestCount', p.requestCount, p.unitTime, p.timeUnit],
    );
  }

  async delete(level: PolicyLevel, id: string): Promise<void> {
    await exec(this.pool, `DELETE FROM ${POLICY_TABLE[level]} WHERE UUID = ?`, [id]);
  }

  /** How many applications (or subscriptions) use a policy of that name. */
  async usage(level: PolicyLevel, name: string): Promise<number> {
    const [row] =
      level === 'application'
        ? await rows(this.pool, 'SELECT COUNT(*) AS N FROM AM_APPLICATION WHERE APPLICATION_TIER = ?', [name])
        : await rows(this.pool, 'SELECT COUNT(*) AS N FROM AM_SUBSCRIPTION WHERE TIER_ID = ?', [name]);
    return Number(row.N);
  }
}

/** Revoked JWT access tokens (AM_REVOKED_JWT: a row per revocation event, the token's `jti` as its SIGNATURE). */
export class RevokedTokenRepository {
  constructor(private readonly pool: Pool) {}

  async add(jti: string, expirySeconds: number): Promise<void> {
    await exec(this.pool, 'INSERT INTO AM_REVOKED_JWT (UUID, SIGNATURE, EXPIRY_TIMESTAMP, TIME_CREATED) VALUES (?,?,?,?)', [
      randomUUID(),
      jti,
      expirySeconds * 1000,
      Date.now(),
    ]);
  }

  async isRevoked(jti: string): Promise<boolean> {
    return (await rows(this.pool, 'SELECT 1 FROM AM_REVOKED_JWT WHERE SIGNATURE = ? LIMIT 1', [jti])).length > 0;
  }

  /** The revoked tokens not yet expired. */
  unexpired(): Promise<Row[]> {
    return rows(this.pool, 'SELECT DISTINCT SIGNATURE, EXPIRY_TIMESTAMP FROM AM_REVOKED_JWT WHERE EXPIRY_TIMESTAMP > ?', [Date.now()]);
  }
}

/**
 * The default version of each API by name and provider (AM_API_DEFAULT_VERSION, carbon-apimgt
 * 9.29.120 ApiMgtDAO): the version marked default, and the one published as default, which is
 * what gateways serve on the unversioned context.
 */
export class DefaultVersionRepository {
  constructor(private readonly pool: Pool) {}

  async get(name: string, provider: string): Promise<{ defaultVersion?: string; published?: string } | undefined> {
    const [row] = await rows(
      this.pool,
      'SELECT DEFAULT_API_VERSION, PUBLISHED_DEFAULT_API_VERSION FROM AM_API_DEFAULT_VERSION WHERE API_NAME = ? AND API_PROVIDER = ?',
      [name, provider],
    );
    return row
      ? {
          defaultVersion: row.DEFAULT_API_VERSION ? String(row.DEFAULT_API_VERSION) : undefined,
          published: row.PUBLISHED_DEFAULT_API_VERSION ? String(row.PUBLISHED_DEFAULT_API_VERSION) : undefined,
        }
      : undefined;
  }

  /** `version` becomes the default; also the published default when it is deployed (`deployed`), else the published one stays. */
  async setDefault(name: string, provider: string, version: string, deployed: boolean): Promise<void> {
    const now = await this.get(name, provider);
    const published = deployed ? version : (now?.published ?? null);
    if (now)
      await exec(
        this.pool,
        'UPDATE AM_API_DEFAULT_VERSION SET DEFAULT_API_VERSION = ?, PUBLISHED_DEFAULT_API_VERSION = ? WHERE API_NAME = ? AND API_PROVIDER = ?',
        [version, published, name, provider],
      );
    else
      await exec(
        this.pool,
        'INSERT INTO AM_API_DEFAULT_VERSION (API_NAME, API_PROVIDER, DEFAULT_API_VERSION, PUBLISHED_DEFAULT_API_VERSION, ORGANIZATION) VALUES (?,?,?,?,?)',
        [name, provider, version, published, 'carbon.super'],
      );
  }

  /** The default version was deployed: it is the published default now (ApiMgtDAO.updateDefaultAPIPublishedVersion). */
  async setPublished(name: string, provider: string, version: string): Promise<void> {
    await exec(this.pool, 'UPDATE AM_API_DEFAULT_VERSION SET PUBLISHED_DEFAULT_API_VERSION = ? WHERE API_NAME = ? AND API_PROVIDER = ?', [
      version,
      name,
      provider,
    ]);
  }

  /** No default version any more: the row goes, its published default with it (REMOVE_API_DEFAULT_VERSION_SQL). */
  async remove(name: string, provider: string): Promise<void> {
    await exec(this.pool, 'DELETE FROM AM_API_DEFAULT_VERSION WHERE API_NAME = ? AND API_PROVIDER = ?', [name, provider]);
  }

  /** A deleted version: the row goes when it was the default, its published mark when it was the published one. */
  async forget(name: string, provider: string, version: string): Promise<void> {
    await exec(this.pool, 'DELETE FROM AM_API_DEFAULT_VERSION WHERE API_NAME = ? AND API_PROVIDER = ? AND DEFAULT_API_VERSION = ?', [
      name,
      provider,
      version,
    ]);
    await exec(
      this.pool,
      'UPDATE AM_API_DEFAULT_VERSION SET PUBLISHED_DEFAULT_API_VERSION = NULL WHERE API_NAME = ? AND API_PROVIDER = ? AND PUBLISHED_DEFAULT_API_VERSION = ?',
      [name, provider, version],
    );
  }
}
