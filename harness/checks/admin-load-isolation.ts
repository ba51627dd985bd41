import type { LabSpec } from '../../generator/model/lab';
import { invoke } from '../apim-client';
import { Check, CheckContext, DeployedApi, fixtureMs, paceOf, percentile, planOf, round } from '../check';
import { HttpClient } from '../http';

const SAMPLES = 120;
/**
 * The judged phase (the manager balancer saturated) takes twice as many: its p99 is then the third
 * slowest call, not the second, so one or two calls another process on this machine slowed do not
 * decide the verdict (seen once in CI: p99 123.8 ms against a bound of 115.9 ms, with the p50 at
 * 10.7 ms against 9.9 ms with no load); a balancer that shares the path fails many calls.
 */
const SATURATED_SAMPLES = 2 * SAMPLES;
const REST_CONCURRENCY = 8;
const SATURATED_MAX_FAILURES = 3;

/**
 * Bound on worker-listener p99 while the manager listener's balancer is saturated, enforced for
 * pattern 3: 3 × the no-load p99 + 25 ms, and no failed request (README, admin-load-isolation).
 * REST admin load is measured and recorded but not enforced: on one host all containers share
 * the same CPUs, so latency under CPU load says more about the machine than about the pattern.
 */
export const isolationBoundMs = (baselineP99: number) => 3 * baselineP99 + 25;

/** Pattern 3's separate balancers are the promise judged; patterns 1 and 2 share one, and their figures are recorded. */
const enforcedOn = (lab: LabSpec) => lab.pattern === 3;

interface Sample {
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

/**
 * Sequential invocations; stops early after `maxFailures` failures so a dead listener costs
 * seconds, not minutes.
 */
async function sample(ctx: CheckContext, http: HttpClient, api: DeployedApi, maxFailures = 10, samples = SAMPLES): Promise<Sample> {
  const latencies: number[] = [];
  let failures = 0;
  for (let i = 0; i < samples && failures < maxFailures; i++) {
    ctx.alive();
    const e = await invoke(http, api.context, api.version, api.token);
    if (e.status === 200) latencies.push(e.ms);
    else failures++;
  }
  return { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), failures };
}

/** Pattern 3's reason to exist: admin load on the manager listener does not hurt API traffic. */
export type IsolationFigures = {
  samples: number;
  /** Calls in the judged phase (the manager balancer saturated). */
  saturatedSamples: number;
  enforced: boolean;
  boundMs: number;
  baselineP50Ms: number;
  baselineP99Ms: number;
  baselineFailures: number;
  restAdminConcurrency: number;
  restAdminRequests: number;
  underRestLoadP50Ms: number;
  underRestLoadP99Ms: number;
  underRestLoadFailures: number;
  saturatedBalancer: string;
  /** The balancer of the worker listener the samples went through. */
  workerBalancer: string;
  underSaturationP50Ms: number;
  underSaturationP99Ms: number;
  underSaturationFailures: number;
  /** A first measurement above the bound (no call failed), measured again: the second is judged, both are recorded. */
  firstAttempt?: { baselineP99Ms: number; boundMs: number; underSaturationP50Ms: number; underSaturationP99Ms: number };
};

