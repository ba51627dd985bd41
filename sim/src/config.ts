import { readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'smol-toml';

/** The role a node runs: a profile of the 4.3 all-in-one image, or what a 4.5 distribution is. */
export type Profile = 'control-plane' | 'gateway-worker' | 'traffic-manager';

/**
 * Which product image the stand-in runs as, named by its start script: `all-in-one` (`wso2/wso2am`,
 * its profile from `PROFILE_NAME`, started with no marker) or one of the 4.5 distributions, each
 * its own role (`wso2/wso2am-acp`, `-universal-gw`, `-tm`).
 */
export type Distribution = 'all-in-one' | 'acp' | 'universal-gw' | 'tm';

/** The role each 4.5 distribution is (docs/products.md, "apim-4.5.0"). */
export const DISTRIBUTION_ROLES: Readonly<Record<Exclude<Distribution, 'all-in-one'>, Profile>> = {
  acp: 'control-plane',
  'universal-gw': 'gateway-worker',
  tm: 'traffic-manager',
};

/** The stand-in's own system property, passed by the start scripts of the 4.5 images. */
export const DISTRIBUTION_PROPERTY = 'carbon-labs.distribution';

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
  /** What /services/Version answers and the startup log names: the image's (SIM_PRODUCT_VERSION). */
  readonly version: string;
  readonly hostname: string;
  /** `[transport.https.properties] proxyPort`: the HTTPS port users reach the node through. */
  readonly proxyPort: number;
  /**
   * `https://<hostname>:<proxyPort, else 9443>`: the origin the node builds its own absolute URLs
   * on (portal redirects, token issuer, OAuth endpoints), as identity's
   * `${carbon.protocol}://${carbon.host}:${carbon.management.port}` resolves (IdentityUtil.fillURLPlaceholders
   * takes the proxy port of the HTTPS connector when one is set).
   */
  readonly publicOrigin: string;
  /**
   * `[apim.key_manager] service_url`: on a control plane, the Resident Key Manager's ServerURL,
   * whose OIDC discovery gives gateways the JWKS URL. Default the node itself,
   * `https://localhost:9443/services/` (carbon-apimgt core default.json).
   */
  readonly keyManagerServiceUrl: string;
  /**
   * `[oauth.endpoints] oauth2_jwks_url`, else `<publicOrigin>/oauth2/jwks` (identity core
   * default.json `$ref{server.base_path}/oauth2/jwks`; a blank value counts as none): the
   * `jwks_uri` of the node's OIDC discovery.
   */
  readonly jwksUrl: string;
  readonly nodeName: string;
  readonly serverRole: string;
  readonly superAdmin: { readonly username: string; readonly password: string };
  readonly apimDb?: DatabaseConfig;
  readonly sharedDb: DatabaseConfig;
  /**
   * Origin (scheme://host:port) a gateway pulls runtime artifacts, subscription data and key
   * managers from: the event hub's `service_url`, which defaults to `[apim.throttling] service_url`.
   */
  readonly eventHubOrigin?: string;
  /**
   * `[apim.event_hub] event_listening_endpoints`: the brokers a 4.5 gateway or traffic manager
   * hears deploy and subscription events from (the control planes'). Empty in a 4.3 gateway's file,
   * which hears them on `throttle_decision_endpoints`.
   */
  readonly eventListeningEndpoints: readonly { host: string; port: number }[];
  readonly throttleDecisionEndpoints: readonly { host: string; port: number }[];
  readonly eventDuplicateUrls: readonly { host: string; port: number }[];
  /** `[[apim.event_hub.publish.url_group]] urls`: the receivers a control plane publishes events to. */
  readonly eventPublishUrls: readonly { host: string; port: number }[];
  /**
   * `[[apim.throttling.url_group]] traffic_manager_urls`: the traffic managers a gateway publishes
   * its request events to, one per group (each group gets every event; `loadbalance` spreads them
   * within a group, whose first URL the stand-in uses).
   */
  readonly throttleReceivers: readonly { host: string; port: number }[];
  readonly gatewayLabels: readonly string[];
  readonly gatewayEnvironments: readonly GatewayEnvironment[];
  /**
   * Carbon's worker mode (admin services answer 403): `[system.parameter] workerNode`, else the
   * `-DworkerNode` the node was started with (the 4.5 start scripts pass `false`).
   */
  readonly workerNode: boolean;
  /** `[truststore]`: the product's client truststore (file under repository/resources/security). */
  readonly truststore: { readonly file: string; readonly password: string };
  /** `[encryption]`: the internal crypto provider and whether it could be registered (4.7). */
  readonly internalCrypto: InternalCrypto;
  /** `[apim.gateway_notification]` of a 4.7 gateway: its id when enabled. */
  readonly gatewayNotificationId?: string;
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
 * - SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS=true: a gateway drops subscription events (created,
 *   blocked, unblocked): it keeps what it pulled, as a gateway cut off from the notifications would.
 * - SIM_FAULT_IGNORE_REVOCATION_EVENTS=true: a gateway drops token revocation events.
 * - SIM_FAULT_IGNORE_REMOVE_EVENTS=true: a gateway drops REMOVE_API_FROM_GATEWAY (undeploys, deletes).
 * - SIM_FAULT_IGNORE_THROTTLE_DECISIONS=true: a gateway drops the traffic managers' throttle
 *   decisions (as one cut off from their topic): it never refuses a request past a quota.
 * - SIM_FAULT_KEEP_DEFAULT_VERSION=true: a gateway keeps the first default version it served on an
 *   unversioned context when a newer version becomes the default.
 * - SIM_FAULT_MEMORY_BALLAST_MB=<MB>: the node holds this much extra memory.
 */
export interface Faults {
  readonly workerAcceptsWrites: boolean;
  readonly ignoreDeployEvents: boolean;
  readonly ignoreSubscriptionEvents: boolean;
  readonly ignoreRevocationEvents: boolean;
  readonly ignoreRemoveEvents: boolean;
  readonly keepDefaultVersion: boolean;
  readonly ignoreThrottleDecisions: boolean;
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
    ignoreSubscriptionEvents: on('SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS'),
    ignoreRevocationEvents: on('SIM_FAULT_IGNORE_REVOCATION_EVENTS'),
    ignoreRemoveEvents: on('SIM_FAULT_IGNORE_REMOVE_EVENTS'),
    keepDefaultVersion: on('SIM_FAULT_KEEP_DEFAULT_VERSION'),
    ignoreThrottleDecisions: on('SIM_FAULT_IGNORE_THROTTLE_DECISIONS'),
    stateInMemory: on('SIM_FAULT_STATE_IN_MEMORY'),
    ackBeforeCommit: on('SIM_FAULT_ACK_BEFORE_COMMIT'),
    propagationDelayMs: Number(env.SIM_FAULT_PROPAGATION_DELAY_MS ?? 0) || 0,
    memoryBallastMb: Number(env.SIM_FAULT_MEMORY_BALLAST_MB ?? 0) || 0,
  };
}

