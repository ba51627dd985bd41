import { dockerNetworkOf, trafficManagers } from '../../generator/model/lab';
import { inspectContainer } from '../../generator/runtime/engine';
import { Check, CheckContext, planOf } from '../check';
import { PROBE_MS } from '../probe';

/**
 * Per target: curl's exit code (0 = a TLS/HTTP conversation happened, anything else = no
 * connection), the HTTP status and a digest of the body, as `<target> <exit> <status> <md5>`.
 * The targets are tried at once (a dropped one costs its whole connect timeout); each writes its
 * line whole, in one `echo`, so lines do not interleave.
 */
export function probeScript(targets: readonly string[]): string[] {
  const lines = targets.map(
    (t, i) =>
      `( s=$(curl -sk -o /tmp/body${i} -w '%{http_code}' --connect-timeout 2 --max-time 4 ${t}); e=$?; echo "${t} $e $s $([ -f /tmp/body${i} ] && md5sum < /tmp/body${i} | cut -c1-32)"; rm -f /tmp/body${i} ) &`,
  );
  return ['sh', '-c', `${lines.join('\n')}\nwait`];
}

export interface Answer {
  readonly exit: number;
  readonly status: string;
  readonly digest: string;
}

function parseProbe(output: string): Record<string, Answer> {
  return Object.fromEntries(
    output
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [target, exit, status, digest] = line.trim().split(/\s+/);
        return [target, { exit: Number(exit), status: status ?? '', digest: digest ?? '' }];
      }),
  );
}

/**
 * Whether the public probe reached the target itself: it connected, and (where a probe on the
 * target's own network reached it) got the same HTTP status. An address routed out of the lab can be
 * answered by something else entirely (on a swarm, the host's gateway answers any address).
 */
export function reachedItself(fromPublic: Answer | undefined, fromInside: Answer | undefined): boolean {
  if (!fromPublic || fromPublic.exit !== 0) return false;
  if (!fromInside || fromInside.exit !== 0) return true;
  // The status, not the body: a page may differ per request (a token, a time).
  return fromPublic.status === fromInside.status;
}

/** Managers (and traffic managers) sit behind the firewall: nothing on `public` reaches them or an admin listener. */
export type FirewallFigures = {
  forbiddenTargets: number;
  forbiddenReached: number;
  workerTargetsReached: number;
  publishedPorts: number;
  portsNotOnLoopback: number;
  /** The forbidden targets the public network reached. */
  reached: string[];
  /** The worker-listener targets it did not, with curl's exit code. */
  blocked: Record<string, number | null>;
  /** The published ports bound beyond 127.0.0.1. */
  exposed: string[];
  /** The balancer of the manager listener (whose logs a failure attaches). */
  managerBalancer: string;
};

