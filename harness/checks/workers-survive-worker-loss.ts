import { Check, CheckContext, CheckFailure, round, TimelinePoint } from '../check';
import { invoke } from '../apim-client';

/** Failed requests the lab may lose when a worker is stopped or killed (NGINX retries on the other). */
export const WORKER_LOSS_FAILED_REQUESTS_BOUND = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Losing a worker costs no API traffic, and a worker that was down catches up on what it missed. */
type LossFigures = { requests: number; failedRequests: number; maxLatencyMs: number; caughtUpMs: number | null };
export type WorkerLossFigures = { failedRequestsBound: number; stop: LossFigures; kill: LossFigures };

export const workersSurviveWorkerLoss: Check<WorkerLossFigures> = {
  id: 'workers-survive-worker-loss',
  title: `Stopping or killing a worker under load fails at most ${WORKER_LOSS_FAILED_REQUESTS_BOUND} requests through the worker balancer, and the worker serves APIs deployed while it was down`,
  headline: (f) => (['stop', 'kill'] as const).map((v) => `${v}: ${f[v]?.failedRequests ?? '?'} failed`).join(', '),
  async run(ctx: CheckContext<WorkerLossFigures>) {
    const { lab } = ctx;
    const victim = lab.workers[lab.workers.length - 1].name;
    const api = await ctx.deployedApi();
    const client = await ctx.managerClient();
    const http = lab.http(lab.apiUrl());
    ctx.figures.failedRequestsBound = WORKER_LOSS_FAILED_REQUESTS_BOUND;
    const problems: string[] = [];
    for (const variant of ['stop', 'kill'] as const) {
      const points: TimelinePoint[] = [];
      let running = true;
      const t0 = performance.now();
      const load = (async () => {
        while (running) {
          const t = performance.now() - t0;
          const e = await invoke(http, api.context, api.version, api.token);
          points.push({ t: Math.round(t), method: 'GET invoke', status: e.status, ok: e.status === 200, ms: Math.round(e.ms), upstream: e.upstream });
          if (e.status !== 200) ctx.record(e);
          await sleep(20);
        }
      })();
      await sleep(1000);
      const faultAt = performance.now() - t0;
      await (variant === 'stop' ? lab.stop(victim) : lab.kill(victim));
      // Deployed while the worker is down: it must get it on restart (startup sync).
      const tag = ctx.unique('missed');
      const missed = { name: `Missed${tag}`, context: `/missed-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl };
      const { apiId } = await client.createAndDeploy(missed, lab.vhost);
      const { token } = await client.subscribe(`missed-${tag}`, [apiId]);
      await sleep(2000);
      running = false;
      await load;
      ctx.timelines.push({ name: `${variant} ${victim}`, faultAt: Math.round(faultAt), points });
      await lab.start(victim);
      await lab.waitHealthy();
      let caughtUpMs: number | null = null;
      try {
        caughtUpMs = round(await ctx.untilServed(lab.workerApiUrl(victim), { ...missed, token }, lab.product.timing.propagationBoundMs * 5));
      } catch (err) {
        problems.push(`${variant}: ${victim} did not serve ${missed.context}, deployed while it was down: ${(err as Error).message}`);
      }
      // Served directly by the returning worker, not only through the balancer.
      const direct = await invoke(lab.http(lab.workerApiUrl(victim)), missed.context, missed.version, token);
      if (direct.status !== 200) problems.push(`${variant}: ${victim} answers ${direct.status} for ${missed.context}`);
      const failed = points.filter((p) => !p.ok).length;
      ctx.figures[variant] = { requests: points.length, failedRequests: failed, maxLatencyMs: Math.max(...points.map((p) => p.ms), 0), caughtUpMs };
      if (failed > WORKER_LOSS_FAILED_REQUESTS_BOUND) problems.push(`${variant}: ${failed} of ${points.length} requests failed (bound ${WORKER_LOSS_FAILED_REQUESTS_BOUND})`);
    }
    if (problems.length) throw new CheckFailure(problems.join('; '), [victim, lab.workerBalancer]);
  },
};