/** Major and minor of a version string such as `WSO2 API Manager-4.7.0`. */
export function productVersion(version: string): { major: number; minor: number } {
  const numbers = /-(\d+)\.(\d+)\.\d+/.exec(version);
  if (!numbers) throw new Error(`version "${version}" names no product version (WSO2 API Manager-<major>.<minor>.<patch>)`);
  return { major: Number(numbers[1]), minor: Number(numbers[2]) };
}

export const SYMMETRIC_PROVIDER = 'org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider';

/**
 * The internal crypto provider as carbon-crypto-service 1.2.3 (kernel 4.11.18, APIM 4.7.0) sets it
 * up: `registered` false means every later internal encrypt or decrypt fails ("has not been
 * registered as a service"); the server itself starts. `log` is what the product logs at start.
 */
export interface InternalCrypto {
  readonly provider: string;
  readonly registered: boolean;
  readonly log?: { readonly level: 'INFO' | 'WARN' | 'ERROR'; readonly message: string };
}

/**
 * `[encryption]` read as 4.7 reads it (docs/products.md, "apim-4.7.0"): the symmetric provider is
 * the default from 4.7.0 on (the distribution's default.json), and needs `key`: 64 or 48 characters
 * are hex-decoded (a non-hex one stops the provider with an ERROR), any other length is the key's
 * bytes, which AES takes at 16, 24 or 32 only. Before 4.7 the asymmetric (keystore) provider is
 * the default and needs no key.
 */
