import { spawn, spawnSync } from 'child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { buildLab } from '../../generator/patterns';
import { portalPort } from '../../generator/model/lab';
import { sim, simApim450, simApim470 } from '../../generator/products/sim';
import { renderLab } from '../../generator/render';
import { runtimeOf } from '../../generator/products/product';
import { simImages } from '../../generator/runtime/images';
import {
  distributionFrom,
  internalCryptoFrom,
  loadConfig,
  parseJdbcUrl,
  profileFrom,
  readFaults,
  SYMMETRIC_PROVIDER,
} from '../../sim/src/config';
import type { Distribution } from '../../sim/src/config';
import { suppressedInferences } from '../../sim/src/infer';
import { availableTransitions, LIFECYCLE, LifecycleState, stateName, transition } from '../../sim/src/control-plane/lifecycle';
import { apiInfo, applicationOf, notFound, paginated, revisionsOf, subscriptionOf } from '../../sim/src/control-plane/views';
import { withPortals } from '../../sim/src/portals';
import { RestApi } from '../../sim/src/spec';
import { TrustStore } from '../../sim/src/trust';
import { PROJECT_ROOT } from '../../generator/paths';
import type { Req } from '../../sim/src/http';
import { tempDir } from '../support/labs';
import { retryUntil } from '../../generator/runtime/retry';
import { describeWithTool } from '../support/tools';
import {
  applicationThrottleKey,
  enforcedPolicies,
  subscriptionThrottleKey,
  ThrottleCounter,
  ThrottleDecisions,
  throttledRequestOf,
} from '../../sim/src/throttling';
import type { HubEvent } from '../../sim/src/eventhub';
import { SubscriptionData } from '../../sim/src/subscription-data';
import type { StoredApplication } from '../../sim/src/subscription-data';

/** The pure parts of the stand-in: what it reads from a lab's files, routes, tokens, redirects. */
const lab = buildLab(2, { product: sim });
const files = renderLab(lab);
const port = portalPort(lab);
const origin = `https://localhost:${port}`;

/** A product home holding one node's generated deployment.toml, as the entrypoint's overlay leaves it. */
function home(node: string, from = files): string {
  const dir = tempDir('carbon-labs-home-');
  const toml = from.find((f) => f.path === `nodes/${node}/repository/conf/deployment.toml`)!.content;
  mkdirSync(join(dir, 'repository', 'conf'), { recursive: true });
  writeFileSync(join(dir, 'repository', 'conf', 'deployment.toml'), toml);
  return dir;
}

describe('what the stand-in reads from a generated deployment.toml', () => {
  test('a manager: databases, hostname and proxyPort, url_group receivers, not a worker node', () => {
    const c = loadConfig(home('manager-1'), 'control-plane', {});
    expect({ host: c.apimDb?.host, db: c.apimDb?.database, shared: c.sharedDb.database }).toEqual({
      host: 'db',
      db: 'WSO2AM_DB',
      shared: 'WSO2_SHARED_DB',
    });
    expect({ hostname: c.hostname, proxyPort: c.proxyPort, workerNode: c.workerNode }).toEqual({
      hostname: 'localhost',
      proxyPort: port,
      workerNode: false,
    });
    expect(c.eventPublishUrls).toEqual([
      { host: 'manager-1', port: 9611 },
      { host: 'manager-2', port: 9611 },
    ]);
    expect(c.truststore).toEqual({
      file: expect.stringMatching(/repository\/resources\/security\/client-truststore\.jks$/),
      password: 'wso2carbon',
    });
  });

  test("a worker: no apim_db, the passive manager's broker first, pulls from the throttling service_url, worker mode on", () => {
    const c = loadConfig(home('worker-1'), 'gateway-worker', {});
    expect(c.apimDb).toBeUndefined();
    expect(c.throttleDecisionEndpoints).toEqual([
      { host: 'manager-2', port: 5672 },
      { host: 'manager-1', port: 5672 },
    ]);
    expect({ origin: c.eventHubOrigin, workerNode: c.workerNode, labels: c.gatewayLabels }).toEqual({
      origin: 'https://lb-manager:9443',
      workerNode: true,
      labels: ['Default'],
    });
  });

  test('a 4.3 worker hears events on throttle_decision_endpoints: it has no event_listening_endpoints', () => {
    expect(loadConfig(home('worker-1'), 'gateway-worker', {}).eventListeningEndpoints).toEqual([]);
  });

  test("the version string is the image's (SIM_PRODUCT_VERSION); a bundle outside an image is 4.3.0", () => {
    expect(loadConfig(home('manager-1'), 'control-plane', {}).version).toBe('WSO2 API Manager-4.3.0');
    expect(loadConfig(home('manager-1'), 'control-plane', { SIM_PRODUCT_VERSION: 'WSO2 API Manager-4.5.0' }).version).toBe(
      'WSO2 API Manager-4.5.0',
    );
  });

  test('JDBC URLs as the lab writes them (with &amp;), and a clear error otherwise', () => {
    expect(parseJdbcUrl('jdbc:mysql://db:3306/WSO2AM_DB?useSSL=false&amp;autoReconnect=true')).toEqual({
      host: 'db',
      port: 3306,
      database: 'WSO2AM_DB',
      socketTimeoutMs: 0,
    });
    expect(parseJdbcUrl('jdbc:mysql://db-2/X')).toEqual({ host: 'db-2', port: 3306, database: 'X', socketTimeoutMs: 0 });
    expect(parseJdbcUrl('jdbc:mysql://db/X?useSSL=false&amp;socketTimeout=500').socketTimeoutMs).toBe(500);
    expect(() => parseJdbcUrl('jdbc:mysql://db/X?socketTimeout=half')).toThrow(/socketTimeout must be a whole number/);
    expect(() => parseJdbcUrl('jdbc:h2:./repository/database/WSO2AM_DB')).toThrow(/expected jdbc:mysql/);
  });

  test('the profile from -Dprofile or PROFILE_NAME; any other profile is refused', () => {
    expect(profileFrom(['-Dprofile=gateway-worker'], { PROFILE_NAME: 'control-plane' })).toBe('gateway-worker');
    expect(profileFrom([], { PROFILE_NAME: 'control-plane' })).toBe('control-plane');
    expect(() => profileFrom([], {})).toThrow(/profile "default"/);
  });

  test('seeded faults are off unless set', () => {
    expect(readFaults({})).toEqual({
      workerAcceptsWrites: false,
      ignoreDeployEvents: false,
      ignoreSubscriptionEvents: false,
      ignoreRevocationEvents: false,
      ignoreRemoveEvents: false,
      keepDefaultVersion: false,
      ignoreThrottleDecisions: false,
      stateInMemory: false,
      ackBeforeCommit: false,
      propagationDelayMs: 0,
      memoryBallastMb: 0,
    });
    expect(
      readFaults({
        SIM_FAULT_WORKER_ACCEPTS_WRITES: 'yes',
        SIM_FAULT_PROPAGATION_DELAY_MS: '3500',
        SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS: 'true',
      }),
    ).toMatchObject({ workerAcceptsWrites: true, ignoreSubscriptionEvents: true, propagationDelayMs: 3500 });
  });
});

