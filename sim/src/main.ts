import { createPrivateKey, X509Certificate } from 'crypto';
import { readFileSync } from 'fs';
import type { Pool } from 'mysql2/promise';
import { join } from 'path';
import type { NodeConfig } from './config';
import { bootSecondsOf, distributionFrom, loadConfig, profileFrom } from './config';
import { controlPlane } from './control-plane';
import { addIntegerIds, openDatabase } from './db';
import type { HubEvent } from './eventhub';
import { EventHub, subscribeWithFailover } from './eventhub';
import { Gateway } from './gateway';
import type { Handler, Res } from './http';
import { listen, log, NOT_DEPLOYED, sleep } from './http';
import { suppressedInferences } from './infer';
import { RestApi } from './spec';
import { AckBeforeCommitStore, MemoryApiStore, SqlApiStore } from './store';
import { TokenIssuer } from './tokens';
import { TrustStore } from './trust';
import { UserStore } from './users';
import { withPortals } from './portals';
import { withAdminServices, withVersion } from './admin-services';
import { countThrottleRequests } from './throttling';
import { classicMain } from './classic';
import { LauncherError } from './classic/config';

/** The first argument of the classic product's start script (images/apim-sim/bin/wso2server.sh). */
const CLASSIC_ARG = '-Dcarbon-labs.distribution=classic';

const PORTS = {
  https: 9443,
  http: 9763,
  passthroughHttps: 8243,
  passthroughHttp: 8280,
  webSocket: 9099,
  webSocketSecure: 8099,
  eventHub: 5672,
  eventReceiver: 9611,
};
/** Memory a seeded fault, or the deployed webapps' model, keeps alive for the life of the process. */
const RETAINED: Buffer[] = [];
/**
 * The webapps a control-plane profile deploys and a gateway's leaves out (the publisher,
 * devportal and admin portals and REST APIs, the management console), modelled as this much
 * resident memory held from boot. Without it the stand-in's nodes differ by their heaps' noise
 * only (measured: an idle passive manager 42.6 MB beside a worker under traffic 43.6 MB), and
 * `workers-lighter-than-managers` would judge the V8 garbage collector, not the lab's profiles.
 * The figure is the stand-in's, not the product's (whose JVMs are sized by JVM_MEM_OPTS).
 */
const WEBAPPS_MB = 48;

/** Holds `mb` of resident memory (touched page by page, so it is resident, not only reserved). */
function retain(mb: number): void {
  RETAINED.push(Buffer.alloc(mb * 1024 * 1024, 1));
}

/** A worker with the seeded fault "accepts admin writes": says yes to every write it is sent. */
function acceptingWrites(next: Handler): Handler {
  return async (req): Promise<Res> => {
    const admin = /^\/(client-registration|oauth2|api\/am\/(publisher|devportal|admin))\b/.test(req.path);
    if (admin && req.method !== 'GET') {
      return {
        status: req.path.startsWith('/oauth2') || req.path.startsWith('/client-registration') ? 200 : 201,
        body: {
          id: 'fault-accepted',
          clientId: 'fault',
          clientSecret: 'fault',
          access_token: 'fault',
          token_type: 'Bearer',
          expires_in: 3600,
        },
      };
    }
    return next(req);
  };
}

/** WSO2AM_DB as the control plane and the traffic manager open it. */
async function openApimDb(config: NodeConfig, sharedDb: Pool, home: string): Promise<Pool> {
  if (config.apimDb) {
    const pool = await openDatabase('WSO2AM_DB', config.apimDb);
    await addIntegerIds(pool);
    return pool;
  }
  // The product falls back to its embedded database, local to this node; so does the stand-in.
  log('WARN', 'DataSource', 'no [database.apim_db]: API Manager data goes to a database local to this node');
  const ddl = readFileSync(join(home, 'dbscripts', 'apimgt', 'mysql.sql'), 'utf8')
    .split('\n')
    .filter((line) => !line.trim().startsWith('--'))
    .join('\n')
    .split(';')
    .filter((statement) => /CREATE/i.test(statement));
  for (const statement of ddl) await sharedDb.query(statement);
  return sharedDb;
}

const urls = (endpoints: readonly { host: string; port: number }[]) =>
  endpoints.map((e) => `tcp://${e.host}:${e.port}`).join(', ') || 'nowhere';

/**
 * A Traffic Manager (the 4.5+ `wso2am-tm` distribution): its broker (5672), where gateways take
 * throttle decisions, and its receiver (9611), where they publish throttle events; it hears the
 * control planes' events on `event_listening_endpoints`. It counts the gateways' request events
 * against subscription and application policies and publishes throttle decisions; it has no REST API or portal (404).
 */
