import { Check, CheckContext, CheckFailure, paceOf, percentile, planOf, round } from '../check';
import { describeExchange } from '../http';
import { invoke, PUBLISHER } from '../apim-client';
import { retryUntil } from '../../generator/runtime/retry';

/** Block → unblock cycles: each measures both directions on every target. */
const CYCLES = 3;
/** How long a target is given to enforce a change before it counts as never: thrice the bound. */
const waitMs = (bound: number) => Math.max(bound * 3, 10_000);
/** What a gateway answers a call on a blocked subscription (carbon-apimgt 9.29.120: API_BLOCKED, a 401). */
const BLOCKED_CODE = '900907';

export type PolicyPropagationFigures = {
  /** Block/unblock cycles done: all of them, or up to the first change a target never enforced. */
  cycles: number;
  boundMs: number;
  /** Block (manager's 200) → first 401 900907, ms, per worker and the worker balancer. */
  blockMs: Record<string, number[]>;
  /** Unblock (manager's 200) → first 200 again, ms, per target. */
  unblockMs: Record<string, number[]>;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
};

/**
 * What a manager decides about a subscription is enforced by every worker: a subscription blocked
 * through the manager balancer is refused on each worker (the product's 401 900907), and served
 * again after it is unblocked, each within the product's propagation bound. In the product the
 * change travels as a SUBSCRIPTIONS_UPDATE notification from the control plane's event hub to each
 * gateway's subscription data store, the path deploy events take.
 */
export const policiesPropagate: Check<PolicyPropagationFigures> = {
  id: 'policies-propagate',
  title: `Subscriptions blocked and unblocked through the manager balancer are enforced by every worker (${CYCLES} cycles, the manager's 200 → every worker refusing 401 ${BLOCKED_CODE}, then serving again)`,
  headline: (f) => `p50 ${f.p50Ms ?? '?'} ms, p95 ${f.p95Ms ?? '?'} ms (bound ${f.boundMs ?? '?'} ms)`,
  machine: 'share',
  plan(lab) {
    const { call, propagation, timing } = paceOf(lab);
    const bound = timing.propagationBoundMs;
    // The application, its subscription, keys and token; then each cycle: two calls, two propagations.
    return planOf({ floorMs: 0, workMs: 8 * call + propagation + CYCLES * 2 * (call + propagation), requestTimeoutMs: timing.requestTimeoutMs,
      why: `${CYCLES} block/unblock cycles, propagation bound ${bound} ms`, worstMs: 8 * call + waitMs(bound) * (2 * CYCLES + 1) });
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
    const ours = { ...api, token };
    await Promise.all(targets.map(([, url]) => ctx.untilServed(url, ours, waitMs(bound))));

    /** Until a target answers as wanted: ms from the call, or the last answer it gave when it never did. */
    const until = async (url: string, wanted: (status: number, code: string | undefined) => boolean): Promise<number | string> => {
      const started = performance.now();
      const http = lab.http(url);
      let last = 'no answer';
      try {
        await retryUntil(async () => {
          const e = await invoke(http, ours.context, ours.version, token);
          last = describeExchange(e);
          return wanted(e.status, (e.body as { code?: string } | undefined)?.code) ? true : undefined;
        }, { timeoutMs: waitMs(bound), intervalMs: 25, what: `${url} to enforce the change`, signal: ctx.signal });
        return performance.now() - started;
      } catch {
        return last;
      }
    };
    const change = async (what: 'block' | 'unblock', into: Record<string, number[]>) => {
      const path = what === 'block' ? `block-subscription?subscriptionId=${subscriptionId}&blockState=BLOCKED` : `unblock-subscription?subscriptionId=${subscriptionId}`;
      const answer = ctx.record(await client.call('POST', `${PUBLISHER}/subscriptions/${path}`));
      if (answer.status !== 200) throw new CheckFailure(`${what}ing the subscription through the manager balancer answered ${answer.status}`);
      const results = await Promise.all(targets.map(async ([name, url]) => [name, await until(url, what === 'block'
        ? (status, code) => status === 401 && code === BLOCKED_CODE
        : (status) => status === 200)] as const));
      const never: string[] = [];
      for (const [name, r] of results) {
        if (typeof r === 'number') into[name].push(r);
        else never.push(`${name} ${what === 'block' ? 'still served a BLOCKED subscription' : 'still refused an unblocked subscription'} ${round(waitMs(bound) / 1000)} s after the ${what} (last: ${r})`);
      }
      return never;
    };

    let cycles = 0;
    const never: string[] = [];
    try {
      for (let i = 1; i <= CYCLES && !never.length; i++) {
        cycles = i;
        ctx.step(`cycle ${i} of ${CYCLES}: blocking the subscription, then waiting for every worker to refuse it`);
        never.push(...await change('block', blockMs));
        if (never.length) break;
        ctx.step(`cycle ${i} of ${CYCLES}: unblocking it, then waiting for every worker to serve it again`);
        never.push(...await change('unblock', unblockMs));
      }
    } finally {
      // The lab is left as found: the subscription unblocked (it is this check's own).
      await client.call('POST', `${PUBLISHER}/subscriptions/unblock-subscription?subscriptionId=${subscriptionId}`).catch(() => undefined);
    }
    const all = [...Object.values(blockMs), ...Object.values(unblockMs)].flat();
    const rounded = (m: Record<string, number[]>) => Object.fromEntries(Object.entries(m).map(([n, v]) => [n, v.map((x) => round(x))]));
    ctx.figures.cycles = cycles;
    ctx.figures.boundMs = bound;
    ctx.figures.blockMs = rounded(blockMs);
    ctx.figures.unblockMs = rounded(unblockMs);
    ctx.figures.p50Ms = round(percentile(all, 50));
    ctx.figures.p95Ms = round(percentile(all, 95));
    ctx.figures.maxMs = round(Math.max(...all, 0));
    if (never.length) throw new CheckFailure(never.join('; '), lab.workers.map((w) => w.name));
    const slow = [...Object.entries(blockMs).map(([n, v]) => [`${n} (block)`, v] as const), ...Object.entries(unblockMs).map(([n, v]) => [`${n} (unblock)`, v] as const)]
      .flatMap(([n, v]) => v.filter((x) => x > bound).map((x) => `${n} took ${round(x)} ms`));
    if (slow.length) throw new CheckFailure(`subscription changes slower than the bound of ${bound} ms: ${slow.join(', ')}`, lab.workers.map((w) => w.name));
  },
};
