import type { ClusterDomain, LabSpec } from '../../generator/model/lab';
import { addressOf, clusterDomains } from '../../generator/model/lab';
import type { ProductTiming } from '../../generator/products/product';
import { isClassic } from '../../generator/products/product';
import { retryUntil } from '../../generator/runtime/retry';
import type { Check, CheckContext } from '../check';
import { planOf } from '../check';

/**
 * What a node's log says of its cluster, as Carbon 4.4 logs it (HazelcastClusteringAgent and the
 * WKA membership scheme): its domain, its sub-domain, and the members it has seen join and not leave.
 */
export interface LoggedView {
  readonly domain?: string;
  readonly subDomain?: string;
  /** Addresses of the other members, sorted. */
  readonly members: readonly string[];
}

export function loggedView(log: string): LoggedView {
  const present = new Map<string, string>();
  for (const m of log.matchAll(/Member (joined|left) \[([^\]]+)\]: \/([\d.]+):\d+/g)) {
    if (m[1] === 'joined') present.set(m[2], m[3]);
    else present.delete(m[2]);
  }
  return {
    domain: /Cluster domain: (\S+)/.exec(log)?.[1],
    subDomain: /Local member: \[[^\]]+\] - .*?Sub-domain:([^,\s]+)/.exec(log)?.[1],
    members: [...present.values()].sort(),
  };
}

/** The view a node must log: its domain, its sub-domain, the other members of its domain. */
export function expectedView(domains: readonly ClusterDomain[], node: string, address: (node: string) => string): LoggedView {
  const domain = domains.find((d) => d.members.some((m) => m.node === node))!;
  return {
    domain: domain.domain,
    subDomain: domain.members.find((m) => m.node === node)!.subDomain,
    members: domain.members
      .filter((m) => m.node !== node)
      .map((m) => address(m.node))
      .sort(),
  };
}

/** Where a node's view differs from its domain's, in words; none when it is the same. */
export function viewProblems(node: string, seen: LoggedView, want: LoggedView, nameOf: (address: string) => string): string[] {
  const problems: string[] = [];
  if (seen.domain !== want.domain) problems.push(`${node} is in domain ${seen.domain ?? '(none logged)'}, not ${want.domain}`);
  if (seen.subDomain !== want.subDomain)
    problems.push(`${node} is in sub-domain ${seen.subDomain ?? '(none logged)'}, not ${want.subDomain}`);
  const missing = want.members.filter((a) => !seen.members.includes(a)).map(nameOf);
  const extra = seen.members.filter((a) => !want.members.includes(a)).map(nameOf);
  if (missing.length) problems.push(`${node} has not joined ${missing.join(', ')}`);
  if (extra.length) problems.push(`${node} has joined ${extra.join(', ')}, of another domain`);
  return problems;
}

/**
 * How long after the lab is healthy the members of a domain may still be finding each other: a
 * node joins its well-known members while it boots, so twice a manager's boot (the product's
 * pace), and never under 10 s.
 */
export const joinMsOf = (timing: ProductTiming): number => Math.max(10_000, 2 * timing.bootSeconds.manager * 1000);
export const joinMs = (lab: LabSpec): number => joinMsOf(lab.product.timing);

export type MembershipFigures = {
  domains: Record<string, string[]>;
  views: Record<string, string>;
  /** From the first reading to every node's view being its domain's; null: not within the join time (the verdict). */
  convergedMs: number | null;
  /** How each node's last view differed from its domain's (empty once converged). */
  unlike: string[];
};

/**
 * The seed's "separate cluster" and "sub-domains", as the classic product's nodes themselves log
 * them: each node's member view is its clustering domain's nodes (pattern 2: two disjoint
 * clusters), each in its sub-domain (`mgt` managers, `worker` workers). Read from the nodes' logs,
 * so it judges the real product's lines as it judges the stand-in's.
 */
export const clusterMembership: Check<MembershipFigures> = {
  id: 'cluster-membership',
  title:
    "Each node's cluster, as it logs it, is its clustering domain: the same members, each in its sub-domain (mgt managers, worker workers)",
  skipReason: (lab) =>
    isClassic(lab.product) ? undefined : 'the 4.x products have no gateway clustering: no Carbon clustering domain to check',
  headline: (f) =>
    f.domains
      ? Object.entries(f.domains)
          .map(([d, members]) => `${d}: ${members.join(', ')}`)
          .join('; ')
      : 'no view',
  plan: (lab) =>
    planOf({
      floorMs: 0,
      workMs: lab.nodes.length * 500,
      requestTimeoutMs: lab.product.timing.requestTimeoutMs,
      why: `the logs of ${lab.nodes.length} nodes, until each shows its domain (at most ${joinMs(lab) / 1000} s)`,
      worstMs: joinMs(lab),
    }),
  async run(ctx: CheckContext<MembershipFigures>) {
    const spec = ctx.lab.lab;
    const domains = clusterDomains(spec);
    const address = (node: string) => addressOf(spec, node, 'cluster');
    const nameOf = (ip: string) => spec.nodes.find((n) => address(n.name) === ip)?.name ?? ip;
    ctx.figures.domains = Object.fromEntries(domains.map((d) => [d.domain, d.members.map((m) => `${m.node} (${m.subDomain})`)]));
    const started = Date.now();
    const views: Record<string, string> = {};
    let problems: string[] = [];
    ctx.step("reading each node's member view from its log");
    try {
      await retryUntil(
        async (observe) => {
          // Kept only once a whole reading is done: an attempt cut off at the deadline leaves the last one.
          const found: string[] = [];
          for (const node of spec.nodes) {
            const seen = loggedView(await ctx.lab.logs(node.name, 100_000));
            views[node.name] = `${seen.domain ?? '?'}/${seen.subDomain ?? '?'}: ${seen.members.map(nameOf).join(', ') || 'alone'}`;
            found.push(...viewProblems(node.name, seen, expectedView(domains, node.name, address), nameOf));
          }
          problems = found;
          observe(found);
          return found.length ? undefined : true;
        },
        { timeoutMs: joinMs(spec), intervalMs: 1000, what: "every node to log its domain's members", signal: ctx.signal },
      );
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      Object.assign(ctx.figures, { views, convergedMs: null, unlike: problems });
      return;
    }
    Object.assign(ctx.figures, { views, convergedMs: Date.now() - started, unlike: [] });
    ctx.evidence.push(
      Object.entries(views)
        .map(([n, v]) => `${n}: ${v}`)
        .join('\n'),
    );
  },
  problems: (f, bounds) =>
    f.convergedMs === null || f.unlike.length
      ? [`membership is not the pattern's after ${joinMsOf(bounds) / 1000} s: ${f.unlike.join('; ')}`]
      : [],
  suspects: (_f, lab) => lab.nodes.map((n) => n.name),
};
