import { Check, CheckContext, fixtureMs, paceOf, planOf, round } from '../check';
import { startupBudgetSeconds } from '../../generator/model/start-order';
import { impactOf, Recorder } from '../load';
import { invoke } from '../apim-client';
import { workers } from '../../generator/model/lab';

/** Failed requests the lab may lose when a worker is stopped or killed (NGINX retries on the other). */
export const WORKER_LOSS_FAILED_REQUESTS_BOUND = 0;

/** Requests through the worker balancer before any fault, to see each worker's share of them. */
const SHARE_REQUESTS = 60;
/**
 * A worker takes a share when it serves at least half its even part of the balancer's requests
 * (round robin gives each exactly its part; half leaves room for a retry or a slow start).
 */
export function sharesMissing(served: Readonly<Record<string, number>>, workerNames: readonly string[], requests: number): string[] {
  const fair = requests / workerNames.length;
  return workerNames
    .filter((w) => (served[w] ?? 0) < fair / 2)
    .map(
      (w) =>
        `${w} took no share of the worker listener's traffic (${served[w] ?? 0} of ${requests} requests, an even part is ${fair.toFixed(0)})`,
    );
}

/** Losing a worker costs no API traffic, and a worker that was down catches up on what it missed. */
type LossFigures = {
  requests: number;
  failedRequests: number;
  stalledRequests: number;
  rtoMs: number;
  maxLatencyMs: number;
  caughtUpMs: number | null;
  /** Why the returning worker did not serve the API deployed while it was down (caughtUpMs null). */
  catchUpError?: string;
  /** Its status for that API, asked directly after it caught up. */
  directStatus: number;
  /** The API deployed while it was down. */
  missedContext: string;
};
export type WorkerLossFigures = {
  failedRequestsBound: number;
  workers: string[];
  workerBalancer: string;
  shareRequests: number;
  /** Requests each worker served through the worker balancer before any fault (others: `status N`, `no upstream header`). */
  servedBy: Record<string, number>;
  /** The worker lost: the one that served most (losing it costs the most traffic, so it is the hardest case). */
  victim?: string;
  /** Measured only when every worker took its share. */
  stop?: LossFigures;
  kill?: LossFigures;
};