async function trafficManager(
  config: NodeConfig,
  home: string,
  sharedDb: Pool,
  users: UserStore,
  tls: { key: string; cert: string },
): Promise<void> {
  const apimDb = await openApimDb(config, sharedDb, home);
  const hub = new EventHub(config.nodeName, []);
  countThrottleRequests(hub, apimDb);
  await hub.listen(PORTS.eventHub, PORTS.eventReceiver);
  const handler = withVersion(
    config.version,
    withAdminServices({ workerNode: config.workerNode, users }, async () => NOT_DEPLOYED),
  );
  await listen(handler, PORTS.https, tls);
  await listen(handler, PORTS.http);
  subscribeWithFailover(config.nodeName, config.eventListeningEndpoints, () => undefined, {
    role: 'traffic-manager',
    source: 'event_listening_endpoints',
  });
  log(
    'INFO',
    'StartupFinalizerServiceComponent',
    `Server ready: traffic manager, throttle decision broker on ${PORTS.eventHub}, throttle event receiver on ${PORTS.eventReceiver} (subscription and application policies counted); control plane events from ${urls(config.eventListeningEndpoints)}`,
  );
}

async function main(): Promise<void> {
  const home = process.env.WSO2_SERVER_HOME ?? '/home/wso2carbon/wso2am-4.3.0';
  const argv = process.argv.slice(2);
  // The classic product's wso2server.sh names itself first: a Carbon 4.4 node, not a 4.x one.
  if (argv[0] === CLASSIC_ARG) {
    const security = join(home, 'repository', 'resources', 'security');
    const tls = { key: readFileSync(join(security, 'server.key'), 'utf8'), cert: readFileSync(join(security, 'server.crt'), 'utf8') };
    return classicMain(home, argv.slice(1), process.env.SIM_PRODUCT_VERSION ?? 'WSO2 API Manager-2.6.0', tls);
  }
  const profile = profileFrom(argv, process.env);
  const boot = bootSecondsOf(profile, process.env);
  if (boot) {
    // A JVM's start: the OSGi framework, the datasources, the webapps; no port answers meanwhile.
    log('INFO', 'CarbonServerManager', `Starting WSO2 Carbon (carbon-labs stand-in at a JVM's pace: ${boot} s before anything listens)`);
    await sleep(boot * 1000);
  }
  const config = loadConfig(home, profile, process.env, argv);
  const security = join(home, 'repository', 'resources', 'security');
  // The image's key and certificate, the same on every node of the image (as the stock
  // wso2carbon.jks): its TLS, and the key that signs the tokens a control plane issues.
  const tls = { key: readFileSync(join(security, 'server.key'), 'utf8'), cert: readFileSync(join(security, 'server.crt'), 'utf8') };
  const distribution = distributionFrom(argv);
  log(
    'INFO',
    'CarbonServerManager',
    `Starting ${config.version} (carbon-labs stand-in${distribution === 'all-in-one' ? '' : `, ${distribution} distribution`}) node ${config.nodeName}, profile ${profile}, server_role ${config.serverRole}${config.workerNode ? ', worker node (admin services refused)' : ''}`,
  );
  const suppressed = suppressedInferences(config.version, distribution, config.serverRole);
  if (suppressed) log('WARN', 'ConfigParser', suppressed);
  if (config.internalCrypto.log) log(config.internalCrypto.log.level, 'DefaultCryptoProviderComponent', config.internalCrypto.log.message);
  const faults = Object.entries(config.faults).filter(([, v]) => v);
  if (faults.length) log('WARN', 'CarbonServerManager', `seeded faults on: ${faults.map(([k, v]) => `${k}=${v}`).join(', ')}`);

  if (config.faults.memoryBallastMb) {
    retain(config.faults.memoryBallastMb);
    log('WARN', 'CarbonServerManager', `holding ${config.faults.memoryBallastMb} MB of ballast`);
  }

  // Read at startup like the product's truststore: unreadable or a wrong password stops the node.
  const trust = new TrustStore(config.truststore.file, config.truststore.password);
  log('INFO', 'CarbonServerManager', `client truststore ${trust.describe()}`);

  const sharedDb = await openDatabase('WSO2_SHARED_DB', config.sharedDb);
  const users = new UserStore(sharedDb);
  // create_admin_account = true: a node's realm adds the super admin to a user store without it.
  await users.add(config.superAdmin.username, config.superAdmin.password);

  if (profile === 'traffic-manager') return trafficManager(config, home, sharedDb, users, tls);

  if (profile === 'control-plane') {
    retain(WEBAPPS_MB);
    log(
      'INFO',
      'TomcatGenericWebappsDeployer',
      `Deployed webapps: publisher, devportal, admin, api#am#publisher, api#am#devportal, api#am#admin, carbon (the stand-in holds ${WEBAPPS_MB} MB for them)`,
    );
    const apimDb = await openApimDb(config, sharedDb, home);
    const tokens = new TokenIssuer(createPrivateKey(tls.key), new X509Certificate(tls.cert), `${config.publicOrigin}/oauth2/token`);
    const specs = join(home, 'repository', 'resources', 'api-definitions', 'openapi');
    const hub = new EventHub(config.nodeName, config.eventPublishUrls);
    countThrottleRequests(hub, apimDb);
    await hub.listen(PORTS.eventHub, PORTS.eventReceiver);
    const handler = withVersion(
      config.version,
      withAdminServices(
        { workerNode: config.workerNode, users },
        withPortals(
          config,
          controlPlane({
            config,
            apimDb,
            users,
            trust,
            hub,
            tokens,
            apis: config.faults.stateInMemory
              ? new MemoryApiStore()
              : config.faults.ackBeforeCommit
                ? new AckBeforeCommitStore(apimDb)
                : new SqlApiStore(apimDb),
            publisher: new RestApi(join(specs, 'publisher-api.yaml'), '/api/am/publisher/v4'),
            devportal: new RestApi(join(specs, 'devportal-api.yaml'), '/api/am/devportal/v3'),
            admin: new RestApi(join(specs, 'admin-api.yaml'), '/api/am/admin/v4'),
          }),
        ),
      ),
    );
    await listen(handler, PORTS.https, tls);
    await listen(handler, PORTS.http);
    log(
      'INFO',
      'StartupFinalizerServiceComponent',
      `Server ready: ${config.publicOrigin}/publisher (event hub broker on ${PORTS.eventHub}, receiver on ${PORTS.eventReceiver})`,
    );
    return;
  }

  const gateway = new Gateway(config, trust);
  let servlet = withVersion(config.version, withAdminServices({ workerNode: config.workerNode, users }, gateway.servlet(users)));
  if (config.faults.workerAcceptsWrites) servlet = acceptingWrites(servlet);
  await listen(servlet, PORTS.https, tls);
  await listen(servlet, PORTS.http);
  await listen(gateway.passthrough(), PORTS.passthroughHttps, tls);
  await listen(gateway.passthrough(), PORTS.passthroughHttp);
  const upgrade = gateway.webSocketUpgrade();
  (await listen(gateway.webSocketPlain(), PORTS.webSocket)).on('upgrade', upgrade);
  (await listen(gateway.webSocketPlain(), PORTS.webSocketSecure, tls)).on('upgrade', upgrade);
  const onEvent = (e: HubEvent) => void gateway.onEvent(e);
  if (config.eventListeningEndpoints.length) {
    // The 4.5 layout: events from the control planes' brokers, throttle decisions from the
    // traffic managers' (a connection of its own, which carries only those).
    subscribeWithFailover(config.nodeName, config.eventListeningEndpoints, onEvent, { source: 'event_listening_endpoints' });
    subscribeWithFailover(
      config.nodeName,
      config.throttleDecisionEndpoints,
      (e) => {
        if (e.type === 'THROTTLE_DECISION') onEvent(e);
      },
      { broker: 'traffic manager', heard: 'throttle decision' },
    );
  } else {
    // The 4.3 layout: the control planes' brokers are the throttle decision endpoints.
    subscribeWithFailover(config.nodeName, config.throttleDecisionEndpoints, onEvent);
  }
  log(
    'INFO',
    'StartupFinalizerServiceComponent',
    `Gateway listening on ${PORTS.passthroughHttps}/${PORTS.passthroughHttp}, WebSocket ${PORTS.webSocket}/${PORTS.webSocketSecure}; pulling artifacts and key managers from ${config.eventHubOrigin}${config.gatewayNotificationId ? `; gateway notifications on, as ${config.gatewayNotificationId} (heartbeats not modelled)` : ''}`,
  );
  // Both pulls start with the server, apart: a gateway turns healthy on its artifacts (and its subscription data) alone.
  void gateway.loadKeyManagers();
  void gateway.loadRevokedTokens();
  await gateway.startupSync();
}