describe("what the stand-in reads from a 4.5 lab's deployment.toml (ACP, Universal Gateway, Traffic Manager)", () => {
  const files45 = renderLab(buildLab(3, { product: simApim450 }));
  /** The arguments bin/gateway.sh starts the stand-in with. */
  const gatewayScript = ['-Dcarbon-labs.distribution=universal-gw', '-DworkerNode=false'];

  test("a gateway: events from the control planes' brokers (passive first), throttle decisions from the traffic managers", () => {
    const c = loadConfig(home('worker-1', files45), 'gateway-worker', {}, gatewayScript);
    expect(c.eventListeningEndpoints).toEqual([
      { host: 'manager-2', port: 5672 },
      { host: 'manager-1', port: 5672 },
    ]);
    expect(c.throttleDecisionEndpoints).toEqual([
      { host: 'traffic-manager-1', port: 5672 },
      { host: 'traffic-manager-2', port: 5672 },
    ]);
    expect({ origin: c.eventHubOrigin, apimDb: c.apimDb }).toEqual({ origin: 'https://lb-manager:9443', apimDb: undefined });
  });

  test('[system.parameter] workerNode = "true" wins over the start script\'s -DworkerNode=false; without it the script\'s value holds', () => {
    expect(loadConfig(home('worker-1', files45), 'gateway-worker', {}, gatewayScript).workerNode).toBe(true);
    expect(loadConfig(home('manager-1', files45), 'control-plane', {}, ['-DworkerNode=false']).workerNode).toBe(false);
    expect(loadConfig(home('manager-1', files45), 'control-plane', {}, ['-DworkerNode=false', '-DworkerNode=true']).workerNode).toBe(true);
  });

  test("a traffic manager: both databases, the control planes' brokers, its own broker for decisions", () => {
    const c = loadConfig(home('traffic-manager-1', files45), 'traffic-manager', {}, [
      '-Dcarbon-labs.distribution=tm',
      '-DworkerNode=false',
    ]);
    expect({ apim: c.apimDb?.database, shared: c.sharedDb.database, workerNode: c.workerNode }).toEqual({
      apim: 'WSO2AM_DB',
      shared: 'WSO2_SHARED_DB',
      workerNode: false,
    });
    expect(c.eventListeningEndpoints).toEqual([
      { host: 'manager-2', port: 5672 },
      { host: 'manager-1', port: 5672 },
    ]);
    expect(c.throttleDecisionEndpoints).toEqual([{ host: 'localhost', port: 5672 }]);
  });

  test("a control plane publishes to every control plane's receiver", () => {
    expect(loadConfig(home('manager-1', files45), 'control-plane', {}).eventPublishUrls).toEqual([
      { host: 'manager-1', port: 9611 },
      { host: 'manager-2', port: 9611 },
    ]);
  });
});