export function internalCryptoFrom(encryption: Record<string, unknown>, version: string): InternalCrypto {
  const { major, minor } = productVersion(version);
  const provider = String(
    encryption.internal_crypto_provider ??
      (major > 4 || (major === 4 && minor >= 7)
        ? SYMMETRIC_PROVIDER
        : 'org.wso2.carbon.crypto.provider.KeyStoreBasedInternalCryptoProvider'),
  );
  if (provider !== SYMMETRIC_PROVIDER)
    return { provider, registered: true, log: { level: 'INFO', message: `internal crypto provider ${provider} (carbon-labs stand-in)` } };
  const key = encryption.key === undefined ? undefined : String(encryption.key);
  if (key === undefined || key === '') {
    return {
      provider,
      registered: false,
      log: {
        level: 'INFO',
        message:
          "'CryptoService.Secret' property has not been set. 'SymmetricKeyInternalCryptoProvider' won't be registered as an internal crypto provider. Please set the secret if the provider needs to be registered.",
      },
    };
  }
  if ((key.length === 64 || key.length === 48) && !/^[0-9a-fA-F]+$/.test(key)) {
    return {
      provider,
      registered: false,
      log: {
        level: 'ERROR',
        message: `[encryption] key: ${key.length} characters but not hex; the symmetric internal crypto provider was not registered`,
      },
    };
  }
  const bytes = key.length === 64 || key.length === 48 ? key.length / 2 : Buffer.byteLength(key);
  if (![16, 24, 32].includes(bytes)) {
    return {
      provider,
      registered: true,
      log: {
        level: 'WARN',
        message: `[encryption] key is ${bytes} bytes; AES takes 16, 24 or 32, so every internal encrypt and decrypt would fail (carbon-labs stand-in; openssl rand -hex 32 makes a valid key)`,
      },
    };
  }
  return {
    provider,
    registered: true,
    log: { level: 'INFO', message: `internal crypto provider ${provider} registered with a ${bytes * 8}-bit key (carbon-labs stand-in)` },
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
  if (!/^\d+$/.test(socketTimeout))
    throw new Error(`JDBC URL "${url}": socketTimeout must be a whole number of ms (got "${socketTimeout}")`);
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
      vhosts: [
        {
          host: https.hostname,
          httpsPort: Number(https.port || 443),
          httpPort: Number(http.port || 80),
          wsPort: e.ws_endpoint ? Number(new URL(String(e.ws_endpoint)).port) : 9099,
          wssPort: e.wss_endpoint ? Number(new URL(String(e.wss_endpoint)).port) : 8099,
        },
      ],
    };
  });
}

/** The first `-D<name>=value` among the arguments. */
function firstProperty(argv: readonly string[], name: string): string | undefined {
  return argv.find((a) => a.startsWith(`-D${name}=`))?.slice(name.length + 3);
}

/** The last `-D<name>=value`: Carbon's launcher sets each argument's property in turn, so the last one stays. */
function lastProperty(argv: readonly string[], name: string): string | undefined {
  return [...argv]
    .reverse()
    .find((a) => a.startsWith(`-D${name}=`))
    ?.slice(name.length + 3);
}

/**
 * The image the node runs as: named by the 4.5 start scripts, first on the command line (so
 * arguments given to the container cannot change it); none is the all-in-one image.
 */
export function distributionFrom(argv: readonly string[]): Distribution {
  const named = firstProperty(argv, DISTRIBUTION_PROPERTY);
  if (named === undefined) return 'all-in-one';
  if (!(named in DISTRIBUTION_ROLES))
    throw new Error(`-D${DISTRIBUTION_PROPERTY}=${named} is not a distribution the stand-in runs: acp, universal-gw or tm`);
  return named as Distribution;
}

/**
 * The node's role. The all-in-one image takes its profile from `-Dprofile` or `PROFILE_NAME`, and
 * the stand-in runs two. A 4.5 distribution is its role: it reads no role variable (its entrypoint
 * refuses `PROFILE_NAME=key-manager` on the ACP and ignores any other value), and has no profile
 * but `default` (the ACP's `key-manager` is not modelled), so `-Dprofile=control-plane` given to
 * a Universal Gateway stops it rather than making it a control plane.
 */
export function profileFrom(argv: readonly string[], env: NodeJS.ProcessEnv): Profile {
  const distribution = distributionFrom(argv);
  if (distribution !== 'all-in-one') {
    const asked = lastProperty(argv, 'profile');
    if (asked === 'key-manager' && distribution === 'acp')
      throw new Error("-Dprofile=key-manager: the stand-in does not model the API Control Plane's key-manager profile");
    if (asked !== undefined && asked !== 'default') {
      throw new Error(
        `-Dprofile=${asked}: the ${distribution} distribution has no such profile (since 4.5.0 each distribution is its role)`,
      );
    }
    return DISTRIBUTION_ROLES[distribution];
  }
  const arg = firstProperty(argv, 'profile') ?? env.PROFILE_NAME ?? 'default';
  if (arg !== 'control-plane' && arg !== 'gateway-worker') {
    throw new Error(`profile "${arg}" is not one the stand-in runs: use PROFILE_NAME=control-plane or gateway-worker`);
  }
  return arg;
}

/** The image's version string; a bundle run outside an image is the 4.3.0 stand-in. */
export const versionFrom = (env: NodeJS.ProcessEnv): string => env.SIM_PRODUCT_VERSION || 'WSO2 API Manager-4.3.0';