main().catch((err) => {
  if (err instanceof LauncherError) {
    log('FATAL', 'org.wso2.carbon.server.Main', err.message);
    console.error(`Exception in thread "main" java.lang.RuntimeException: ${err.profile} profile not found`);
  } else {
    log('ERROR', 'CarbonServerManager', `startup failed: ${(err as Error).stack ?? err}`);
  }
  process.exit(1);
});

// In a 4.3 or 4.5 image the entrypoint shell is PID 1 and never passes SIGTERM on (as the
// product's); a 4.7 image's entrypoint runs `<script>.sh stop`, which sends it here, as does a
// direct run (tests, `node sim.js`): the stand-in stops on SIGTERM/SIGINT.
// At a JVM's pace the shutdown takes what Carbon's hook takes idle (SIM_STOP_SECONDS of a paced image).
const stopSeconds = Number(process.env.SIM_STOP_SECONDS ?? 0) || 0;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    log('INFO', 'CarbonServerManager', `${signal} received: shutting down`);
    if (!stopSeconds) process.exit(0);
    log(
      'INFO',
      'CarbonServerManager',
      'Shutdown hook triggered.... Gracefully shutting down (stopping transports, waiting for requests in flight)',
    );
    setTimeout(() => {
      log('INFO', 'CarbonServerManager', 'Shutdown complete; Halting JVM');
      process.exit(0);
    }, stopSeconds * 1000);
  });
}
