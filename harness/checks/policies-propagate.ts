import { workers } from '../../generator/model/lab';
import { Check, CheckContext, CheckFailure, paceOf, percentile, planOf, round, slowerThan } from '../check';
import { invoke } from '../apim-client';
import { isClassic } from '../../generator/products/product';
import { pause } from '../../generator/runtime/retry';

/** Block → unblock cycles: each measures both directions on every target. */
const CYCLES = 3;
/** How long a target is given to enforce a change before it counts as never: thrice the bound. */
const waitMs = (bound: number) => Math.max(bound * 3, 10_000);
/** On the classic product: a little past the token cache's bound, as a worker's answer changes only at its cache's sweeps. */
const classicWaitMs = (blockBound: number) => blockBound + 10_000;
/** What a gateway answers a call on a blocked subscription (carbon-apimgt 9.29.120: API_BLOCKED, a 401). */
const BLOCKED_CODE = '900907';
/** What it answers a revoked token: Invalid Credentials, a 401. */
const REVOKED_CODE = '900901';
/** What it answers past a subscription policy's quota: 429 "Message throttled out" (SUBSCRIPTION_THROTTLE_OUT_ERROR_CODE). */
const THROTTLED_CODE = '900804';
/** What it answers past an application policy's quota, looked at after the subscription's: 429 (APPLICATION_THROTTLE_OUT_ERROR_CODE). */
const APPLICATION_THROTTLED_CODE = '900803';
/** The check's own subscription policy: this many requests an hour (windows aligned on the clock hour, as the traffic manager's). */
const QUOTA = 10;
/** The check's own application policy: this many requests an hour, its application subscribed Unlimited. */
const APPLICATION_QUOTA = 6;
const HOUR_MS = 3_600_000;
/** A throttling run starts no closer than this to the end of the clock hour, so that its window does not roll over meanwhile. */
const HOUR_MARGIN_MS = 20_000;

export type PolicyPropagationFigures = {
  /** Block/unblock cycles done: all of them, or up to the first change a target never enforced. */
  cycles: number;
  boundMs: number;
  /** Block (manager's 200) → first 401 900907, ms, per worker and the worker balancer. */
  blockMs: Record<string, number[]>;
  /** Unblock (manager's 200) → first 200 again, ms, per target. */
  unblockMs: Record<string, number[]>;
  /** Token revoked at the manager's `/oauth2/revoke` (its 200) → first 401 900901, ms, per target. */
  revokeMs: Record<string, number>;
  /** The subscription policy's quota, requests an hour. */
  quota: number;
  /** Requests served in all (the workers in turn) until every target refused: the quota and what got through before the decision. */
  servedBeforeThrottled: number;
  /** The request that reached the quota (its 200) → first 429 900804, ms, per target. */
  throttleMs: Record<string, number>;
  /** The application policy's quota, requests an hour. */
  applicationQuota: number;
  /** Requests of the application served in all (the workers in turn) until every target refused it. */
  applicationServedBeforeThrottled: number;
  /** The request that reached the application's quota (its 200) → first 429 900803, ms, per target. */
  applicationThrottleMs: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** What a target never enforced within thrice the bound, or enforced too early (the verdict). */
  unenforced: string[];
  /**
   * The bound of a block or an unblock, ms: the product's (the classic gateways' token cache expiry
   * and sweep), or `boundMs`.
   */
  blockBoundMs?: number;
  /** What this run did not judge on this product, and why (the classic product's quotas and revocation). */
  notJudged?: string;
};

/** What the classic product leaves out of this check: a revocation travels another path (`revocation-reaches-workers` judges it). */
const CLASSIC_NOT_JUDGED = 'the revocation (revocation-reaches-workers judges the classic path)';
/** How often a classic worker is asked while its cached answer stands: it changes only at a sweep, 30 s apart. */
const CLASSIC_POLL_MS = 250;
/** Block → unblock cycles on the classic product: one, each direction waiting on the workers' token cache. */
const CLASSIC_CYCLES = 1;

/**
 * What a manager decides about a subscription or a token is enforced by every worker: a subscription
 * blocked through the manager balancer is refused on each worker (the product's 401 900907), and
 * served again after it is unblocked; then its token, revoked at the manager's `/oauth2/revoke`, is
 * refused on each worker (401 900901); each within the product's propagation bound. In the product
 * the changes travel as notifications from the control plane's event hub to each gateway (a
 * SUBSCRIPTIONS_UPDATE for its subscription data store, a token revocation for its revoked-token
 * map), the path deploy events take. Then quotas: a subscription policy's, then an application
 * policy's, counted by the traffic managers from every gateway's requests, and refused by each
 * gateway once a traffic manager's decision reaches it.
 */
