import { retryUntil } from '../../generator/runtime/retry';
import { invoke } from '../apim-client';
import { Check, CheckContext, fixtureMs, paceOf, planOf, round } from '../check';
import { startupBudgetSeconds } from '../../generator/model/start-order';
import { describeExchange } from '../http';

export type BalancerRestartFigures = {
  nodesDown: string[];
  restartBoundMs: number;
  /**
   * Per balancer: from its container running again (`docker restart` done; on a stack its new
   * task running) to each of its listeners answering again, ms (null: never). Judged against the bound.
   */
  servingAgainMs: Record<string, Record<string, number | null>>;
  /** Per balancer: how long the restart itself took, Docker's or Swarm's own (recorded, not judged). */
  restartMs: Record<string, number>;
  /** Per balancer with a listener that never served again: its last log lines (why NGINX would not start). */
  lastLogLines?: Record<string, string>;
};

/**
 * Every balancer restarted while a node of each kind is down (the passive manager, the last
 * worker) starts, and each of its listeners serves again: a balancer must not depend on the nodes
 * it balances being up (NGINX refuses to start on an upstream name that does not resolve).
 */
export const balancersRestart: Check<BalancerRestartFigures> = {
  id: 'balancers-restart',
  title: 'A balancer restarted while nodes are down starts, and its manager and worker listeners serve again within the RTO bound',
  plan(lab) {
    const { boot, timing } = paceOf(lab);
    // Nodes held down, each balancer restarted and served again, then the nodes booted again together.
    const nodesBack = Math.max(boot('manager'), boot('worker'));
    return planOf({
      floorMs: nodesBack,
      workMs: fixtureMs(lab) + lab.balancers.length * 5_000 + 5_000,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `${lab.balancers.length} balancer restarts, then a manager's and a worker's boot (${nodesBack / 1000} s)`,
      worstMs: lab.balancers.length * (5_000 + timing.rtoBoundMs + 10_000) + 2 * startupBudgetSeconds(lab) * 1000,
    });
  },
  headline: (f) =>
    Object.entries(f.servingAgainMs ?? {})
      .map(
        ([b, l]) =>
          `${b}: ${Object.entries(l)
            .map(([k, ms]) => `${k} ${ms ?? 'never'}${ms === null ? '' : ' ms'}`)
            .join(', ')}`,
      )
      .join('; ') || '?',
  async run(ctx: CheckContext<BalancerRestartFigures>) {
    const { lab } = ctx;
    const api = await ctx.deployedApi();
    // Down: the passive manager and the last worker where there is more than one; one of each kind stays up.
    const last = (nodes: readonly { name: string }[]) => (nodes.length > 1 ? [nodes[nodes.length - 1].name] : []);
    const down = [...last(lab.managers), ...last(lab.workers)];
    const bound = lab.product.timing.rtoBoundMs;
    ctx.figures.nodesDown = down;
    ctx.figures.restartBoundMs = bound;
    const servingAgain: Record<string, Record<string, number | null>> = {};
    const restartMs: Record<string, number> = {};
    const lastLogLines: Record<string, string> = {};
    const probes: Record<string, () => Promise<boolean>> = {
      'manager listener': async () => {
        const e = await lab.http(lab.adminUrl()).request('GET', '/services/Version');
        ctx.log(describeExchange(e));
        return e.status === 200;
      },
      'worker listener': async () => (await invoke(lab.http(lab.apiUrl()), api.context, api.version, api.token)).status === 200,
    };
    ctx.step(`holding ${down.join(' and ')} down`);
    for (const node of down) await lab.takeDown(node);
    try {
      for (const balancer of lab.lab.balancers) {
        const serves = balancer.listeners.some((l) => l.kind === 'admin') ? ['manager listener'] : [];
        if (balancer.listeners.some((l) => l.kind === 'api-https')) serves.push('worker listener');
        ctx.step(`restarting ${balancer.name} with ${down.join(' and ')} down`);
        const asked = performance.now();
        await lab.restart(balancer.name, 1);
        // The clock runs from the balancer's container running again: the engine's own restart
        // (Swarm's stop-and-schedule, about 4 s here; Docker's, seconds on a busy machine) is not the balancer's.
        const started = performance.now();
        restartMs[balancer.name] = round(started - asked);
        servingAgain[balancer.name] = {};
        for (const listener of serves) {
          const ms = await retryUntil(
            async () => ((await probes[listener]().catch(() => false)) ? performance.now() - started : undefined),
            { timeoutMs: bound + 10_000, intervalMs: 50, what: `${balancer.name}'s ${listener} to serve again`, signal: ctx.signal },
          ).catch(() => null);
          ctx.alive();
          servingAgain[balancer.name][listener] = ms === null ? null : round(ms);
          if (ms === null) lastLogLines[balancer.name] ??= (await lab.logs(balancer.name, 3)).replace(/\s+/g, ' ');
        }
      }
    } finally {
      ctx.figures.servingAgainMs = servingAgain;
      ctx.figures.restartMs = restartMs;
      if (Object.keys(lastLogLines).length) ctx.figures.lastLogLines = lastLogLines;
      ctx.current = `starting ${down.join(' and ')} again`;
      for (const node of down) await lab.start(node);
      // A balancer that could not start with the nodes down gets its chance with them up.
      for (const b of lab.lab.balancers) await lab.start(b.name);
      await lab.waitHealthy();
    }
  },
  problems(f, bounds) {
    const down = f.nodesDown.join(' and ');
    return Object.entries(f.servingAgainMs).flatMap(([balancer, listeners]) =>
      Object.entries(listeners).flatMap(([listener, ms]) =>
        ms === null
          ? [`${balancer} restarted with ${down} down: its ${listener} never served again (${f.lastLogLines?.[balancer] ?? 'no log read'})`]
          : ms > bounds.rtoBoundMs
            ? [`${balancer}'s ${listener} served again ${ms} ms after it started again, above the bound of ${bounds.rtoBoundMs} ms`]
            : [],
      ),
    );
  },
  suspects: (f) => Object.keys(f.servingAgainMs),
};
