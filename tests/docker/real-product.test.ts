import { SharedTestLab } from '../support/labs';
import { inspectContainer, stopContainer } from '../../generator/runtime/engine';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { Browser, chromium as playwright } from 'playwright-core';
import { labUrls } from '../../generator/runtime/lab';
import { tmpdir } from 'os';
import { join } from 'path';
import { spawnSync } from 'child_process';
import { addressOf, TRUST } from '../../generator/model/lab';
import { sim } from '../../generator/products/sim';
import { LabTarget } from '../../harness/lab-target';
import { PROJECT_ROOT } from '../../generator/paths';
import { describeDocker } from '../support/docker';
import { describeWithTool, withShare } from '../support/tools';

/**
 * One pattern-3 lab for the JVM and the browser tests: as generated (whichever runs first starts
 * it), then with the old lab's managers for the last test.
 */
const shared = new SharedTestLab(3, { product: sim });
let asGenerated: Promise<LabTarget> | undefined;
const sharedLab = () => (asGenerated ??= shared.take());
afterAll(() => shared.down());

/**
 * What the real product does that a lenient stand-in would hide. The lab's trust chain through a real JVM: the product's clients are Java, so the proof is a
 * Java TLS client (default HttpsURLConnection) with the truststore a lab makes, run from a
 * container on the lab's `cluster` network against the manager listener.
 */
const describeJvm = describeWithTool(
  spawnSync('javac', ['-version'], { timeout: 30_000 }).status === 0,
  'the JVM TLS test (javac)',
  'apt-get install openjdk-17-jdk-headless',
  describeDocker,
);

describeJvm('a JVM trusts the manager listener with the lab truststore, and only with it', () => {
  let lab: LabTarget;
  let classes: string;
  let stock: string;
  const stockInImage = `${sim.roles.manager.home}/repository/resources/security/client-truststore.jks`;

  beforeAll(async () => {
    lab = await sharedLab();
    classes = mkdtempSync(join(tmpdir(), 'carbon-labs-jvm-'));
    const compiled = await withShare('real-product.test: javac', async () =>
      spawnSync('javac', ['--release', '17', '-d', classes, join(PROJECT_ROOT, 'tests', 'jvm', 'TlsProbe.java')], {
        encoding: 'utf8',
        timeout: 120_000,
      }),
    );
    if (compiled.status !== 0) throw new Error(`javac failed: ${compiled.stderr}`);
    chmodSync(classes, 0o755);
    // The image's own truststore, as a node has it without the lab's: copied out for the test.
    stock = mkdtempSync(join(tmpdir(), 'carbon-labs-stock-'));
    chmodSync(stock, 0o755);
    const copied = await lab.probe('cluster', ['cp', stockInImage, '/out/client-truststore.jks'], {
      image: lab.product.roles.manager.image,
      binds: [`${stock}:/out`],
      user: 'root',
    });
    if (copied.code !== 0) throw new Error(`could not copy the stock truststore: ${copied.output}`);
  });

  const java = (truststoreDir: string, url: string, allowAll = false) =>
    withShare('real-product.test: java', () =>
      lab.probe(
        'cluster',
        [
          'java',
          '-cp',
          '/probe',
          '-Djavax.net.ssl.trustStore=/trust/client-truststore.jks',
          `-Djavax.net.ssl.trustStorePassword=${TRUST.truststorePassword}`,
          ...(allowAll ? ['-Dhttpclient.hostnameVerifier=AllowAll'] : []),
          'TlsProbe',
          url,
        ],
        { image: lab.product.roles.manager.image, binds: [`${classes}:/probe:ro`, `${truststoreDir}:/trust:ro`] },
      ),
    );

  const labTruststore = () => join(lab.dir, TRUST.truststoreDir);
  const byName = () => `https://${lab.lab.managerEndpointHost}:9443/services/Version`;

  test('the lab truststore: 200 from https://lb-manager:9443, host name verified', async () => {
    const r = await java(labTruststore(), byName());
    expect({ code: r.code, output: r.output }).toEqual({ code: 0, output: expect.stringContaining('HTTP 200') });
    expect(r.output).toContain(lab.product.version);
  });

  test("the image's stock truststore: a PKIX path error", async () => {
    const r = await java(stock, byName());
    expect({ code: r.code, output: r.output }).toEqual({ code: 2, output: expect.stringContaining('PKIX path building failed') });
  });

  test('docker stop: the node ignores SIGTERM (the entrypoint shell is PID 1, as docker-apim 4.3.x runs api-manager.sh) and is killed after the grace period', async () => {
    const node = 'worker-2';
    const container = await lab.container(node);
    const started = Date.now();
    await stopContainer(container, 2);
    const tookMs = Date.now() - started;
    const state = (await inspectContainer(container)).State;
    await lab.start(node);
    await lab.waitHealthy();
    expect({ tookMs: tookMs >= 1900, exitCode: state.ExitCode }).toEqual({ tookMs: true, exitCode: 137 });
  });

  test("by address: default host-name verification refuses it, the product's AllowAll accepts the chain", async () => {
    const address = addressOf(lab.lab, lab.managerBalancer, 'cluster');
    const url = `https://${address}:9443/services/Version`;
    const strict = await java(labTruststore(), url);
    expect({ code: strict.code, output: strict.output }).toEqual({
      code: 2,
      output: expect.stringMatching(/No subject alternative names matching IP address|No name matching/),
    });
    const allowAll = await java(labTruststore(), url, true);
    expect({ code: allowAll.code, output: allowAll.output }).toEqual({ code: 0, output: expect.stringContaining('HTTP 200') });
  });
});

