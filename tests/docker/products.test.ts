import { startTestLab } from '../support/labs';
import { inspectContainer, stopContainer } from '../../generator/runtime/engine';
import { retryUntil } from '../../generator/runtime/retry';
import { simApim470 } from '../../generator/products/sim';
import { invoke } from '../../harness/apim-client';
import { describeExchange } from '../../harness/http';

import { describeDocker } from '../support/docker';

// The 4.7.0 stand-in: the 4.5.0 layout (its lab boots in the self-test) plus 4.7's internal
// encryption key, gateway notifications and an entrypoint that stops the server on SIGTERM.
describeDocker('the stand-in as the 4.7.0 distributions (API Control Plane, Universal Gateway, Traffic Manager)', () => {
  test('pattern 1 turns healthy; a deploy reaches the gateways through the event hub; the traffic manager answers its version and no publisher REST', async () => {
    // worker-2 is told to be a control plane, as a 4.3 image would be: a Universal Gateway ignores it.
    await using lab = await startTestLab(
      1,
      { product: simApim470 },
      {
        faults: [{ kind: 'compose', services: { 'worker-2': { environment: { PROFILE_NAME: 'control-plane' } } } }],
      },
    );
    const client = lab.managerClient();
    await client.login();
    const tag = Date.now().toString(36);
    const { apiId } = await client.createAndDeploy(
      { name: `Dist${tag}`, context: `/dist-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl },
      lab.vhost,
    );
    const { token } = await client.subscribe(`dist-${tag}`, [apiId]);
    for (const worker of ['worker-1', 'worker-2']) {
      await retryUntil(
        async (observe) => {
          const e = await invoke(lab.http(lab.workerApiUrl(worker)), `/dist-${tag}`, '1.0.0', token);
          observe(describeExchange(e));
          return e.status === 200 || undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${worker} to serve /dist-${tag}` },
      );
      const logs = await lab.logs(worker, 400);
      expect(logs).toMatch(/subscribed to event hub manager-1:5672/);
      expect(logs).toMatch(/subscribed to traffic manager traffic-manager-1:5672/);
      expect(logs).toMatch(/Starting WSO2 API Manager-4\.7\.0 \(carbon-labs stand-in, universal-gw distribution\).*profile gateway-worker/);
      expect(logs).toContain(`gateway notifications on, as ${worker}`);
    }
    const curl = (url: string, ...args: string[]) => lab.exec('traffic-manager-1', ['curl', '--silent', '--insecure', ...args, url]);
    expect((await curl('http://localhost:9763/services/Version')).output).toContain('<return>WSO2 API Manager-4.7.0</return>');
    expect((await curl('https://localhost:9443/services/Version')).output).toContain('<return>WSO2 API Manager-4.7.0</return>');
    expect(
      (await curl('https://localhost:9443/api/am/publisher/v4/apis', '--output', '/dev/null', '--write-out', '%{http_code}')).output,
    ).toBe('404');
    // Every node read the lab's [encryption] key and registered the symmetric provider with it.
    for (const node of lab.lab.nodes.map((n) => n.name)) {
      expect({
        node,
        registered:
          /internal crypto provider org\.wso2\.carbon\.crypto\.provider\.SymmetricKeyInternalCryptoProvider registered with a 256-bit key/.test(
            await lab.logs(node, 400),
          ),
      }).toEqual({ node, registered: true });
    }
    const tmLogs = await lab.logs('traffic-manager-1', 400);
    expect(tmLogs).toContain('subscribed to event hub manager-1:5672');
    expect(tmLogs).toMatch(/gateway worker-\d subscribed/);
    // 4.7's entrypoint traps SIGTERM and stops the server: `docker stop` ends the node at once,
    // with status 0, not by SIGKILL after the grace period (137).
    const worker2 = await lab.container('worker-2');
    const asked = Date.now();
    await stopContainer(worker2, 20);
    const stoppedMs = Date.now() - asked;
    const state = (await inspectContainer(worker2)).State;
    expect({ exitCode: state.ExitCode, within5s: stoppedMs < 5_000 }).toEqual({ exitCode: 0, within5s: true });
    // The entrypoint's trap ran the start script's `stop`, which signalled the server.
    expect(await lab.logs('worker-2', 5)).toMatch(
      /gateway\.sh stop: SIGTERM to the server \(pid \d+\)[\s\S]*SIGTERM received: shutting down/,
    );
  });
});
