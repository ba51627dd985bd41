import { Check, CheckContext, CheckFailure, paceOf, percentile, planOf, round } from '../check';
import { PUBLISHER } from '../apim-client';

/** Block → unblock cycles: each measures both directions on every target. */
const CYCLES = 3;
/** How long a target is given to enforce a change before it counts as never: thrice the bound. */
const waitMs = (bound: number) => Math.max(bound * 3, 10_000);
/** What a gateway answers a call on a blocked subscription (carbon-apimgt 9.29.120: API_BLOCKED, a 401). */
const BLOCKED_CODE = '900907';
/** What it answers a revoked token: Invalid Credentials, a 401. */
const REVOKED_CODE = '900901';

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
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
};

/**
 * What a manager decides about a subscription or a token is enforced by every worker: a subscription
 * blocked through the manager balancer is refused on each worker (the product's 401 900907), and
 * served again after it is unblocked; then its token, revoked at the manager's `/oauth2/revoke`, is
 * refused on each worker (401 900901); each within the product's propagation bound. In the product
 * the changes travel as notifications from the control plane's event hub to each gateway (a
 * SUBSCRIPTIONS_UPDATE for its subscription data store, a token revocation for its revoked-token
 * map), the path deploy events take.
 */
export const policiesPropagate: Check<PolicyPropagationFigures> = {
  id: 'policies-propagate',
  title: `Subscriptions blocked and unblocked, and tokens revoked, through the manager balancer are enforced by every worker (${CYCLES} block/unblock cycles, then a revocation; the manager's 200 → every worker refusing 401 ${BLOCKED_CODE}, serving again, refusing 401 ${REVOKED_CODE})`,
  headline: (f) => `p50 ${f.p50Ms ?? '?'} ms, p95 ${f.p95Ms ?? '?'} ms (bound ${f.boundMs ?? '?'} ms)`,
  machine: 'share',
  plan(lab) {
    const { call, propagation, timing } = paceOf(lab);
    const bound = timing.propagationBoundMs;
    // The application, its subscription, keys and token; then each cycle: two calls, two propagations.
    return planOf({ floorMs: 0, workMs: 8 * call + propagation + (CYCLES * 2 + 1) * (call + propagation), requestTimeoutMs: timing.requestTimeoutMs,
      why: `${CYCLES} block/unblock cycles and a revocation, propagation bound ${bound} ms`, worstMs: 8 * call + waitMs(bound) * (2 * CYCLES + 2) });
  },
  async run(ctx: CheckContext<PolicyPropagationFigures>) {
    const { lab } = ctx;
    const bound = lab.product.timing.propagationBoundMs;
    const client = await ctx.managerClient();
    const api = await ctx.deployedApi();
    const targets: [string, string][] = [...lab.workers.map((w) => [w.name, lab.workerApiUrl(w.name)] as [string, string]), [lab.workerBalancer, lab.apiUrl()]];
    const blockMs: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    const unblockMs: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    ctx.step('subscribing an application of its own to the shared API');
    const { token, steps } = await client.subscribe(`pol-${ctx.unique('p')}`, [api.apiId]);
    const subscriptionId = (steps[1].body as { subscriptionId: string }).subscriptionId;
    const keys = steps[steps.length - 2].body as { consumerKey: string; consumerSecret: string };
    const ours = { ...api, token };
    await Promise.all(targets.map(([, url]) => ctx.untilServed(url, ours, waitMs(bound))));

    /** Until a target answers as wanted: ms from the call, or why it never did (its last answer). */
    const until = (url: string, wanted: (status: number, code: string | undefined) => boolean): Promise<number | string> =>
      ctx.untilAnswers(url, ours, wanted, 'enforce the change on', waitMs(bound)).catch((err: Error) => err.message);
    const change = async (what: 'block' | 'unblock' | 'revoke', into: (name: string, ms: number) => void) => {
      if (what === 'revoke') {
        const answer = ctx.record(await client.tryRevoke(keys.consumerKey, keys.consumerSecret, token));
        if (answer.status !== 200) throw new CheckFailure(`revoking the application's token at the manager balancer's /oauth2/revoke answered ${answer.status}`);
      } else {
        const path = what === 'block' ? `block-subscription?subscriptionId=${subscriptionId}&blockState=BLOCKED` : `unblock-subscription?subscriptionId=${subscriptionId}`;
        const answer = ctx.record(await client.call('POST', `${PUBLISHER}/subscriptions/${path}`));
        if (answer.status !== 200) throw new CheckFailure(`${what}ing the subscription through the manager balancer answered ${answer.status}`);
      }
      const wanted = {
        block: (status: number, code: string | undefined) => status === 401 && code === BLOCKED_CODE,
        unblock: (status: number) => status === 200,
        revoke: (status: number, code: string | undefined) => status === 401 && code === REVOKED_CODE,
      }[what];
      const felt = { block: 'still served a BLOCKED subscription', unblock: 'still refused an unblocked subscription', revoke: 'still served a revoked token' }[what];
      const results = await Promise.all(targets.map(async ([name, url]) => [name, await until(url, wanted)] as const));
      const never: string[] = [];
      for (const [name, r] of results) {
        if (typeof r === 'number') into(name, r);
        else never.push(`${name} ${felt} ${round(waitMs(bound) / 1000)} s after the ${what === 'revoke' ? 'revocation' : what} (${r})`);
      }
      return never;
    };
    const revokeMs: Record<string, number> = {};

    let cycles = 0;
    const never: string[] = [];
    try {
      for (let i = 1; i <= CYCLES && !never.length; i++) {
        cycles = i;
        ctx.step(`cycle ${i} of ${CYCLES}: blocking the subscription, then waiting for every worker to refuse it`);
        never.push(...await change('block', (n, ms) => blockMs[n].push(ms)));
        if (never.length) break;
        ctx.step(`cycle ${i} of ${CYCLES}: unblocking it, then waiting for every worker to serve it again`);
        never.push(...await change('unblock', (n, ms) => unblockMs[n].push(ms)));
      }
      if (!never.length) {
        ctx.step('revoking the application\'s token at /oauth2/revoke, then waiting for every worker to refuse it');
        never.push(...await change('revoke', (n, ms) => { revokeMs[n] = ms; }));
      }
    } finally {
      // The lab is left as found: the subscription unblocked (it and the revoked token are this check's own).
      await client.call('POST', `${PUBLISHER}/subscriptions/unblock-subscription?subscriptionId=${subscriptionId}`).catch(() => undefined);
    }
    const all = [...Object.values(blockMs), ...Object.values(unblockMs), Object.values(revokeMs)].flat();
    const rounded = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v.map((x) => round(x))]));
    ctx.figures.cycles = cycles;
    ctx.figures.boundMs = bound;
    ctx.figures.blockMs = rounded(blockMs);
    ctx.figures.unblockMs = rounded(unblockMs);
    ctx.figures.revokeMs = Object.fromEntries(Object.entries(revokeMs).map(([n, v]) => [n, round(v)]));
    ctx.figures.p50Ms = round(percentile(all, 50));
    ctx.figures.p95Ms = round(percentile(all, 95));
    ctx.figures.maxMs = round(Math.max(...all, 0));
    if (never.length) throw new CheckFailure(never.join('; '), lab.workers.map((w) => w.name));
    const slow = [
      ...Object.entries(blockMs).map(([n, v]) => [`${n} (block)`, v] as const), ...Object.entries(unblockMs).map(([n, v]) => [`${n} (unblock)`, v] as const),
      ...Object.entries(revokeMs).map(([n, v]) => [`${n} (revocation)`, [v]] as const),
    ].flatMap(([n, v]) => v.filter((x) => x > bound).map((x) => `${n} took ${round(x)} ms`));
    if (slow.length) throw new CheckFailure(`subscription and token changes slower than the bound of ${bound} ms: ${slow.join(', ')}`, lab.workers.map((w) => w.name));
  },
};