export const workersSurviveWorkerLoss: Check<WorkerLossFigures> = {
  id: 'workers-survive-worker-loss',
  title: `Every worker takes a share of the worker balancer's traffic; stopping or killing the busiest worker under load fails at most ${WORKER_LOSS_FAILED_REQUESTS_BOUND} requests through the worker balancer and stalls none, and the worker serves APIs deployed while it was down`,
  skipReason: (lab) => (workers(lab).length < 2 ? 'one worker: no other takes its traffic' : undefined),
  plan(lab) {
    const { call, boot, propagation, timing } = paceOf(lab);
    // Each variant: a second of load, the fault, an API deployed meanwhile (11 calls), 2 s more, the worker's boot, its catch-up.
    return planOf({
      floorMs: 2 * (3_000 + boot('worker')),
      workMs: fixtureMs(lab) + 2 * (11 * call + propagation),
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `stop and kill, each a worker boot of ${boot('worker') / 1000} s`,
      worstMs: 2 * (3_000 + (11 * timing.requestTimeoutMs) / 4 + startupBudgetSeconds(lab) * 1000 + 5 * timing.propagationBoundMs),
    });
  },
  headline: (f) =>
    `served by ${
      Object.entries(f.servedBy ?? {})
        .map(([w, n]) => `${w} ${n}`)
        .join(', ') || '?'
    }; ${f.victim ?? '?'} lost: ${(['stop', 'kill'] as const).map((v) => `${v}: ${f[v]?.failedRequests ?? '?'} failed, ${f[v]?.stalledRequests ?? '?'} stalled`).join(', ')}`,
  async run(ctx: CheckContext<WorkerLossFigures>) {
    const { lab } = ctx;
    const api = await ctx.deployedApi();
    const client = await ctx.controlPlane();
    const http = lab.http(lab.apiUrl());
    ctx.figures.failedRequestsBound = WORKER_LOSS_FAILED_REQUESTS_BOUND;
    ctx.step(`${SHARE_REQUESTS} requests through ${lab.workerBalancer}: each worker's share`);
    const servedBy: Record<string, number> = Object.fromEntries(lab.workers.map((w) => [w.name, 0]));
    for (let i = 0; i < SHARE_REQUESTS; i++) {
      ctx.alive();
      const e = await invoke(http, api.context, api.version, api.token);
      if (e.status !== 200) ctx.record(e);
      const by = e.status === 200 ? (e.upstream ?? 'no upstream header') : `status ${e.status}`;
      servedBy[by] = (servedBy[by] ?? 0) + 1;
    }
    Object.assign(ctx.figures, {
      servedBy,
      workers: lab.workers.map((w) => w.name),
      workerBalancer: lab.workerBalancer,
      shareRequests: SHARE_REQUESTS,
    });
    // A worker left out ends the check here: losing the one that serves everything says nothing more.
    if (sharesMissing(servedBy, ctx.figures.workers!, SHARE_REQUESTS).length) return;
    const victim = lab.workers.map((w) => w.name).reduce((a, b) => (servedBy[b] > servedBy[a] ? b : a));
    ctx.figures.victim = victim;
    for (const variant of ['stop', 'kill'] as const) {
      ctx.step(`${variant} of ${victim} under load`);
      const load = new Recorder();
      let running = true;
      const invoker = (async () => {
        while (running && ctx.live) {
          const e = await load.timed('GET invoke', () => invoke(http, api.context, api.version, api.token), [200]);
          if (e.status !== 200) ctx.record(e);
          await ctx.sleep(20).catch(() => undefined);
        }
      })();
      await ctx.sleep(1000);
      const faultRequestedAt = load.now();
      await (variant === 'stop' ? lab.stop(victim) : lab.kill(victim));
      const faultAt = load.now();
      // Deployed while the worker is down: it must get it on restart (startup sync).
      const tag = ctx.unique('missed');
      const missed = { name: `Missed${tag}`, context: `/missed-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl };
      const { apiId } = await client.createAndDeploy(missed, lab.vhost);
      const { token } = await client.subscribe(`missed-${tag}`, [apiId]);
      await ctx.sleep(2000).finally(() => {
        running = false;
      });
      running = false;
      await invoker;
      ctx.timelines.push({ name: `${variant} ${victim}`, faultAt: Math.round(faultAt), points: load.points });
      const impact = impactOf(load.points, faultRequestedAt, faultAt, lab.product.timing.stallMs);
      ctx.step(`${victim} starting again (a worker's boot: ${lab.product.timing.bootSeconds.worker} s)`);
      await lab.start(victim);
      await lab.waitHealthy();
      let caughtUpMs: number | null = null;
      let catchUpError: string | undefined;
      try {
        caughtUpMs = round(
          await ctx.untilServed(lab.workerApiUrl(victim), { ...missed, token }, lab.product.timing.propagationBoundMs * 5),
        );
      } catch (err) {
        catchUpError = (err as Error).message;
      }
      // Served directly by the returning worker, not only through the balancer.
      const direct = await invoke(lab.http(lab.workerApiUrl(victim)), missed.context, missed.version, token);
      ctx.figures[variant] = {
        requests: load.points.length,
        failedRequests: load.points.filter((p) => !p.ok).length,
        stalledRequests: impact.stalled,
        rtoMs: round(impact.rtoMs),
        maxLatencyMs: impact.maxLatencyMs,
        caughtUpMs,
        ...(catchUpError === undefined ? {} : { catchUpError }),
        directStatus: direct.status,
        missedContext: missed.context,
      };
    }
  },
  problems(f, bounds) {
    const unshared = sharesMissing(f.servedBy, f.workers, f.shareRequests);
    if (unshared.length) return [`${unshared.join('; ')}: ${JSON.stringify(f.servedBy)}`];
    const problems: string[] = [];
    for (const variant of ['stop', 'kill'] as const) {
      const v = f[variant];
      if (!v) {
        problems.push(`${variant}: not measured`);
        continue;
      }
      if (v.caughtUpMs === null)
        problems.push(
          `${variant}: ${f.victim} did not serve ${v.missedContext}, deployed while it was down: ${v.catchUpError ?? 'no answer'}`,
        );
      if (v.directStatus !== 200) problems.push(`${variant}: ${f.victim} answers ${v.directStatus} for ${v.missedContext}`);
      if (v.failedRequests > WORKER_LOSS_FAILED_REQUESTS_BOUND)
        problems.push(`${variant}: ${v.failedRequests} of ${v.requests} requests failed (bound ${WORKER_LOSS_FAILED_REQUESTS_BOUND})`);
      if (v.stalledRequests)
        problems.push(`${variant}: ${v.stalledRequests} requests stalled over ${bounds.stallMs} ms (slowest ${v.maxLatencyMs} ms)`);
    }
    return problems;
  },
  suspects: (f) => (f.victim ? [f.victim, f.workerBalancer] : [f.workerBalancer]),
};