/**
 * Worker mode. `[system.parameter]` wins over the start command's `-DworkerNode`: Carbon's
 * launcher sets the command line's properties first and then those of carbon.properties, which it
 * writes from `[system.parameter]` (carbon-kernel 4.9 `Main.addSystemProperties`). That APIM 4.5's
 * kernel keeps this order, so the toml puts a Universal Gateway started with the script's
 * `-DworkerNode=false` in worker mode, is inferred from the kernel's source, not seen on the product.
 */
function workerNodeFrom(t: Table, argv: readonly string[]): boolean {
  const parameter = table(table(t, 'system'), 'parameter').workerNode;
  return String(parameter ?? lastProperty(argv, 'workerNode') ?? 'false') === 'true';
}

export function loadConfig(serverHome: string, profile: Profile, env: NodeJS.ProcessEnv, argv: readonly string[] = []): NodeConfig {
  const file = join(serverHome, 'repository', 'conf', 'deployment.toml');
  const t = parse(readFileSync(file, 'utf8')) as Table;
  const server = table(t, 'server');
  const apim = table(t, 'apim');
  const throttling = table(apim, 'throttling');
  const eventHub = table(apim, 'event_hub');
  const sharedDb = database(t, 'shared_db');
  if (!sharedDb) throw new Error(`${file}: [database.shared_db] is missing; every node needs the shared database`);
  const superAdmin = table(t, 'super_admin');
  const hostname = String(server.hostname ?? 'localhost');
  const proxyPort = Number(table(table(table(t, 'transport'), 'https'), 'properties').proxyPort ?? 9443);
  const publicOrigin = `https://${hostname}:${proxyPort}`;
  const jwksUrl = String(table(table(t, 'oauth'), 'endpoints').oauth2_jwks_url ?? '');
  return {
    profile,
    version: versionFrom(env),
    hostname,
    proxyPort,
    publicOrigin,
    keyManagerServiceUrl: String(table(apim, 'key_manager').service_url ?? 'https://localhost:9443/services/'),
    jwksUrl: jwksUrl.trim() || `${publicOrigin}/oauth2/jwks`,
    nodeName: String(server.node_ip ?? env.HOSTNAME ?? 'node'),
    serverRole: String(server.server_role ?? 'default'),
    superAdmin: { username: String(superAdmin.username ?? 'admin'), password: String(superAdmin.password ?? 'admin') },
    apimDb: database(t, 'apim_db'),
    sharedDb,
    eventHubOrigin: origin(eventHub.service_url) ?? origin(throttling.service_url),
    eventListeningEndpoints: ((eventHub.event_listening_endpoints ?? []) as string[]).map(endpoint),
    throttleDecisionEndpoints: ((throttling.throttle_decision_endpoints ?? []) as string[]).map(endpoint),
    eventDuplicateUrls: ((eventHub.event_duplicate_url ?? []) as string[]).map(endpoint),
    eventPublishUrls: ((table(eventHub, 'publish').url_group ?? []) as Table[]).flatMap((g) => ((g.urls ?? []) as string[]).map(endpoint)),
    throttleReceivers: ((throttling.url_group ?? []) as Table[]).flatMap((g) =>
      ((g.traffic_manager_urls ?? []) as string[]).slice(0, 1).map(endpoint),
    ),
    gatewayLabels: (table(table(apim, 'sync_runtime_artifacts'), 'gateway').gateway_labels ?? ['Default']) as string[],
    gatewayEnvironments: environments(apim),
    workerNode: workerNodeFrom(t, argv),
    truststore: {
      file: join(serverHome, 'repository', 'resources', 'security', String(table(t, 'truststore').file_name ?? 'client-truststore.jks')),
      password: String(table(t, 'truststore').password ?? 'wso2carbon'),
    },
    internalCrypto: internalCryptoFrom(table(t, 'encryption'), versionFrom(env)),
    gatewayNotificationId:
      table(apim, 'gateway_notification').enabled === true
        ? String(table(apim, 'gateway_notification').gateway_id ?? '') || undefined
        : undefined,
    faults: readFaults(env),
  };
}

/**
 * A paced image's boot time for this node's role (its environment, set by `make images PACE=jvm`):
 * a JVM node listens on nothing for that long after each start, then serves. None: the stand-in's own pace.
 */
const BOOT_VARIABLES: Readonly<Record<Profile, string>> = {
  'control-plane': 'SIM_BOOT_SECONDS_MANAGER',
  'gateway-worker': 'SIM_BOOT_SECONDS_WORKER',
  'traffic-manager': 'SIM_BOOT_SECONDS_TRAFFIC_MANAGER',
};

export function bootSecondsOf(profile: Profile, env: NodeJS.ProcessEnv): number {
  const value = env[BOOT_VARIABLES[profile]];
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${BOOT_VARIABLES[profile]}=${value} is not a number of seconds`);
  return n;
}