export const policiesPropagate: Check<PolicyPropagationFigures> = {
  id: 'policies-propagate',
  title: `Subscriptions blocked and unblocked, tokens revoked, and subscription and application quotas, set through the manager balancer, are enforced by every worker (${CYCLES} block/unblock cycles, then a revocation; the manager's 200 → every worker refusing 401 ${BLOCKED_CODE}, serving again, refusing 401 ${REVOKED_CODE}; a subscription policy of ${QUOTA} requests an hour, the workers called in turn → every worker refusing 429 ${THROTTLED_CODE} once they served ${QUOTA} in all; an application policy of ${APPLICATION_QUOTA} → 429 ${APPLICATION_THROTTLED_CODE} once they served ${APPLICATION_QUOTA})`,
  headline: (f) =>
    `p50 ${f.p50Ms ?? '?'} ms, p95 ${f.p95Ms ?? '?'} ms (bound ${f.blockBoundMs ?? f.boundMs ?? '?'} ms)${f.notJudged ? `; not judged here: ${f.notJudged}` : ''}`,
  // On the classic product it mostly waits for the workers' cache sweeps, polling four times a second.
  machine: (lab) => (isClassic(lab.product) ? 'half' : 'share'),
  plan(lab) {
    const { call, propagation, timing } = paceOf(lab);
    const bound = timing.propagationBoundMs;
    if (isClassic(lab.product)) {
      // The application, its subscription, keys and token; then each direction waits for the workers'
      // cached answer to expire and be swept, the whole bound at most. A block's answer was cached
      // just before it, so it lives its expiry and up to a sweep's interval more (35 s on average
      // for the lab's 20 s); an unblock's refusal was cached just after a sweep and goes at the next
      // (30 s): about 1.25 × the bound a cycle.
      // Then the quotas, as on 4.x (the traffic managers' decisions are no cached answer).
      const blockBound = timing.blockBoundMs ?? bound;
      return planOf({
        floorMs: CLASSIC_CYCLES * 1.25 * blockBound,
        workMs:
          6 * call +
          propagation +
          CLASSIC_CYCLES * 2 * call +
          (9 + QUOTA + 6) * call +
          propagation +
          (5 + APPLICATION_QUOTA + 6) * call +
          propagation,
        requestTimeoutMs: timing.requestTimeoutMs,
        why: `${CLASSIC_CYCLES} block/unblock cycle, each direction within the workers' token cache expiry and sweep (${blockBound} ms), a subscription quota of ${QUOTA} and an application quota of ${APPLICATION_QUOTA}`,
        worstMs:
          10 * call +
          waitMs(bound) +
          CLASSIC_CYCLES * 2 * classicWaitMs(blockBound) +
          2 * waitMs(timing.decisionBoundMs ?? bound) +
          (QUOTA * 3 + APPLICATION_QUOTA * 3 + 14) * call +
          HOUR_MARGIN_MS,
      });
    }
    // The application, its subscription, keys and token; then each cycle: two calls, two propagations.
    // Throttling: a policy, the API's policies (a GET and a PUT), an application of its own, the quota's calls and a few
    // more, one propagation; then an application policy, an application with it, its subscription, keys and token, the
    // quota's calls and a few more, one propagation; and perhaps a wait past the end of the clock hour (once: after it,
    // the hour is new).
    return planOf({
      floorMs: 0,
      workMs:
        8 * call +
        propagation +
        (CYCLES * 2 + 1) * (call + propagation) +
        (9 + QUOTA + 6) * call +
        propagation +
        (5 + APPLICATION_QUOTA + 6) * call +
        propagation,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `${CYCLES} block/unblock cycles, a revocation, a subscription quota of ${QUOTA} and an application quota of ${APPLICATION_QUOTA}, propagation bound ${bound} ms`,
      worstMs: 22 * call + waitMs(bound) * (2 * CYCLES + 4) + (QUOTA * 3 + APPLICATION_QUOTA * 3) * call + HOUR_MARGIN_MS,
    });
  },
  async run(ctx: CheckContext<PolicyPropagationFigures>) {
    const { lab } = ctx;
    const bound = lab.product.timing.propagationBoundMs;
    const classic = isClassic(lab.product);
    const blockBound = lab.product.timing.blockBoundMs ?? bound;
    // A quota's refusal waits on a traffic manager's decision only (no sync, no tick, no cache).
    const decisionWait = waitMs(lab.product.timing.decisionBoundMs ?? bound);
    // A block or unblock is waited for past its bound: thrice the 4.x event path's; on the classic
    // product a little past the token cache's own (what it does later is the same verdict).
    const blockWait = classic ? classicWaitMs(blockBound) : waitMs(blockBound);
    const cyclesToRun = classic ? CLASSIC_CYCLES : CYCLES;
    // One logged-in client for the run: 4.x's REST client (its admin and token calls too), or the classic v0.14 flow.
    const manager = classic ? undefined : await ctx.managerClient();
    const flow = manager ?? (await ctx.controlPlane());
    const api = await ctx.deployedApi();
    const targets: [string, string][] = [
      ...lab.workers.map((w) => [w.name, lab.workerApiUrl(w.name)] as [string, string]),
      [lab.workerBalancer, lab.apiUrl()],
    ];
    const blockMs: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    const unblockMs: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    ctx.step('subscribing an application of its own to the shared API');
    const { token, steps } = await flow.subscribe(`pol-${ctx.unique('p')}`, [api.apiId]);
    const subscriptionId = (steps[1].body as { subscriptionId: string }).subscriptionId;
    // 4.x: application, subscription, keys, token (the revocation needs the keys; the classic product revokes elsewhere).
    const keys = classic ? undefined : (steps[steps.length - 2].body as { consumerKey: string; consumerSecret: string });
    const ours = { ...api, token };
    await Promise.all(targets.map(([, url]) => ctx.untilServed(url, ours, waitMs(bound))));

    /** Until a target answers as wanted: ms from the call, or why it never did (its last answer). */
    const until = (url: string, wanted: (status: number, code: string | undefined) => boolean, ms: number): Promise<number | string> =>
      ctx
        .untilAnswers(url, ours, wanted, 'enforce the change on', ms, classic ? CLASSIC_POLL_MS : undefined)
        .catch((err: Error) => err.message);
    const change = async (what: 'block' | 'unblock' | 'revoke', into: (name: string, ms: number) => void) => {
      const wait = what === 'revoke' ? waitMs(bound) : blockWait;
      if (what === 'revoke') {
        const answer = ctx.record(await manager!.tryRevoke(keys!.consumerKey, keys!.consumerSecret, token));
        if (answer.status !== 200)
          throw new CheckFailure(`revoking the application's token at the manager balancer's /oauth2/revoke answered ${answer.status}`);
      } else {
        const answer = ctx.record(await flow.trySetBlocked(subscriptionId, what === 'block'));
        if (answer.status !== 200)
          throw new CheckFailure(`${what}ing the subscription through the manager balancer answered ${answer.status}`);
      }
      const wanted = {
        block: (status: number, code: string | undefined) => status === 401 && code === BLOCKED_CODE,
        unblock: (status: number) => status === 200,
        revoke: (status: number, code: string | undefined) => status === 401 && code === REVOKED_CODE,
      }[what];
      const felt = {
        block: 'still served a BLOCKED subscription',
        unblock: 'still refused an unblocked subscription',
        revoke: 'still served a revoked token',
      }[what];
      const results = await Promise.all(targets.map(async ([name, url]) => [name, await until(url, wanted, wait)] as const));
      const never: string[] = [];
      for (const [name, r] of results) {
        if (typeof r === 'number') into(name, r);
        else never.push(`${name} ${felt} ${round(wait / 1000)} s after the ${what === 'revoke' ? 'revocation' : what} (${r})`);
      }
      return never;
    };
    const revokeMs: Record<string, number> = {};

    const never: string[] = [];
    /**
     * Calls the workers in turn with the token until they served the quota in all, then every target
     * until it refuses with 429 `code`: the requests served in all, and per target the ms from the
     * request that reached the quota (its 200) to its first refusal; a target that never refused is
     * put in `never`.
     */
    const exhaust = async (level: 'subscription' | 'application', quota: number, code: string, token: string) => {
      const quoted = { ...api, token };
      // The traffic manager's windows are clock hours: no run across the end of one.
      const left = HOUR_MS - (Date.now() % HOUR_MS);
      if (left < HOUR_MARGIN_MS) {
        ctx.step(`waiting ${round(left / 1000)} s for the clock hour to end (the policy's window)`);
        await pause(left + 1000, ctx.signal, 'the end of the clock hour');
      }
      ctx.step(`calling the workers in turn until each refuses the application (429 ${code}) after ${quota} requests in all`);
      const workers = lab.workers.map((w) => [w.name, lab.workerApiUrl(w.name)] as const);
      let served = 0;
      for (let i = 0; served < quota && i < quota * 3; i++) {
        const [name, url] = workers[i % workers.length];
        const e = ctx.record(await invoke(lab.http(url), quoted.context, quoted.version, quoted.token));
        if (e.status === 200) served++;
        else if (e.status === 429) {
          never.push(`${name} refused the application (429) after ${served} of the ${quota} requests its ${level} policy allows`);
          return { served, ms: {} };
        }
        // Not yet known to a worker (403 before the subscription reaches it): asked again.
        else if (e.status !== 403) throw new CheckFailure(`${name} answered ${e.status} to a call within the ${level}'s quota`, [name]);
      }
      const reachedAt = performance.now();
      if (served < quota) {
        never.push(`the workers served ${served} of ${quota} calls within the ${level}'s quota`);
        return { served, ms: {} };
      }
      const results = await Promise.all(
        targets.map(async ([name, url]) => {
          const r = await ctx
            .untilAnswers(
              url,
              quoted,
              (status, answered) => {
                if (status === 200) served++;
                return status === 429 && answered === code;
              },
              'refuse past the quota',
              decisionWait,
            )
            .then(
              () => performance.now() - reachedAt,
              (err: Error) => err.message,
            );
          return [name, r] as const;
        }),
      );
      const ms: Record<string, number> = {};
      for (const [name, r] of results) {
        if (typeof r === 'number') ms[name] = r;
        else
          never.push(
            `${name} still served past the ${level}'s quota of ${quota} requests an hour ${round(decisionWait / 1000)} s after it was reached (${r})`,
          );
      }
      return { served, ms };
    };

    // First the quotas (a traffic manager's decision: quick to judge), then the blocks (on the
    // classic product each waits on the token cache's sweeps), then the revocation; each part runs
    // when the ones before found every target enforcing them.
    // A subscription policy of its own, then an application policy of its own: every worker refuses
    // the application once the workers, called in turn, served the quota in all (the traffic managers
    // count every gateway's requests). The second runs whatever the first found.
    let throttleMs: Record<string, number> = {};
    let served = 0;
    let applicationThrottleMs: Record<string, number> = {};
    let applicationServed = 0;
    if (!never.length) {
      const tag = ctx.unique('q');
      const policyName = `carbonlabs${tag}`;
      ctx.step(`a subscription policy ${policyName} of ${QUOTA} requests an hour, an application subscribed with it`);
      const policy = ctx.record(await flow.tryAddPolicy('subscription', policyName, QUOTA));
      if (policy.status !== 201) throw new CheckFailure(`adding the subscription policy ${policyName} answered ${policy.status}`);
      // The API offers the policy (a subscription names one the API offers).
      const offered = ctx.record(await flow.tryOfferPolicy(api.apiId, policyName));
      if (offered.status !== 200) throw new CheckFailure(`offering the policy on the API answered ${offered.status}`);
      ({ served, ms: throttleMs } = await exhaust(
        'subscription',
        QUOTA,
        THROTTLED_CODE,
        (await flow.subscribe(`pol-${tag}`, [api.apiId], policyName)).token,
      ));

      const appTag = ctx.unique('a');
      const appPolicyName = `carbonlabs${appTag}`;
      ctx.step(
        `an application policy ${appPolicyName} of ${APPLICATION_QUOTA} requests an hour, an application with it subscribed Unlimited`,
      );
      const appPolicy = ctx.record(await flow.tryAddPolicy('application', appPolicyName, APPLICATION_QUOTA));
      if (appPolicy.status !== 201) throw new CheckFailure(`adding the application policy ${appPolicyName} answered ${appPolicy.status}`);
      const appToken = (await flow.subscribe(`pol-${appTag}`, [api.apiId], 'Unlimited', appPolicyName)).token;
      ({ served: applicationServed, ms: applicationThrottleMs } = await exhaust(
        'application',
        APPLICATION_QUOTA,
        APPLICATION_THROTTLED_CODE,
        appToken,
      ));
    }
    let cycles = 0;
    try {
      for (let i = 1; i <= cyclesToRun && !never.length; i++) {
        cycles = i;
        const cached = classic
          ? ` (a worker serves its cached answer up to ${round(blockBound / 1000)} s: token cache expiry and sweep)`
          : '';
        ctx.step(`cycle ${i} of ${cyclesToRun}: blocking the subscription, then waiting for every worker to refuse it${cached}`);
        never.push(...(await change('block', (n, ms) => blockMs[n].push(ms))));
        if (never.length) break;
        ctx.step(`cycle ${i} of ${cyclesToRun}: unblocking it, then waiting for every worker to serve it again${cached}`);
        never.push(...(await change('unblock', (n, ms) => unblockMs[n].push(ms))));
      }
      if (!never.length && !classic) {
        ctx.step("revoking the application's token at /oauth2/revoke, then waiting for every worker to refuse it");
        never.push(
          ...(await change('revoke', (n, ms) => {
            revokeMs[n] = ms;
          })),
        );
      }
    } finally {
      // The lab is left as found: the subscription unblocked (it and the revoked token are this check's own).
      await flow.trySetBlocked(subscriptionId, false).catch(() => undefined);
    }

    const all = [
      ...Object.values(blockMs),
      ...Object.values(unblockMs),
      Object.values(revokeMs),
      Object.values(throttleMs),
      Object.values(applicationThrottleMs),
    ].flat();
    const roundedOnce = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).map(([n, v]) => [n, round(v)]));
    const rounded = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v.map((x) => round(x))]));
    ctx.figures.cycles = cycles;
    ctx.figures.boundMs = bound;
    ctx.figures.blockMs = rounded(blockMs);
    ctx.figures.unblockMs = rounded(unblockMs);
    ctx.figures.revokeMs = roundedOnce(revokeMs);
    ctx.figures.quota = QUOTA;
    ctx.figures.servedBeforeThrottled = served;
    ctx.figures.throttleMs = roundedOnce(throttleMs);
    ctx.figures.applicationQuota = APPLICATION_QUOTA;
    ctx.figures.applicationServedBeforeThrottled = applicationServed;
    ctx.figures.applicationThrottleMs = roundedOnce(applicationThrottleMs);
    ctx.figures.p50Ms = round(percentile(all, 50));
    ctx.figures.p95Ms = round(percentile(all, 95));
    ctx.figures.maxMs = round(Math.max(...all, 0));
    ctx.figures.unenforced = never;
    ctx.figures.blockBoundMs = blockBound;
    if (classic) ctx.figures.notJudged = CLASSIC_NOT_JUDGED;
  },
  problems(f, bounds) {
    if (f.unenforced.length) return [f.unenforced.join('; ')];
    const bound = bounds.propagationBoundMs;
    // Each change by its own bound: blocks by a classic gateway's token cache, quotas by a traffic
    // manager's decision, the rest (and all of them on 4.x) by the propagation bound.
    const series = [
      ['block', f.blockMs, bounds.blockBoundMs ?? bound],
      ['unblock', f.unblockMs, bounds.blockBoundMs ?? bound],
      ['revocation', f.revokeMs, bound],
      ['quota', f.throttleMs, bounds.decisionBoundMs ?? bound],
      ['application quota', f.applicationThrottleMs, bounds.decisionBoundMs ?? bound],
    ] as const;
    const what = (kinds: readonly string[], b: number) =>
      b === bound ? 'subscription, token and quota changes' : kinds.every((k) => k.endsWith('block')) ? 'blocks and unblocks' : 'quotas';
    const why = (b: number) =>
      b === bound ? '' : b === bounds.blockBoundMs ? ' (token cache expiry and sweep)' : " (a traffic manager's decision)";
    // One line a bound, in the order the changes are made.
    const byBound = new Map<number, (typeof series)[number][]>();
    for (const s of series) byBound.set(s[2], [...(byBound.get(s[2]) ?? []), s]);
    return [...byBound].flatMap(([b, group]) => {
      const slow = slowerThan(
        group.map(([kind, ms]) => [kind, ms] as const),
        b,
      );
      return slow.length
        ? [
            `${what(
              group.map((g) => g[0]),
              b,
            )} slower than the bound of ${b} ms${why(b)}: ${slow.join(', ')}`,
          ]
        : [];
    });
  },
  suspects: (_f, lab) => workers(lab).map((w) => w.name),
};
