import { SharedTestLab, startTestLab } from '../support/labs';
import { inspectContainer } from '../../generator/runtime/engine';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { retryUntil } from '../../generator/runtime/retry';
import { sim } from '../../generator/products/sim';
import { ApimClient, invoke, PUBLISHER } from '../../harness/apim-client';
import { describeExchange } from '../../harness/http';
import type { PatternId } from '../../generator/model/lab';
import { LabFault, LabTarget, StartOptions } from '../../harness/lab-target';

import { describeDocker } from '../support/docker';

const start = (pattern: PatternId, options: StartOptions = {}) => startTestLab(pattern, { product: sim }, options);

/** Rewrites one key of the generated deployment.toml of some nodes, as a user's typo would. */
function miswire(nodes: string[], from: RegExp, to: string, unhealthy: string[] = []): LabFault {
  return {
    kind: 'files',
    unhealthy,
    edit: (dir: string) => {
      for (const node of nodes) {
        const file = join(dir, 'nodes', node, 'repository/conf/deployment.toml');
        const text = readFileSync(file, 'utf8');
        if (!from.test(text)) throw new Error(`${file} has no ${from}`);
        writeFileSync(file, text.replace(from, to));
      }
    },
  };
}

async function deployOne(lab: LabTarget): Promise<{ client: ApimClient; context: string; token: string }> {
  const client = lab.managerClient();
  await client.login();
  const tag = Date.now().toString(36);
  const { apiId } = await client.createAndDeploy(
    { name: `Wired${tag}`, context: `/wired-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl },
    lab.vhost,
  );
  const { token } = await client.subscribe(`wired-${tag}`, [apiId]);
  return { client, context: `/wired-${tag}`, token };
}

/** Polls for `ms`: the worker must keep answering 404 (the API never arrives). */
async function neverServed(lab: LabTarget, worker: string, context: string, token: string, ms: number): Promise<number[]> {
  const statuses = new Set<number>();
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const e = await invoke(lab.http(lab.workerApiUrl(worker)), context, '1.0.0', token);
    statuses.add(e.status);
    await new Promise((r) => setTimeout(r, 200));
  }
  return [...statuses];
}

describeDocker('a mis-wired deployment.toml breaks the stand-in the way it breaks the product', () => {
  // One pattern-1 lab taken in turn, each test's mis-wiring in force alone (only the services it
  // changes are recreated); the manager's last, as its recreation restarts the gateways' brokers.
  const shared = new SharedTestLab(1, { product: sim });
  afterAll(() => shared.down());
  // First, before the shared lab starts: a lab of its own (only manager-1 started).
  test('wrong database host on a manager: it never becomes healthy and says why', async () => {
    await using lab = await start(1, {
      only: ['manager-1'],
      faults: [miswire(['manager-1'], /jdbc:mysql:\/\/db:3306\//g, 'jdbc:mysql://db-typo:3306/')],
    });
    const logs = await retryUntil(
      async (observe) => {
        const text = await lab.logs('manager-1', 10);
        observe(text);
        return text.includes('Communications link failure to db-typo:3306') ? text : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'manager-1 to say why it cannot start' },
    );
    expect(logs).toContain('Communications link failure to db-typo:3306');
    const state = await inspectContainer(await lab.container('manager-1'));
    expect(state.State.Health?.Status).not.toBe('healthy');
  });

  // Workers whose startup sync fails never turn healthy (as the product's): they are not awaited.
  const gateways = ['worker-1', 'worker-2'];
  const neverGetsTheApi = async (fault: LabFault, node: string, said: RegExp) => {
    const lab = await shared.take([fault]);
    const { context, token } = await deployOne(lab);
    expect(await neverServed(lab, 'worker-1', context, token, 4000)).toEqual([404]);
    expect(await lab.logs(node, 40)).toMatch(said);
  };
  test.each([
    [
      'wrong [apim.key_manager]/[apim.throttling] service_url on the workers: gateways never get the API (404)',
      miswire(gateways, /https:\/\/lb-manager:9443\/services\//g, 'https://lb-manager:9999/services/', gateways),
      'worker-1',
      /Error while retrieving runtime artifacts|could not pull API/,
    ],
    [
      "wrong [apim.throttling] service_url alone (the key manager's right): gateways still never get the API — they pull from the event hub URL",
      miswire(
        gateways,
        /(\[apim\.throttling\]\nservice_url = )"https:\/\/lb-manager:9443\/services\/"/,
        '$1"https://lb-manager:9999/services/"',
        gateways,
      ),
      'worker-1',
      /lb-manager:9999/,
    ],
  ] as [string, LabFault, string, RegExp][])('%s', (_, fault, node, said) => neverGetsTheApi(fault, node, said));

  test('wrong throttle_decision_endpoints (event hub) on a worker: it never hears of new APIs, until a restart syncs it', async () => {
    const lab = await shared.take([miswire(['worker-1'], /tcp:\/\/manager-1:5672/g, 'tcp://manager-9:5672')]);
    const { context, token } = await deployOne(lab);
    expect(await neverServed(lab, 'worker-1', context, token, 4000)).toEqual([404]);
    expect(await lab.logs('worker-1', 40)).toContain('event hub manager-9:5672 unreachable');
    await lab.stop('worker-1');
    await lab.start('worker-1');
    await lab.waitHealthy();
    await invokeUntil200(lab, 'worker-1', context, token);
  });

  test.each([
    [
      'wrong [[apim.event_hub.publish.url_group]] on the manager: deploy events reach no broker, gateways never hear of new APIs',
      miswire(['manager-1'], /urls = \["tcp:\/\/manager-1:9611"\]/, 'urls = ["tcp://manager-1:9612"]'),
      'manager-1',
      /could not publish DEPLOY_API_IN_GATEWAY to tcp:\/\/manager-1:9612/,
    ],
  ] as [string, LabFault, string, RegExp][])('%s', (_, fault, node, said) => neverGetsTheApi(fault, node, said));
});

// One pattern-2 lab for the recovery and the manager balancer's tests, in that order.
const pattern2 = new SharedTestLab(2, { product: sim });
afterAll(() => pattern2.down());

describeDocker('recovery as the product does it: a gateway pulls everything at startup only', () => {
  test("an API deployed while a gateway's only broker is down does not reach it when the broker comes back, only after a restart", async () => {
    // worker-1 listens to manager-1's broker only; deploys go through manager-2 while manager-1 is down.
    const lab = await pattern2.take([
      miswire(
        ['worker-1'],
        /throttle_decision_endpoints = \["tcp:\/\/manager-2:5672", "tcp:\/\/manager-1:5672"\]/,
        'throttle_decision_endpoints = ["tcp://manager-1:5672"]',
      ),
    ]);
    await lab.stop('manager-1');
    const { context, token } = await deployOne(lab);
    await invokeUntil200(lab, 'worker-2', context, token);
    await lab.start('manager-1');
    await lab.waitHealthy();
    await retryUntil(
      async () => ((await lab.logs('worker-1', 20)).match(/subscribed to event hub manager-1:5672/g)?.length ?? 0) >= 2 || undefined,
      { timeoutMs: 15_000, intervalMs: 250, what: "worker-1 to reconnect to manager-1's broker" },
    );
    expect(await neverServed(lab, 'worker-1', context, token, 3000)).toEqual([404]);
    await lab.stop('worker-1');
    await lab.start('worker-1');
    await lab.waitHealthy();
    await invokeUntil200(lab, 'worker-1', context, token);
  });
});

async function invokeUntil200(lab: LabTarget, worker: string, context: string, token: string): Promise<void> {
  await retryUntil(
    async (observe) => {
      const e = await invoke(lab.http(lab.workerApiUrl(worker)), context, '1.0.0', token);
      observe(describeExchange(e));
      return e.status === 200 ? true : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: `${worker} to serve ${context}` },
  );
}

describeDocker(
  'the manager balancer keeps its last resort (the passive manager is never marked failed), and state lives in the database, not in a manager',
  () => {
    /** The balancer of the earlier labs: the backup marked failed after one failure, like a primary. */
    const backupMarkedFailed: LabFault = {
      kind: 'files',
      edit: (dir) => {
        const file = join(dir, 'nginx', 'lb.conf');
        const text = readFileSync(file, 'utf8');
        if (!text.includes('max_fails=0 backup')) throw new Error(`${file} has no backup with max_fails=0`);
        writeFileSync(file, text.replace(/max_fails=0 backup/g, 'max_fails=1 fail_timeout=10s backup'));
      },
    };

    test.each([
      [
        'as generated: an API created through manager-1 is served by manager-2 after manager-1 stops; the next request after a slow answer is served',
        [] as LabFault[],
        [200],
      ],
      [
        'with the backup marked failed like a primary: the API is still served by manager-2, then "no live upstreams" (502) although manager-2 is back',
        [backupMarkedFailed],
        [502],
      ],
    ])('%s', async (_, faults, expected) => {
      const lab = await pattern2.take(faults);
      const client = lab.managerClient();
      await client.login();
      // State lives in the database, not in a manager: an API created through manager-1 is served by manager-2.
      const created = await client.tryCreateApi({
        name: `Persist${Date.now()}`,
        context: `/persist-${Date.now()}`,
        version: '1.0.0',
        backendUrl: lab.backendUrl,
      });
      expect([created.status, created.upstream]).toEqual([201, 'manager-1']);
      await lab.stop('manager-1');
      await retryUntil(async () => (await client.call('GET', `${PUBLISHER}/apis?limit=1`)).upstream === 'manager-2' || undefined, {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'manager-2 to serve',
      });
      const read = await client.call('GET', `${PUBLISHER}/apis/${(created.body as { id: string }).id}`);
      expect([read.status, read.upstream, read.body]).toEqual([200, 'manager-2', created.body]);
      // One slow answer from manager-2 (frozen past the 2 s read timeout), then it answers again.
      await lab.pause('manager-2');
      expect((await client.call('GET', `${PUBLISHER}/apis?limit=1`)).status).toBeGreaterThanOrEqual(502);
      await lab.unpause('manager-2');
      const next = [];
      for (let i = 0; i < 3; i++) next.push((await client.call('GET', `${PUBLISHER}/apis?limit=1`)).status);
      expect([...new Set(next)]).toEqual(expected);
      if (expected[0] === 502) expect(await lab.logs('lb', 20)).toContain('no live upstreams');
    });
  },
);
