import type { PatternId } from '../../generator/model/lab';
import { portalPort, workers } from '../../generator/model/lab';
import type { ProductSpec } from '../../generator/products/product';
import { sim } from '../../generator/products/sim';
import { retryUntil } from '../../generator/runtime/retry';
import { invoke } from '../../harness/apim-client';
import type { Exchange } from '../../harness/http';
import { describeExchange } from '../../harness/http';
import type { StartedLab } from '../../harness/lab-target';
import { STOCK_JWKS_URL } from '../../harness/selftest';
import { startTestLab } from '../support/labs';

import { describeDocker } from '../support/docker';

/** Deploys an API through the manager balancer and subscribes to it: the context, a token for it, and when it was deployed. */
async function deployOne(lab: StartedLab): Promise<{ context: string; token: string; deployedAt: number }> {
  const client = lab.managerClient();
  await client.login();
  const tag = Date.now().toString(36);
  const { apiId } = await client.createAndDeploy(
    { name: `Jwks${tag}`, context: `/jwks-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl },
    lab.vhost,
  );
  const deployedAt = Date.now();
  const { token } = await client.subscribe(`jwks-${tag}`, [apiId]);
  return { context: `/jwks-${tag}`, token, deployedAt };
}

/** Calls the API on a worker until it answers other than 404 (the API not there yet): that answer and when it came. */
async function firstAnswer(lab: StartedLab, worker: string, api: { context: string; token: string }): Promise<Exchange> {
  return retryUntil(
    async (observe) => {
      const e = await invoke(lab.http(lab.workerApiUrl(worker)), api.context, '1.0.0', api.token);
      observe(describeExchange(e));
      return e.status !== 404 ? e : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `${worker} to answer on ${api.context}` },
  );
}

/** The JWKS URL a worker's log says it got with the Resident Key Manager. */
async function pulledJwksUrl(lab: StartedLab, worker: string): Promise<string | undefined> {
  return /key manager Resident Key Manager: issuer \S+, JWKS (\S+)/.exec(await lab.logs(worker, 400))?.[1];
}

/**
 * One lab of the stand-in: its JWKS path is the same code for every product, and each product's
 * managers' keys are unit-tested (tests/unit/render.test.ts); the 4.7.0 conformance leg of
 * `make test` sends every API call of its checks through the same path on its own labs, and the
 * self-test's manager-with-stock-jwks-url breaks it on pattern 3.
 */
const LABS: readonly (readonly [string, ProductSpec, PatternId])[] = [['the 4.3.0 stand-in, pattern 1', sim, 1]];

describeDocker('a worker validates API tokens with the JWKS its managers publish (D7)', () => {
  describe.each(LABS)('%s', (_, product, pattern) => {
    test("as generated (oauth2_jwks_url on the managers' balancer): every worker fetches https://lb-manager:9443/oauth2/jwks and serves the API", async () => {
      await using lab = await startTestLab(pattern, { product });
      const api = await deployOne(lab);
      for (const worker of workers(lab.lab).map((w) => w.name)) {
        const e = await firstAnswer(lab, worker, api);
        expect({ worker, status: e.status, jwks: await pulledJwksUrl(lab, worker) }).toEqual({
          worker,
          status: 200,
          jwks: 'https://lb-manager:9443/oauth2/jwks',
        });
        process.stdout.write(
          `${product.id} pattern ${pattern} as generated: ${worker} ${describeExchange(e)}; ${Date.now() - api.deployedAt} ms after the deploy\n`,
        );
      }
    });

    test("with the managers' oauth2_jwks_url removed: the JWKS URL is https://localhost:<manager listener port>/oauth2/jwks, and every worker answers 500 900900", async () => {
      await using lab = await startTestLab(pattern, { product }, { faults: [STOCK_JWKS_URL] });
      const stock = `https://localhost:${portalPort(lab.lab)}/oauth2/jwks`;
      const api = await deployOne(lab);
      for (const worker of workers(lab.lab).map((w) => w.name)) {
        const e = await firstAnswer(lab, worker, api);
        expect({ worker, status: e.status, body: e.body, jwks: await pulledJwksUrl(lab, worker) }).toEqual({
          worker,
          status: 500,
          body: { code: '900900', message: 'Unclassified Authentication Failure', description: 'Unclassified Authentication Failure' },
          jwks: stock,
        });
        // Nothing is cached after a failed fetch: the next call tries again, and fails again.
        expect((await invoke(lab.http(lab.workerApiUrl(worker)), api.context, '1.0.0', api.token)).status).toBe(500);
        const logs = await lab.logs(worker, 400);
        expect(logs).toContain(`ERROR {JWTValidatorImpl} - Error while connecting to JWKS endpoint ${stock}`);
        process.stdout.write(
          `${product.id} pattern ${pattern} stock JWKS URL: ${worker} ${describeExchange(e)}; log: ${/Error while connecting to JWKS endpoint .*/.exec(logs)?.[0]}\n`,
        );
      }
    });
  });
});
