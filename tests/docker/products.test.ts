import { retryUntil } from '../../generator/runtime/retry';
import { simApim450 } from '../../generator/products/sim';
import { invoke } from '../../harness/apim-client';
import { describeExchange } from '../../harness/http';
import { buildLab } from '../../generator/patterns';
import { startLab } from '../../harness/lab-target';
import { describeDocker } from '../support/docker';

describeDocker('the stand-in as the 4.5.0 distributions (API Control Plane, Universal Gateway, Traffic Manager)', () => {
  test('pattern 1 turns healthy; a deploy reaches the gateways through the event hub; the traffic manager answers its version and no publisher REST', async () => {
    // worker-2 is told to be a control plane, as a 4.3 image would be: a Universal Gateway ignores it.
    await using lab = await startLab(buildLab(1, { product: simApim450 }), {
      faults: [{ kind: 'compose', services: { 'worker-2': { environment: { PROFILE_NAME: 'control-plane' } } } }],
    });
    const client = lab.managerClient();
    await client.login();
    const tag = Date.now().toString(36);
    const { apiId } = await client.createAndDeploy({ name: `Dist${tag}`, context: `/dist-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl }, lab.vhost);
    const { token } = await client.subscribe(`dist-${tag}`, [apiId]);
    for (const worker of ['worker-1', 'worker-2']) {
      await retryUntil(async (observe) => {
        const e = await invoke(lab.http(lab.workerApiUrl(worker)), `/dist-${tag}`, '1.0.0', token);
        observe(describeExchange(e));
        return e.status === 200 || undefined;
      }, { timeoutMs: 15_000, intervalMs: 200, what: `${worker} to serve /dist-${tag}` });
      const logs = await lab.logs(worker, 400);
      expect(logs).toMatch(/subscribed to event hub manager-1:5672/);
      expect(logs).toMatch(/subscribed to traffic manager traffic-manager-1:5672/);
      expect(logs).toMatch(/Starting WSO2 API Manager-4\.5\.0 \(carbon-labs stand-in, universal-gw distribution\).*profile gateway-worker/);
    }
    const curl = (url: string, ...args: string[]) => lab.exec('traffic-manager-1', ['curl', '--silent', '--insecure', ...args, url]);
    expect((await curl('http://localhost:9763/services/Version')).output).toContain('<return>WSO2 API Manager-4.5.0</return>');
    expect((await curl('https://localhost:9443/services/Version')).output).toContain('<return>WSO2 API Manager-4.5.0</return>');
    expect((await curl('https://localhost:9443/api/am/publisher/v4/apis', '--output', '/dev/null', '--write-out', '%{http_code}')).output).toBe('404');
    const tmLogs = await lab.logs('traffic-manager-1', 400);
    expect(tmLogs).toContain('subscribed to event hub manager-1:5672');
    expect(tmLogs).toMatch(/gateway worker-\d subscribed/);
  });
});