export const managersUnreachableFromPublic: Check<FirewallFigures> = {
  id: 'managers-unreachable-from-public',
  title:
    'From the public network no manager, traffic manager or admin listener can be reached, the worker listener can; every published port is bound to 127.0.0.1',
  headline: (f) =>
    `${f.forbiddenReached ?? '?'} of ${f.forbiddenTargets ?? '?'} forbidden targets reached; ${f.portsNotOnLoopback ?? '?'} ports off loopback`,
  // One probe (three on a stack), each a container start and its curls at once, of 4 s at most.
  plan: (lab) =>
    planOf({
      floorMs: 0,
      workMs: 4_000,
      requestTimeoutMs: lab.product.timing.requestTimeoutMs,
      why: 'a probe of about 4 s (three on a stack)',
      worstMs: 3 * PROBE_MS,
    }),
  async run(ctx: CheckContext<FirewallFigures>) {
    const { lab } = ctx;
    const spec = lab.lab;
    // Each forbidden target with the network it lives on, where a probe gets its own answer.
    const home = new Map<string, 'cluster' | 'admin' | 'public'>();
    // Managers, and traffic managers where the product has them (4.5+): admin side, `cluster` only.
    for (const m of [...lab.managers, ...trafficManagers(spec)]) {
      home.set(`https://${m.name}:9443/services/Version`, 'cluster');
      home.set(`https://${await lab.address(m.name, 'cluster')}:9443/services/Version`, 'cluster');
    }
    for (const b of spec.balancers.filter((x) => x.listeners.some((l) => l.kind === 'admin'))) {
      home.set(`https://${b.name}:9443/publisher`, 'admin');
      for (const a of b.attachments) home.set(`https://${await lab.address(b.name, a.network)}:9443/publisher`, a.network);
    }
    const forbidden = [...home.keys()];
    const allowed = [`https://${lab.workerBalancer}:8243/`, ...lab.workers.map((w) => `https://${w.name}:8243/`)];
    const probe = await lab.probe('public', probeScript([...forbidden, ...allowed]));
    const results = parseProbe(probe.output);
    ctx.evidence.push(
      `probe on ${dockerNetworkOf(spec, 'public')} (target, curl exit code: 0 connected, 6 no such host, 7 refused, 28 timed out; HTTP status; body MD5):\n${probe.output}`,
    );
    // On a stack, an address the public side cannot route to leaves through the host, whose gateway
    // may answer anything: there a target counts as reached only when it answers as it does on its
    // own network. A compose lab's subnets are the host's own: connecting is reaching.
    const inside: Record<string, Answer> = {};
    if (lab.deployment.outsideAnswersAnyAddress) {
      for (const network of ['cluster', 'admin'] as const) {
        const targets = forbidden.filter((t) => home.get(t) === network);
        const answers = parseProbe((await lab.probe(network, probeScript(targets))).output);
        for (const t of targets) if (answers[t]?.exit === 0) inside[t] = answers[t];
      }
      ctx.evidence.push(
        `the same from each target's own network:\n${forbidden.map((t) => `${t} (${home.get(t)}) ${inside[t] ? `${inside[t].status} ${inside[t].digest}` : 'not reached'}`).join('\n')}`,
      );
    }
    const reached = forbidden.filter((t) =>
      lab.deployment.outsideAnswersAnyAddress ? reachedItself(results[t], inside[t]) : results[t]?.exit === 0,
    );
    const blocked = allowed.filter((t) => results[t]?.exit !== 0);

    const published: string[] = [];
    const exposed: string[] = [];
    for (const c of await lab.publishingContainers()) {
      const info = await inspectContainer(c.id);
      for (const [port, bindings] of Object.entries(info.HostConfig.PortBindings ?? {})) {
        for (const b of (bindings as { HostIp: string; HostPort: string }[]) ?? []) {
          published.push(`${c.service}:${port}→${b.HostIp || '0.0.0.0'}:${b.HostPort}`);
          if (b.HostIp !== '127.0.0.1') exposed.push(`${c.service} ${port} on ${b.HostIp || '0.0.0.0'}`);
        }
      }
    }
    // A stack's own published ports (PUBLISH=1): Swarm binds them on every interface of its nodes.
    for (const p of await lab.deployment.platformPublishedPorts()) {
      published.push(p);
      exposed.push(`${p} (Swarm publishes on every interface)`);
    }
    Object.assign(ctx.figures, {
      forbiddenTargets: forbidden.length,
      forbiddenReached: reached.length,
      workerTargetsReached: allowed.length - blocked.length,
      publishedPorts: published.length,
      portsNotOnLoopback: exposed.length,
      reached,
      blocked: Object.fromEntries(blocked.map((t) => [t, results[t]?.exit ?? null])),
      exposed,
      managerBalancer: lab.managerBalancer,
    });
  },
  problems: (f) => [
    ...f.reached.map((t) => `reachable from public: ${t}`),
    ...Object.entries(f.blocked).map(([t, exit]) => `worker listener not reachable from public: ${t} (curl exit ${exit ?? undefined})`),
    ...f.exposed.map((p) => `published beyond 127.0.0.1: ${p}`),
  ],
  suspects: (f) => [f.managerBalancer],
};