export const adminLoadIsolation: Check<IsolationFigures> = {
  id: 'admin-load-isolation',
  title: 'Admin load on the manager listener does not hurt the worker listener (enforced for pattern 3, recorded for 1 and 2)',
  // It saturates a balancer and judges the latency that causes on pattern 3, where another lab's
  // work would add to it; on patterns 1 and 2 that latency is recorded, not judged (their judged
  // baseline failures are no latency), so there it takes a share as any check. Measured in a
  // rehearsal's gate trace: taking the whole machine there held 30 share-seconds, and kept a share
  // idle for about 100 s while it waited for the other lab's check to end.
  machine: (lab) => (enforcedOn(lab) ? 'whole' : 'share'),
  plan(lab) {
    const { call, timing } = paceOf(lab);
    // Four samples of API calls (a gateway call is a fifth of an admin one), the fixture first.
    return planOf({
      floorMs: 0,
      workMs: fixtureMs(lab) + ((3 * SAMPLES + SATURATED_SAMPLES) * call) / 5,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `3 × ${SAMPLES} and ${SATURATED_SAMPLES} API calls and the shared API`,
      // A p99 above the bound is measured once more (a baseline and a saturation with no failed call first).
      worstMs: ((SAMPLES + SATURATED_SAMPLES) * call) / 5 + (3 * 10 + SATURATED_MAX_FAILURES + 10) * timing.requestTimeoutMs,
    });
  },
  headline: (f) =>
    `worker p99 ${f.baselineP99Ms ?? '?'} ms; ${f.underRestLoadP99Ms ?? '?'} ms under REST admin load; ${f.underSaturationP99Ms === undefined ? '?' : Number.isFinite(f.underSaturationP99Ms) ? `p99 ${f.underSaturationP99Ms} ms` : 'none served'}, ${f.underSaturationFailures === SATURATED_MAX_FAILURES ? `${SATURATED_MAX_FAILURES} (stopped there)` : (f.underSaturationFailures ?? '?')} failed with ${f.saturatedBalancer ?? '?'} saturated (${f.enforced ? `bound ${f.boundMs} ms` : 'recorded'})`,
  async run(ctx: CheckContext<IsolationFigures>) {
    const { lab } = ctx;
    const api = await ctx.deployedApi();
    const client = await ctx.controlPlane();
    const worker = lab.http(lab.apiUrl());
    ctx.step('baseline of the worker listener');
    await sample(ctx, worker, api); // warm-up
    let baseline = await sample(ctx, worker, api);

    // REST admin load: recorded only, since on one host every container shares the same CPUs.
    let loading = true;
    let adminRequests = 0;
    const loops = Array.from({ length: REST_CONCURRENCY }, async () => {
      while (loading && ctx.live) {
        await client.listApis();
        adminRequests++;
      }
    });
    ctx.step('the worker listener under REST admin load');
    const underRest = await sample(ctx, worker, api);
    loading = false;
    await Promise.all(loops);

    // Saturation: the manager listener's balancer stops answering (paused, as under admin load it
    // cannot keep up). Pattern 3's worker traffic does not pass through it; a shared one does.
    const saturated = async (): Promise<Sample> => {
      ctx.step(`the worker listener with ${lab.managerBalancer} frozen`);
      await lab.pause(lab.managerBalancer);
      try {
        // Behind a frozen balancer each failure is a 2 s timeout: three say it as surely as ten (a
        // single one fails pattern 3).
        return await sample(ctx, new HttpClient(lab.apiUrl(), 2000), api, SATURATED_MAX_FAILURES, SATURATED_SAMPLES);
      } finally {
        await lab.unpause(lab.managerBalancer);
      }
    };
    let underSaturation = await saturated();
    const enforced = enforcedOn(lab.lab);
    // A p99 above the bound with no failed call is measured once more, baseline and saturation, and
    // the second is judged (both recorded): the whole machine is this check's, but the idle labs
    // beside it are not stopped (Docker's health checks, a classic lab's sync and deployment tick),
    // and three slow calls of 240 in one 2-second window were seen to be theirs (classic pattern 3,
    // p50 7 ms as without load, p99 101.6 ms against a bound of 85). A balancer on the worker path
    // fails calls, or slows every window: it fails both.
    if (enforced && !underSaturation.failures && !(underSaturation.p99 <= isolationBoundMs(baseline.p99))) {
      ctx.figures.firstAttempt = {
        baselineP99Ms: baseline.p99,
        boundMs: round(isolationBoundMs(baseline.p99)),
        underSaturationP50Ms: underSaturation.p50,
        underSaturationP99Ms: underSaturation.p99,
      };
      ctx.log(
        `p99 ${underSaturation.p99} ms above the bound of ${ctx.figures.firstAttempt.boundMs} ms: measuring baseline and saturation again`,
      );
      ctx.step('baseline of the worker listener, again');
      baseline = await sample(ctx, worker, api);
      underSaturation = await saturated();
    }
    const bound = isolationBoundMs(baseline.p99);
    Object.assign(ctx.figures, {
      samples: SAMPLES,
      saturatedSamples: SATURATED_SAMPLES,
      enforced,
      boundMs: round(bound),
      baselineP50Ms: baseline.p50,
      baselineP99Ms: baseline.p99,
      baselineFailures: baseline.failures,
      restAdminConcurrency: REST_CONCURRENCY,
      restAdminRequests: adminRequests,
      underRestLoadP50Ms: underRest.p50,
      underRestLoadP99Ms: underRest.p99,
      underRestLoadFailures: underRest.failures,
      saturatedBalancer: lab.managerBalancer,
      workerBalancer: lab.workerBalancer,
      underSaturationP50Ms: underSaturation.p50,
      underSaturationP99Ms: underSaturation.p99,
      underSaturationFailures: underSaturation.failures,
    });
  },
  problems(f) {
    const problems: string[] = [];
    if (f.baselineFailures) problems.push(`${f.baselineFailures} worker requests failed with no admin load`);
    if (!f.enforced) return problems;
    const bound = isolationBoundMs(f.baselineP99Ms);
    if (f.underSaturationFailures)
      problems.push(`${f.underSaturationFailures} worker requests failed while ${f.saturatedBalancer} was saturated`);
    // A p99 of no call at all (NaN: every one failed) is no latency within the bound either.
    if (!(f.underSaturationP99Ms <= bound))
      problems.push(
        `worker-listener p99 ${f.underSaturationP99Ms} ms while ${f.saturatedBalancer} was saturated, above the bound of ${round(bound)} ms (baseline ${f.baselineP99Ms} ms)`,
      );
    return problems;
  },
  suspects: (f) => [f.workerBalancer, f.saturatedBalancer],
};