describe("server_role as each image's infer.json reads it", () => {
  const v45 = 'WSO2 API Manager-4.5.0';
  const v47 = 'WSO2 API Manager-4.7.0';

  test('"default" on a 4.5 or 4.7 distribution, a 4.3 profile on the all-in-one image: nothing to say', () => {
    for (const version of [v45, v47])
      for (const d of ['acp', 'universal-gw', 'tm'] as const) expect(suppressedInferences(version, d, 'default')).toBeUndefined();
    for (const role of ['control-plane', 'gateway-worker'])
      expect(suppressedInferences('WSO2 API Manager-4.3.0', 'all-in-one', role)).toBeUndefined();
  });

  test('helm\'s gateway-worker on a Universal Gateway loses the settings of "default" (api-manager#5095); 4.7 also the certificate manager\'s', () => {
    const said = suppressedInferences(v45, 'universal-gw', 'gateway-worker')!;
    expect(said).toMatch(/^server_role "gateway-worker" is not in infer\.json's server\.server_role \(it maps "default"\)/);
    for (const lost of [
      'apim.throttling.enable_policy_deploy = false',
      'indexing.enable = false',
      'apim.key_manager.enable_registration = false',
    ])
      expect(said).toContain(lost);
    expect(said).not.toContain('certificate_manager');
    expect(suppressedInferences(v47, 'universal-gw', 'gateway-worker')).toContain('apim.certificate_manager.events_enabled = false');
  });

  test("helm's traffic-manager on a Traffic Manager: its throttle publisher, decision listener and key manager retriever are no longer off", () => {
    expect(suppressedInferences(v47, 'tm', 'traffic-manager')).toEqual(
      expect.stringContaining(
        'apim.key_manager.enable_retriever = false, apim.throttling.enable_policy_deploy = false, apim.throttling.enable_data_publishing = false, apim.throttling.enable_decision_connection = false',
      ),
    );
  });

  test('every stand-in lab writes a server_role its image maps: no node of them logs the warning', () => {
    for (const product of [sim, simApim450, simApim470]) {
      for (const role of ['manager', 'worker', 'traffic-manager'] as const) {
        const runtime = product.roles[role];
        if (runtime)
          expect({
            product: product.id,
            role,
            said: suppressedInferences(product.version, runtime.distribution as Distribution, runtime.serverRole),
          }).toEqual({ product: product.id, role, said: undefined });
      }
    }
  });
});

describe('the internal encryption a stand-in node sets up, as carbon-crypto-service 1.2.3 does (APIM 4.7.0)', () => {
  const v47 = 'WSO2 API Manager-4.7.0';
  const hex64 = 'ab'.repeat(32);

  test("every node of a 4.7 lab registers the symmetric provider with the lab's 256-bit key; its gateways name themselves for notifications", () => {
    const lab = buildLab(3, { product: simApim470 });
    const files47 = renderLab(lab);
    const profiles = { manager: 'control-plane', worker: 'gateway-worker', 'traffic-manager': 'traffic-manager' } as const;
    expect(lab.nodes.length).toBe(6);
    for (const { name, role } of lab.nodes) {
      const c = loadConfig(home(name, files47), profiles[role], { SIM_PRODUCT_VERSION: v47 });
      expect({ name, crypto: c.internalCrypto }).toEqual({
        name,
        crypto: {
          provider: SYMMETRIC_PROVIDER,
          registered: true,
          log: expect.objectContaining({ level: 'INFO', message: expect.stringContaining('registered with a 256-bit key') }),
        },
      });
      expect(c.gatewayNotificationId).toBe(role === 'worker' ? name : undefined);
    }
  });

  test('4.7 with no key: the server starts, the provider is not registered (INFO), so every later internal encrypt fails', () => {
    expect(internalCryptoFrom({}, v47)).toEqual({
      provider: SYMMETRIC_PROVIDER,
      registered: false,
      log: expect.objectContaining({ level: 'INFO', message: expect.stringContaining("'CryptoService.Secret' property has not been set") }),
    });
  });

  test('a 64- or 48-character key must be hex (ERROR, not registered); another length is raw bytes, and AES takes 16, 24 or 32', () => {
    expect(internalCryptoFrom({ key: hex64 }, v47)).toMatchObject({
      provider: SYMMETRIC_PROVIDER,
      registered: true,
      log: { level: 'INFO' },
    });
    expect(internalCryptoFrom({ key: 'cd'.repeat(24) }, v47).registered).toBe(true);
    expect(internalCryptoFrom({ key: 'z'.repeat(64) }, v47)).toMatchObject({ registered: false, log: { level: 'ERROR' } });
    expect(internalCryptoFrom({ key: 'sixteen-bytes-ok' }, v47)).toMatchObject({
      registered: true,
      log: { level: 'INFO', message: expect.stringContaining('128-bit') },
    });
    expect(internalCryptoFrom({ key: 'too-short' }, v47)).toMatchObject({
      registered: true,
      log: { level: 'WARN', message: expect.stringContaining('9 bytes') },
    });
  });

  test('before 4.7 the keystore-based provider is the default and needs no key; a named symmetric one still does', () => {
    expect(internalCryptoFrom({}, 'WSO2 API Manager-4.5.0')).toMatchObject({
      provider: 'org.wso2.carbon.crypto.provider.KeyStoreBasedInternalCryptoProvider',
      registered: true,
    });
    expect(internalCryptoFrom({ internal_crypto_provider: SYMMETRIC_PROVIDER }, 'WSO2 API Manager-4.5.0').registered).toBe(false);
    // A later version keeps 4.7's default; a version string naming none is refused, not taken as 4.3.
    expect(internalCryptoFrom({}, 'WSO2 API Manager-4.7.0.1').registered).toBe(false);
    expect(() => internalCryptoFrom({}, 'WSO2 API Manager')).toThrow(/names no product version/);
  });

  test('the 4.7 stand-in images stop the server on SIGTERM; the 4.3 and 4.5 ones do not', () => {
    expect(simImages(simApim470).map((i) => i.args.WSO2_STOP_ON_TERM)).toEqual(['true', 'true', 'true']);
    expect([...simImages(simApim450), ...simImages(sim)].map((i) => i.args.WSO2_STOP_ON_TERM)).toEqual([
      'false',
      'false',
      'false',
      'false',
    ]);
  });
});

describe('which role a stand-in image runs', () => {
  test('a 4.5 distribution is its role, whatever PROFILE_NAME says', () => {
    expect(profileFrom(['-Dcarbon-labs.distribution=acp'], { PROFILE_NAME: 'gateway-worker' })).toBe('control-plane');
    expect(profileFrom(['-Dcarbon-labs.distribution=universal-gw'], { PROFILE_NAME: 'control-plane' })).toBe('gateway-worker');
    expect(profileFrom(['-Dcarbon-labs.distribution=tm'], {})).toBe('traffic-manager');
  });

  test('arguments given to the container cannot change a distribution; it has no profile but default', () => {
    expect(profileFrom(['-Dcarbon-labs.distribution=universal-gw', '-Dcarbon-labs.distribution=acp'], {})).toBe('gateway-worker');
    expect(profileFrom(['-Dcarbon-labs.distribution=universal-gw', '-Dprofile=default'], {})).toBe('gateway-worker');
    expect(() => profileFrom(['-Dcarbon-labs.distribution=universal-gw', '-Dprofile=control-plane'], {})).toThrow(
      /universal-gw distribution has no such profile/,
    );
    expect(() => profileFrom(['-Dcarbon-labs.distribution=acp', '-Dprofile=key-manager'], {})).toThrow(/key-manager/);
    expect(() => distributionFrom(['-Dcarbon-labs.distribution=wso2am'])).toThrow(/acp, universal-gw or tm/);
  });

  test('the all-in-one image runs the two profiles of the 4.3 stand-in only', () => {
    expect(distributionFrom(['-Dprofile=control-plane'])).toBe('all-in-one');
    expect(() => profileFrom([], { PROFILE_NAME: 'traffic-manager' })).toThrow(/profile "traffic-manager"/);
  });
});

describe('the stand-in images a product needs', () => {
  const home = (args: Readonly<Record<string, string>>) => `/home/wso2carbon/${args.WSO2_SERVER_NAME}-${args.WSO2_SERVER_VERSION}`;

  test('the 4.3 stand-in: one all-in-one image in the wso2am home', () => {
    expect(simImages(sim)).toEqual([
      {
        tag: 'carbon-labs/apim-sim:4.3.0',
        args: {
          WSO2_SERVER_NAME: 'wso2am',
          WSO2_SERVER_VERSION: '4.3.0',
          WSO2_DISTRIBUTION: 'all-in-one',
          WSO2_PRODUCT_VERSION: 'WSO2 API Manager-4.3.0',
          WSO2_STOP_ON_TERM: 'false',
        },
      },
    ]);
  });

  test("the 4.5 stand-in: an image per distribution, each in its role's home, answering the 4.5.0 version", () => {
    const images = simImages(simApim450);
    expect(images.map((i) => [i.tag, i.args.WSO2_DISTRIBUTION, i.args.WSO2_PRODUCT_VERSION])).toEqual([
      ['carbon-labs/apim-sim-acp:4.5.0', 'acp', 'WSO2 API Manager-4.5.0'],
      ['carbon-labs/apim-sim-universal-gw:4.5.0', 'universal-gw', 'WSO2 API Manager-4.5.0'],
      ['carbon-labs/apim-sim-tm:4.5.0', 'tm', 'WSO2 API Manager-4.5.0'],
    ]);
    for (const [i, role] of (['manager', 'worker', 'traffic-manager'] as const).entries())
      expect(home(images[i].args)).toBe(runtimeOf(simApim450, role).home);
  });
});

/**
 * images/apim-sim's entrypoint and start script run with `sh`, with the distribution written in as
 * the Dockerfile writes it and a `node` that prints what it was started with.
 */
describe("the stand-in image's entrypoint and start scripts", () => {
  const source = join(PROJECT_ROOT, 'images', 'apim-sim');
  const SCRIPTS = { acp: 'api-cp.sh', 'universal-gw': 'gateway.sh', tm: 'traffic-manager.sh' } as const;

  function start(distribution: 'all-in-one' | keyof typeof SCRIPTS, env: Record<string, string> = {}, args: string[] = []) {
    const dir = tempDir('carbon-labs-image-');
    const serverHome = join(dir, 'home');
    mkdirSync(join(serverHome, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'path'));
    const entrypoint = join(dir, 'docker-entrypoint.sh');
    const script = readFileSync(join(source, 'docker-entrypoint.sh'), 'utf8');
    writeFileSync(entrypoint, script.replace(/^distribution=all-in-one$/m, `distribution=${distribution}`));
    if (distribution !== 'all-in-one') copyFileSync(join(source, 'bin', 'start-server.sh'), join(serverHome, 'bin', SCRIPTS[distribution]));
    writeFileSync(join(dir, 'path', 'node'), '#!/bin/sh\necho "$@"\n');
    chmodSync(join(dir, 'path', 'node'), 0o755);
    const r = spawnSync('sh', [entrypoint, ...args], {
      encoding: 'utf8',
      env: { PATH: `${join(dir, 'path')}:/usr/bin:/bin`, WSO2_SERVER_HOME: serverHome, ...env },
    });
    const argv = r.stdout
      .trim()
      .split(' ')
      .filter((a) => a.startsWith('-D'));
    return { status: r.status, stderr: r.stderr.trim(), argv, sim: r.stdout.includes(`${serverHome}/bin/sim.js`) };
  }

  test('each distribution runs its own start script, which starts the stand-in as that distribution with -DworkerNode=false', () => {
    for (const [distribution, role] of [
      ['acp', 'control-plane'],
      ['universal-gw', 'gateway-worker'],
      ['tm', 'traffic-manager'],
    ] as const) {
      const run = start(distribution, { PROFILE_NAME: 'control-plane' }, ['-Dsome=arg']);
      expect({ status: run.status, sim: run.sim, argv: run.argv }).toEqual({
        status: 0,
        sim: true,
        argv: [`-Dcarbon-labs.distribution=${distribution}`, '-DworkerNode=false', '-Dsome=arg'],
      });
      expect(profileFrom(run.argv, { PROFILE_NAME: 'control-plane' })).toBe(role);
    }
  });

  test('the ACP refuses PROFILE_NAME=key-manager with one line and a non-zero exit; the gateway ignores it', () => {
    const refused = start('acp', { PROFILE_NAME: 'key-manager' });
    expect({ status: refused.status, lines: refused.stderr.split('\n').length, sim: refused.sim }).toEqual({
      status: 1,
      lines: 1,
      sim: false,
    });
    expect(refused.stderr).toMatch(/PROFILE_NAME=key-manager: the carbon-labs stand-in does not model/);
    expect(start('universal-gw', { PROFILE_NAME: 'key-manager' }).status).toBe(0);
  });

  /**
   * A 4.7 image (stop_on_term=true, as its Dockerfile writes it) running a `node` that exits with
   * `exitCode` on SIGTERM, sent to the entrypoint once the server started; or, with `signal` false,
   * by itself as soon as it started.
   */
  async function stopOnTerm(exitCode: number, signal = true): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const dir = tempDir('carbon-labs-image-');
    const serverHome = join(dir, 'home');
    mkdirSync(join(serverHome, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'path'));
    const entrypoint = join(dir, 'docker-entrypoint.sh');
    writeFileSync(
      entrypoint,
      readFileSync(join(source, 'docker-entrypoint.sh'), 'utf8')
        .replace(/^distribution=all-in-one$/m, 'distribution=universal-gw')
        .replace(/^stop_on_term=false$/m, 'stop_on_term=true'),
    );
    copyFileSync(join(source, 'bin', 'start-server.sh'), join(serverHome, 'bin', 'gateway.sh'));
    const ends = signal ? 'while :; do sleep 0.05; done' : `exit ${exitCode}`;
    writeFileSync(join(dir, 'path', 'node'), `#!/bin/sh\ntrap 'echo "node: TERM"; exit ${exitCode}' TERM\necho "node: started"\n${ends}\n`);
    chmodSync(join(dir, 'path', 'node'), 0o755);
    const child = spawn('sh', [entrypoint], { env: { PATH: `${join(dir, 'path')}:/usr/bin:/bin`, WSO2_SERVER_HOME: serverHome } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const ended = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    if (signal) {
      await retryUntil(async () => stdout.includes('node: started') || undefined, {
        timeoutMs: 5_000,
        intervalMs: 20,
        what: 'the fake server to start',
      });
      child.kill('SIGTERM');
    }
    return { status: await ended, stdout, stderr };
  }

  test("a 4.7 image's entrypoint traps SIGTERM, runs `gateway.sh stop` (SIGTERM to the pid file's server), waits, and leaves with 0 whatever the server's status", async () => {
    const stopped = await stopOnTerm(0);
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toMatch(/gateway\.sh stop: SIGTERM to the server \(pid \d+\)\nnode: TERM/);
    expect(stopped.stderr).toContain('Stopping WSO2 gracefully...');
    // docker-apim v4.7.0.1's stop_handler ends with `exit 0`: a server that fails its stop is not seen.
    const failed = await stopOnTerm(3);
    expect({ status: failed.status, stoppedTheServer: failed.stdout.includes('node: TERM') }).toEqual({
      status: 0,
      stoppedTheServer: true,
    });
  });

  test("a 4.7 image's server that ends on its own leaves the entrypoint with its status (the last `wait`)", async () => {
    expect((await stopOnTerm(3, false)).status).toBe(3);
    expect((await stopOnTerm(0, false)).status).toBe(0);
  });

  test('the all-in-one image starts the profile PROFILE_NAME names, as the 4.3 stand-in always did', () => {
    expect(start('all-in-one', { PROFILE_NAME: 'gateway-worker' }).argv).toEqual(['-Dprofile=gateway-worker']);
    expect(start('all-in-one').argv).toEqual([]);
  });
});

describe('routes of the official OpenAPI files', () => {
  const publisher = new RestApi(join(PROJECT_ROOT, 'spec/apim-4.3.0/openapi/publisher-api.yaml'), '/api/am/publisher/v4');

  test('a literal path wins over a templated one, with the scopes of the operation', () => {
    const m = publisher.match('POST', '/api/am/publisher/v4/apis/change-lifecycle');
    expect(m?.operation.template).toBe('/apis/change-lifecycle');
    expect(m?.operation.scopes).toContain('apim:api_publish');
  });

  test('templated paths give their parameters; a wrong method matches nothing but the path exists', () => {
    expect(publisher.match('GET', '/api/am/publisher/v4/apis/abc-123/revisions')?.params).toEqual({ apiId: 'abc-123' });
    expect(publisher.match('PATCH', '/api/am/publisher/v4/apis/abc-123/revisions')).toBeUndefined();
    expect(publisher.hasPath('/api/am/publisher/v4/apis/abc-123/revisions')).toBe(true);
    expect(publisher.hasPath('/api/am/publisher/v4/no-such')).toBe(false);
  });
});

describe('portal login redirects', () => {
  const config = loadConfig(home('manager-1'), 'control-plane', {});
  const portals = withPortals(config, async () => ({ status: 404 }));
  const get = (path: string, query = '') =>
    portals({ method: 'GET', path, query: new URLSearchParams(query), headers: {}, rawBody: '' } as Req);

  test('built from hostname and proxyPort, ending on the login page', async () => {
    const login = await get('/publisher/services/auth/login');
    expect(login.status).toBe(302);
    const authorize = new URL(login.headers!.location);
    expect(authorize.origin).toBe(origin);
    const page = await get(authorize.pathname, authorize.search);
    const loginPage = new URL(page.headers!.location);
    expect({ origin: loginPage.origin, path: loginPage.pathname, caller: loginPage.searchParams.get('commonAuthCallerPath') }).toEqual({
      origin,
      path: '/authenticationendpoint/login.do',
      caller: '/oauth2/authorize',
    });
    expect(String((await get(loginPage.pathname, loginPage.search)).body)).toContain('name="username"');
  });
});

const keytool = spawnSync('keytool', ['-help']).status === 0;
describeWithTool(
  keytool,
  'the truststore reader test (keytool)',
  'apt-get install openjdk-17-jdk-headless',
)('the client truststore', () => {
  test('every trusted certificate of a JKS is an anchor; a wrong password is refused', () => {
    const dir = tempDir();
    const file = join(dir, 't.jks');
    for (const alias of ['one', 'two']) {
      expect(
        spawnSync('keytool', [
          '-genkeypair',
          '-alias',
          alias,
          '-keyalg',
          'RSA',
          '-dname',
          `CN=${alias}`,
          '-storetype',
          'JKS',
          '-keystore',
          file,
          '-storepass',
          'wso2carbon',
          '-keypass',
          'wso2carbon',
        ]).status,
      ).toBe(0);
    }
    const trust = new TrustStore(file, 'wso2carbon');
    expect(trust.anchors).toHaveLength(2);
    expect(trust.describe()).toContain('CN=one');
    expect(trust.explain('https://lb-manager:9443/x', Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toMatch(
      /PKIX path building failed.*https:\/\/lb-manager:9443\/x.*t\.jks/,
    );
    expect(() => new TrustStore(file, 'wrong')).toThrow(/Password verification failed/);
  });
});

describe("the control plane's API lifecycle", () => {
  test('an action the lifecycle allows leads to its state', () => {
    expect(transition('CREATED', 'Publish')).toBe('PUBLISHED');
    expect(transition('CREATED', 'Deploy as a Prototype')).toBe('PROTOTYPED');
    expect(transition('PUBLISHED', 'Block')).toBe('BLOCKED');
    expect(transition('BLOCKED', 'Re-Publish')).toBe('PUBLISHED');
    expect(transition('DEPRECATED', 'Retire')).toBe('RETIRED');
  });

  test('an action the state does not allow, an unknown state, or a name of Object.prototype leads nowhere', () => {
    expect(transition('CREATED', 'Retire')).toBeUndefined();
    expect(transition('CREATED', 'Re-Publish')).toBeUndefined();
    expect(transition('PUBLISHED', 'Publish')).toBeUndefined();
    expect(transition('RETIRED', 'Publish')).toBeUndefined();
    expect(transition('published', 'Block')).toBeUndefined();
    expect(transition('CREATED', 'publish')).toBeUndefined();
    expect(transition('CREATED', 'constructor')).toBeUndefined();
    expect(transition('toString', 'Publish')).toBeUndefined();
  });

  test("available transitions in the table's order, target states named as the REST API names them", () => {
    expect(availableTransitions('PUBLISHED')).toEqual([
      { event: 'Block', targetState: 'Blocked' },
      { event: 'Deprecate', targetState: 'Deprecated' },
      { event: 'Demote to Created', targetState: 'Created' },
      { event: 'Deploy as a Prototype', targetState: 'Prototyped' },
    ]);
    expect(availableTransitions('DEPRECATED')).toEqual([{ event: 'Retire', targetState: 'Retired' }]);
    expect(availableTransitions('RETIRED')).toEqual([]);
    expect(stateName('PROTOTYPED')).toBe('Prototyped');
  });

  test('every action leads to a state of the table, and only RETIRED has no way out', () => {
    const states = Object.keys(LIFECYCLE) as LifecycleState[];
    for (const state of states) {
      for (const { event } of availableTransitions(state)) expect(states).toContain(transition(state, event));
    }
    expect(states.filter((s) => availableTransitions(s).length === 0)).toEqual(['RETIRED']);
  });
});

describe("the control plane's REST views", () => {
  const api = {
    id: 'a1',
    name: 'Pizza',
    version: '1.0.0',
    context: '/pizza',
    lifeCycleStatus: 'CREATED',
    provider: 'admin',
    createdTime: '1',
    lastUpdatedTime: '2',
  };

  test('apiInfo: type HTTP and an empty description unless the API has its own, the update time from lastUpdatedTime', () => {
    expect(apiInfo(api)).toMatchObject({
      id: 'a1',
      type: 'HTTP',
      description: '',
      context: '/pizza',
      updatedTime: '2',
      gatewayVendor: 'wso2',
    });
    expect(apiInfo({ ...api, type: 'WS', description: 'd' })).toMatchObject({ type: 'WS', description: 'd' });
  });

  test('applicationOf: AM_APPLICATION columns to Application fields; no description is empty, no token type is JWT', () => {
    const row = {
      UUID: 'app-1',
      NAME: 'shop',
      OWNER: 'alice',
      APPLICATION_TIER: 'Unlimited',
      DESCRIPTION: 'a shop',
      TOKEN_TYPE: 'OAUTH',
      CREATED_TIME: 5,
    };
    expect(applicationOf(row)).toMatchObject({
      applicationId: 'app-1',
      name: 'shop',
      owner: 'alice',
      throttlingPolicy: 'Unlimited',
      description: 'a shop',
      tokenType: 'OAUTH',
      status: 'APPROVED',
    });
    expect(applicationOf({ ...row, DESCRIPTION: null, TOKEN_TYPE: null })).toMatchObject({ description: '', tokenType: 'JWT' });
  });

  test('subscriptionOf: AM_SUBSCRIPTION columns to Subscription fields', () => {
    expect(
      subscriptionOf({ UUID: 's1', API_UUID: 'a1', APPLICATION_UUID: 'app-1', TIER_ID: 'Gold', SUB_STATUS: 'UNBLOCKED', CREATED_TIME: 5 }),
    ).toEqual({
      subscriptionId: 's1',
      applicationId: 'app-1',
      apiId: 'a1',
      throttlingPolicy: 'Gold',
      requestedThrottlingPolicy: 'Gold',
      status: 'UNBLOCKED',
    });
  });

  test('revisionsOf: each revision with the deployments of that revision only, times in ISO 8601', () => {
    const revisions = [
      { REVISION_UUID: 'r1', REVISION_NUM: 1, DESCRIPTION: null, CREATED_TIME: 0 },
      { REVISION_UUID: 'r2', REVISION_NUM: 2, DESCRIPTION: 'second', CREATED_TIME: 1000 },
    ];
    const deployments = [{ REVISION_UUID: 'r2', NAME: 'Default', VHOST: 'localhost', DISPLAY_ON_DEVPORTAL: 0, DEPLOYED_TIME: 2000 }];
    const [first, second] = revisionsOf('a1', revisions, deployments);
    expect(first).toMatchObject({
      id: 'r1',
      displayName: 'Revision 1',
      description: '',
      createdTime: '1970-01-01T00:00:00.000Z',
      apiInfo: { id: 'a1' },
      deploymentInfo: [],
    });
    expect(second.deploymentInfo).toEqual([
      {
        revisionUuid: 'r2',
        name: 'Default',
        vhost: 'localhost',
        status: 'APPROVED',
        displayOnDevportal: false,
        deployedTime: '1970-01-01T00:00:02.000Z',
        successDeployedTime: '1970-01-01T00:00:02.000Z',
      },
    ]);
  });

  test("lists carry their count and one page; a missing resource is the product's 404", () => {
    expect(paginated(['x', 'y'])).toEqual({
      count: 2,
      list: ['x', 'y'],
      pagination: { offset: 0, limit: 25, total: 2, next: '', previous: '' },
    });
    expect(notFound('API', 'a9')).toEqual({
      status: 404,
      body: { code: 404, message: 'Not Found', description: "Requested API with Id 'a9' not found", moreInfo: '', error: [] },
    });
  });
});

describe('subscription and application throttling as the traffic manager and the gateways do it (sim/src/throttling.ts)', () => {
  const policy = { requestCount: 3, windowMs: 3_600_000, stopOnQuotaReach: true };
  const app = { id: 42, subName: 'admin', policy: 'App3' };
  const request = (tier = 'Q3', application = app): HubEvent => ({
    type: 'THROTTLE_REQUEST',
    eventId: '',
    apiId: 'a',
    ...throttledRequestOf(application, '/ctx', '1.0.0', tier),
    labels: [],
    origin: 'worker-1',
  });
  const none = async () => undefined;

  test('the subscription key is appId:context/version:version:tier, the application key appId:user@tenant, both with the integer id', () => {
    expect(subscriptionThrottleKey(7, '/pizza', '1.0.0', 'Gold')).toBe('7:/pizza/1.0.0:1.0.0:Gold');
    expect(applicationThrottleKey(7, 'admin')).toBe('7:admin@carbon.super');
    expect(applicationThrottleKey(7, 'admin@carbon.super')).toBe('7:admin@carbon.super');
    expect(throttledRequestOf(app, '/pizza', '1.0.0', 'Gold')).toEqual({
      subscriptionKey: '42:/pizza/1.0.0:1.0.0:Gold',
      subscriptionTier: 'Gold',
      appKey: '42:admin@carbon.super',
      appTier: 'App3',
    });
  });
  test('the request that reaches the quota decides (count >= quota), expiring at the end of the clock-aligned window', async () => {
    const decided: HubEvent[] = [];
    const counter = new ThrottleCounter({ subscription: async () => policy, application: none }, (d) => decided.push(d));
    const t = Date.UTC(2026, 11, 6, 13, 40, 0);
    await counter.count(request(), t);
    await counter.count(request(), t + 1000);
    expect(decided).toEqual([]);
    await counter.count(request(), t + 2000);
    expect(decided).toEqual([
      expect.objectContaining({
        type: 'THROTTLE_DECISION',
        throttleKey: request().subscriptionKey,
        isThrottled: true,
        expiresAt: Date.UTC(2026, 11, 6, 14, 0, 0),
      }),
    ]);
    // A new window counts from zero.
    await counter.count(request(), Date.UTC(2026, 11, 6, 14, 0, 1));
    expect(decided).toHaveLength(1);
  });
  test('an application policy counts every request of the application, whatever its subscriptions, under the application key', async () => {
    const decided: HubEvent[] = [];
    const counter = new ThrottleCounter({ subscription: none, application: async (tier) => (tier === 'App3' ? policy : undefined) }, (d) =>
      decided.push(d),
    );
    const t = Date.UTC(2026, 11, 6, 13, 40, 0);
    // Three subscriptions (three subscription keys), one application: its third request decides.
    await counter.count(request('Gold'), t);
    await counter.count(request('Silver'), t + 1);
    await counter.count(request('Q3', { ...app, id: 43 }), t + 2);
    expect(decided).toEqual([]);
    await counter.count(request('Bronze'), t + 3);
    expect(decided).toEqual([
      expect.objectContaining({
        type: 'THROTTLE_DECISION',
        throttleKey: '42:admin@carbon.super',
        isThrottled: true,
        expiresAt: Date.UTC(2026, 11, 6, 14, 0, 0),
      }),
    ]);
  });
  test('each level counts one request in its own plan and decides on its own key: an application quota of 2 at the second request, a subscription quota of 3 at the third', async () => {
    const decided: HubEvent[] = [];
    const counter = new ThrottleCounter(
      { subscription: async () => policy, application: async () => ({ ...policy, requestCount: 2 }) },
      (d) => decided.push(d),
    );
    const t = Date.UTC(2026, 11, 6, 13, 40, 0);
    await counter.count(request(), t);
    await counter.count(request(), t + 1);
    expect(decided.map((d) => d.throttleKey)).toEqual(['42:admin@carbon.super']);
    await counter.count(request(), t + 2);
    expect(decided.map((d) => d.throttleKey).sort()).toEqual(['42:/ctx/1.0.0:1.0.0:Q3', '42:admin@carbon.super', '42:admin@carbon.super']);
  });
  test('a subscription policy that lets requests through past its quota, or an unknown one, decides nothing; an application policy always stops', async () => {
    const decided: HubEvent[] = [];
    const billed = async (tier: string) => (tier === 'Billed' ? { ...policy, stopOnQuotaReach: false } : undefined);
    const counter = new ThrottleCounter({ subscription: billed, application: none }, (d) => decided.push(d));
    for (let i = 0; i < 5; i++) {
      await counter.count(request('Billed'));
      await counter.count(request('Nope'));
    }
    expect(decided).toEqual([]);
    const row = { QUOTA_TYPE: 'requestCount', QUOTA: 5, UNIT_TIME: 1, TIME_UNIT: 'hour', STOP_ON_QUOTA_REACH: 0 };
    expect(await enforcedPolicies('subscription', async () => row)('x')).toEqual({
      requestCount: 5,
      windowMs: 3_600_000,
      stopOnQuotaReach: false,
    });
    expect(await enforcedPolicies('application', async () => row)('x')).toEqual({
      requestCount: 5,
      windowMs: 3_600_000,
      stopOnQuotaReach: true,
    });
  });
  test("a gateway refuses a throttled key until its expiry, the subscription before the application, with the product's 429 body and Retry-After", () => {
    const decisions = new ThrottleDecisions();
    const expiry = Date.UTC(2026, 11, 6, 14, 0, 0);
    const keys = throttledRequestOf(app, '/ctx', '1.0.0', 'Q3');
    const decide = (throttleKey: string, expiresAt: number) =>
      decisions.hear({
        type: 'THROTTLE_DECISION',
        eventId: '',
        apiId: 'a',
        throttleKey,
        isThrottled: true,
        expiresAt,
        labels: [],
        origin: '',
      });
    const body = (code: string) => ({
      status: 429,
      headers: { 'retry-after': 'Sun, 06 Dec 2026 14:00:00 GMT' },
      body: {
        code,
        message: 'Message throttled out',
        description: 'You have exceeded your quota .You can access API after 2026-Dec-06 14:00:00+0000 UTC',
        nextAccessTime: '2026-Dec-06 14:00:00+0000 UTC',
      },
    });
    expect(decisions.refusal(keys, expiry - 1)).toBeUndefined();
    decide(keys.appKey, expiry);
    expect(decisions.refusal(keys, expiry - 1)).toEqual(body('900803'));
    decide(keys.subscriptionKey, expiry);
    expect(decisions.refusal(keys, expiry - 1)).toEqual(body('900804'));
    // Another application's keys are not throttled; expired decisions are forgotten.
    expect(decisions.refusal(throttledRequestOf({ ...app, id: 43 }, '/ctx', '1.0.0', 'Q3'), expiry - 1)).toBeUndefined();
    expect(decisions.until(keys.appKey, expiry + 1)).toBeUndefined();
    expect(decisions.refusal(keys, expiry + 1)).toBeUndefined();
  });
});

describe("a gateway's subscription data store and what its REST API reports of it (rest.api.gateway, carbon-apimgt 9.29.120)", () => {
  const app = (id: number, name: string): StoredApplication => ({
    id,
    uuid: `uuid-${id}`,
    name,
    subName: 'admin',
    policy: 'Unlimited',
    tokenType: 'JWT',
    attributes: {},
  });
  const body = (r: { body?: unknown }) => r.body as { count: number; list: { id: number }[] };
  const store = () => {
    const data = new SubscriptionData();
    data.putApplication(app(1, 'pizza'));
    data.putApplication(app(2, 'pizza'));
    data.putApplication(app(3, 'salad'));
    data.putKeyMapping({
      applicationId: 3,
      applicationUUID: 'uuid-3',
      consumerKey: 'ck3',
      keyType: 'PRODUCTION',
      keyManager: 'Resident Key Manager',
    });
    data.putSubscription('uuid-3', 'api-a', { status: 'UNBLOCKED', policy: 'Gold', subscriptionId: 7, apiId: 11, appId: 3 });
    return data;
  };

  test('applications: name wins over uuid and finds every one of that name; uuid finds one, with its keys; neither 400; none found 200 with an empty list', () => {
    const data = store();
    expect(body(data.applicationsAnswer('pizza', 'uuid-3')).list.map((a) => a.id)).toEqual([1, 2]);
    expect(body(data.applicationsAnswer(null, 'uuid-3'))).toEqual({
      count: 1,
      list: [
        {
          uuid: 'uuid-3',
          id: 3,
          name: 'salad',
          subName: 'admin',
          policy: 'Unlimited',
          tokenType: 'JWT',
          attributes: {},
          keys: [{ consumerKey: 'ck3', keyType: 'PRODUCTION', keyManager: 'Resident Key Manager' }],
        },
      ],
    });
    expect(data.applicationsAnswer(null, 'nope')).toMatchObject({ status: 200 });
    expect(body(data.applicationsAnswer('nope', null))).toEqual({ count: 0, list: [] });
    const missing = data.applicationsAnswer(null, null);
    expect([missing.status, body(missing)]).toEqual([400, { moreInfo: 'required parameters are missing' }]);
  });

  test('subscriptions: both UUIDs required (400), unknown 404 with no body, found with integer ids and no UUIDs', () => {
    const data = store();
    expect(data.subscriptionAnswer('api-a', null).status).toBe(400);
    expect(data.subscriptionAnswer(null, 'uuid-3').status).toBe(400);
    expect(data.subscriptionAnswer('api-b', 'uuid-3')).toMatchObject({ status: 404, body: '' });
    expect(body(data.subscriptionAnswer('api-a', 'uuid-3'))).toEqual({
      subscriptionId: 7,
      policyId: 'Gold',
      apiId: 11,
      appId: 3,
      subscriptionState: 'UNBLOCKED',
    });
  });

  test('a change that carries no ids keeps those known; an application deleted takes its keys and subscriptions with it', () => {
    const data = store();
    data.putSubscription('uuid-3', 'api-a', { status: 'BLOCKED', policy: 'Gold' });
    expect(body(data.subscriptionAnswer('api-a', 'uuid-3'))).toEqual({
      subscriptionId: 7,
      policyId: 'Gold',
      apiId: 11,
      appId: 3,
      subscriptionState: 'BLOCKED',
    });
    data.removeApplication('uuid-3');
    expect(data.subscriptionAnswer('api-a', 'uuid-3').status).toBe(404);
    expect(body(data.applicationsAnswer('salad', null))).toEqual({ count: 0, list: [] });
    expect(body(data.applicationsAnswer('pizza', null)).count).toBe(2);
  });
});
