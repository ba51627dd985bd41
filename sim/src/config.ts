import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'smol-toml';

export type Profile = 'control-plane' | 'gateway-worker';

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /**
   * Connector/J's `socketTimeout` URL property (ms): how long a query may wait for the database
   * before it fails. Its default, 0, waits for ever: a node cut off its database hangs, as the
   * product does with WSO2's stock URLs.
   */
  readonly socketTimeoutMs: number;
}

/** What the stand-in reads from deployment.toml; the same keys the product reads. */
export interface NodeConfig {
  readonly profile: Profile;
  readonly hostname: string;
  /** `[transport.https.properties] proxyPort`: the HTTPS port users reach the node through. */
  readonly proxyPort: number;
  readonly nodeName: string;
  readonly serverRole: string;
  readonly superAdmin: { readonly username: string; readonly password: string };
  readonly apimDb?: DatabaseConfig;
  readonly sharedDb: DatabaseConfig;
  /**
   * Origin (scheme://host:port) a gateway pulls runtime artifacts and subscription data from: the
   * event hub's `service_url`, which defaults to `[apim.throttling] service_url` — not the key
   * manager's (that one validates opaque tokens; the harness uses JWTs, validated locally).
   */
  readonly eventHubOrigin?: string;
  readonly throttleDecisionEndpoints: readonly { host: string; port: number }[];
  readonly eventDuplicateUrls: readonly { host: string; port: number }[];
  /** `[[apim.event_hub.publish.url_group]] urls`: the receivers a control plane publishes events to. */
  readonly eventPublishUrls: readonly { host: string; port: number }[];
  readonly gatewayLabels: readonly string[];
  readonly gatewayEnvironments: readonly GatewayEnvironment[];
  /** `[system.parameter] workerNode = "true"`: Carbon's worker mode (admin services answer 403). */
  readonly workerNode: boolean;
  /** `[truststore]`: the product's client truststore (file under repository/resources/security). */
  readonly truststore: { readonly file: string; readonly password: string };
  /** Key shared by every node with the same keystore: signs and verifies tokens. */
  readonly keystoreSecret: string;
  readonly faults: Faults;
}

export interface GatewayEnvironment {
  readonly name: string;
  readonly type: string;
  readonly provider: string;
  readonly description: string;
  readonly displayInApiConsole: boolean;
  readonly showAsTokenEndpointUrl: boolean;
  readonly vhosts: readonly { host: string; httpPort: number; httpsPort: number; wsPort: number; wssPort: number }[];
}

/**
 * Seeded faults for the harness's self-test; all off by default.
 * - SIM_FAULT_WORKER_ACCEPTS_WRITES=true: a gateway-worker serves the admin REST APIs (in memory).
 * - SIM_FAULT_IGNORE_DEPLOY_EVENTS=true: a gateway drops deploy events (startup sync still works).
 * - SIM_FAULT_STATE_IN_MEMORY=true: a control plane keeps APIs in its memory, not the database.
 * - SIM_FAULT_ACK_BEFORE_COMMIT=true: a control plane answers 201 for a new API before the database
 *   stored it (the insert goes on in the background, and may fail).
 * - SIM_FAULT_PROPAGATION_DELAY_MS=<ms>: a gateway waits this long before pulling a deployed API.
 * - SIM_FAULT_MEMORY_BALLAST_MB=<MB>: the node holds this much extra memory.
 */
export interface Faults {
  readonly workerAcceptsWrites: boolean;
  readonly ignoreDeployEvents: boolean;
  readonly stateInMemory: boolean;
  readonly ackBeforeCommit: boolean;
  readonly propagationDelayMs: number;
  readonly memoryBallastMb: number;
}

export function readFaults(env: NodeJS.ProcessEnv): Faults {
  const on = (name: string) => /^(1|true|yes)$/i.test(env[name] ?? '');
  return {
    workerAcceptsWrites: on('SIM_FAULT_WORKER_ACCEPTS_WRITES'),
    ignoreDeployEvents: on('SIM_FAULT_IGNORE_DEPLOY_EVENTS'),
    stateInMemory: on('SIM_FAULT_STATE_IN_MEMORY'),
    ackBeforeCommit: on('SIM_FAULT_ACK_BEFORE_COMMIT'),
    propagationDelayMs: Number(env.SIM_FAULT_PROPAGATION_DELAY_MS ?? 0) || 0,
    memoryBallastMb: Number(env.SIM_FAULT_MEMORY_BALLAST_MB ?? 0) || 0,
  };
}

type Table = Record<string, unknown>;
const table = (t: Table, key: string): Table => (t[key] ?? {}) as Table;