/**
 * The portals from the host, as a user opens them: a real browser (Debian's Chromium, driven by
 * playwright-core) follows the login redirects of the URL `make lab` prints to the login page.
 */
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const describeBrowser = describeWithTool(!!chromium, 'the portal login test (Chromium)', 'apt-get install chromium', describeDocker);

describeBrowser('the printed portal URLs log in from the host', () => {
  let lab: LabTarget;
  let browser: Browser;

  beforeAll(async () => {
    lab = await sharedLab();
    browser = await withShare('real-product.test: chromium', () =>
      playwright.launch({
        executablePath: chromium,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      }),
    );
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Where the browser ends after opening `start`: its URL, and whether it shows the login form. */
  function follow(start: string): Promise<{ url: string; loginForm: boolean; title: string }> {
    return withShare('real-product.test: browser', () => followHolding(start));
  }
  async function followHolding(start: string): Promise<{ url: string; loginForm: boolean; title: string }> {
    // The lab CA is not in this throw-away profile: certificate errors are the browser's business here.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await context.newPage();
      await page.goto(start).catch(() => undefined);
      await page.waitForURL(/\/authenticationendpoint\/login\.do\?/, { timeout: 10_000 }).catch(() => undefined);
      return {
        url: page.url(),
        loginForm: (await page.locator('form#loginForm input[name="username"]').count()) === 1,
        title: await page.title(),
      };
    } finally {
      await context.close();
    }
  }

  const printed = (target: LabTarget, portal: string) =>
    labUrls(target.lab, target.dir)
      .map((l) => /https:\/\/\S+\/(publisher|devportal|admin)$/.exec(l.trim().split(/\s+/).pop() ?? ''))
      .find((m) => m?.[1] === portal)?.[0];

  test.each(['publisher', 'devportal', 'admin'])('%s: the browser ends on the login page, on the host it started from', async (portal) => {
    const start = printed(lab, portal);
    expect(start).toMatch(new RegExp(`^https://localhost:\\d+/${portal}$`));
    const end = await follow(start!);
    const url = new URL(end.url);
    expect({
      origin: url.origin,
      path: url.pathname,
      caller: url.searchParams.get('commonAuthCallerPath'),
      loginForm: end.loginForm,
    }).toEqual({ origin: new URL(start!).origin, path: '/authenticationendpoint/login.do', caller: '/oauth2/authorize', loginForm: true });
    expect(end.title).toContain('Sign In');
  });

  test("with the in-lab name and port as the managers' hostname/proxyPort (the old lab), the login leads nowhere", async () => {
    const broken = await shared.take([
      {
        kind: 'files',
        edit: (dir) => {
          for (const m of ['manager-1', 'manager-2']) {
            const file = join(dir, 'nodes', m, 'repository/conf/deployment.toml');
            writeFileSync(
              file,
              readFileSync(file, 'utf8')
                .replace(/hostname = "localhost"/, 'hostname = "lb-manager"')
                .replace(/proxyPort = \d+/, 'proxyPort = 9443'),
            );
          }
        },
      },
    ]);
    const end = await follow(printed(broken, 'publisher')!);
    expect(end.loginForm).toBe(false);
    expect(end.url).not.toContain('/authenticationendpoint/login.do');
  });
});