/** `jdbc:mysql://db:3306/WSO2AM_DB?useSSL=false&amp;socketTimeout=500` → host, port, database, socket timeout. */
export function parseJdbcUrl(url: string): { host: string; port: number; database: string; socketTimeoutMs: number } {
  const m = /^jdbc:mysql:\/\/([^:/?]+)(?::(\d+))?\/([^?]+)(?:\?(.*))?$/.exec(url.replace(/&amp;/g, '&'));
  if (!m) throw new Error(`unsupported JDBC URL "${url}": expected jdbc:mysql://host:port/database`);
  const socketTimeout = new URLSearchParams(m[4] ?? '').get('socketTimeout') ?? '0';
  // Connector/J refuses a property value that is not an integer.
  if (!/^\d+$/.test(socketTimeout)) throw new Error(`JDBC URL "${url}": socketTimeout must be a whole number of ms (got "${socketTimeout}")`);
  return { host: m[1], port: Number(m[2] ?? 3306), database: m[3], socketTimeoutMs: Number(socketTimeout) };
}

function database(t: Table, key: string): DatabaseConfig | undefined {
  const db = table(table(t, 'database'), key);
  if (!db.url) return undefined;
  if (db.type !== 'mysql') throw new Error(`[database.${key}] type "${String(db.type)}" is not supported here (mysql only)`);
  return { ...parseJdbcUrl(String(db.url)), user: String(db.username), password: String(db.password) };
}

function endpoint(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

function origin(url: unknown): string | undefined {
  return typeof url === 'string' ? new URL(url).origin : undefined;
}

function environments(apim: Table): GatewayEnvironment[] {
  const list = (apim.gateway as Table | undefined)?.environment as Table[] | undefined;
  return (list ?? []).map((e) => {
    const https = new URL(String(e.https_endpoint));
    const http = new URL(String(e.http_endpoint ?? `http://${https.hostname}:8280`));
    return {
      name: String(e.name),
      type: String(e.type ?? 'hybrid'),
      provider: String(e.provider ?? 'wso2'),
      description: String(e.description ?? ''),
      displayInApiConsole: e.display_in_api_console !== false,
      showAsTokenEndpointUrl: e.show_as_token_endpoint_url !== false,
      // 4.x derives a default vhost from the environment's endpoints.
      vhosts: [{
        host: https.hostname,
        httpsPort: Number(https.port || 443),
        httpPort: Number(http.port || 80),
        wsPort: e.ws_endpoint ? Number(new URL(String(e.ws_endpoint)).port) : 9099,
        wssPort: e.wss_endpoint ? Number(new URL(String(e.wss_endpoint)).port) : 8099,
      }],
    };
  });
}

export function profileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): Profile {
  const arg = argv.find((a) => a.startsWith('-Dprofile='))?.slice('-Dprofile='.length) ?? env.PROFILE_NAME ?? 'default';
  if (arg !== 'control-plane' && arg !== 'gateway-worker') {
    throw new Error(`profile "${arg}" is not one the stand-in runs: use PROFILE_NAME=control-plane or gateway-worker`);
  }
  return arg;
}

export function loadConfig(serverHome: string, profile: Profile, env: NodeJS.ProcessEnv): NodeConfig {
  const file = join(serverHome, 'repository', 'conf', 'deployment.toml');
  const t = parse(readFileSync(file, 'utf8')) as Table;
  const server = table(t, 'server');
  const apim = table(t, 'apim');
  const throttling = table(apim, 'throttling');
  const eventHub = table(apim, 'event_hub');
  const keystore = table(table(t, 'keystore'), 'tls');
  const sharedDb = database(t, 'shared_db');
  if (!sharedDb) throw new Error(`${file}: [database.shared_db] is missing; every node needs the shared database`);
  const superAdmin = table(t, 'super_admin');
  return {
    profile,
    hostname: String(server.hostname ?? 'localhost'),
    proxyPort: Number(table(table(table(t, 'transport'), 'https'), 'properties').proxyPort ?? 9443),
    nodeName: String(server.node_ip ?? env.HOSTNAME ?? 'node'),
    serverRole: String(server.server_role ?? 'default'),
    superAdmin: { username: String(superAdmin.username ?? 'admin'), password: String(superAdmin.password ?? 'admin') },
    apimDb: database(t, 'apim_db'),
    sharedDb,
    eventHubOrigin: origin(eventHub.service_url) ?? origin(throttling.service_url),
    throttleDecisionEndpoints: ((throttling.throttle_decision_endpoints ?? []) as string[]).map(endpoint),
    eventDuplicateUrls: ((eventHub.event_duplicate_url ?? []) as string[]).map(endpoint),
    eventPublishUrls: ((table(eventHub, 'publish').url_group ?? []) as Table[]).flatMap((g) => ((g.urls ?? []) as string[]).map(endpoint)),
    gatewayLabels: (table(table(apim, 'sync_runtime_artifacts'), 'gateway').gateway_labels ?? ['Default']) as string[],
    gatewayEnvironments: environments(apim),
    workerNode: String(table(table(t, 'system'), 'parameter').workerNode ?? 'false') === 'true',
    truststore: {
      file: join(serverHome, 'repository', 'resources', 'security', String(table(t, 'truststore').file_name ?? 'client-truststore.jks')),
      password: String(table(t, 'truststore').password ?? 'wso2carbon'),
    },
    keystoreSecret: `${String(keystore.file_name ?? 'wso2carbon.jks')}:${String(keystore.password ?? 'wso2carbon')}:${String(keystore.alias ?? 'wso2carbon')}`,
    faults: readFaults(env),
  };
}
