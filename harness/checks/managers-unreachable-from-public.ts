import { addressOf, trafficManagers } from '../../generator/model/lab';
import { labContainers } from '../../generator/runtime/lab';
import { docker } from '../../generator/runtime/lab';
import { Check, CheckContext, CheckFailure } from '../check';

/** curl's exit code per target: 0 = a TLS/HTTP conversation happened, anything else = no connection. */
function probeScript(targets: readonly string[]): string[] {
  const lines = targets.map((t) => `curl -sk -o /dev/null --connect-timeout 2 --max-time 4 ${t}; echo "${t} $?"`);
  return ['sh', '-c', lines.join('; ')];
}

/** Managers (and traffic managers) sit behind the firewall: nothing on `public` reaches them or an admin listener. */
export type FirewallFigures = { forbiddenTargets: number; forbiddenReached: number; workerTargetsReached: number; publishedPorts: number; portsNotOnLoopback: number };

export const managersUnreachableFromPublic: Check<FirewallFigures> = {
  id: 'managers-unreachable-from-public',
  title: 'From the public network no manager, traffic manager or admin listener can be reached, the worker listener can; every published port is bound to 127.0.0.1',
  headline: (f) => `${f.forbiddenReached ?? '?'} of ${f.forbiddenTargets ?? '?'} forbidden targets reached; ${f.portsNotOnLoopback ?? '?'} ports off loopback`,
  async run(ctx: CheckContext<FirewallFigures>) {
    const { lab } = ctx;
    const spec = lab.lab;
    const forbidden: string[] = [];
    // Managers, and traffic managers where the product has them (4.5+): admin side, `cluster` only.
    for (const m of [...lab.managers, ...trafficManagers(spec)]) {
      forbidden.push(`https://${m.name}:9443/services/Version`, `https://${addressOf(spec, m.name, 'cluster')}:9443/services/Version`);
    }
    for (const b of spec.balancers.filter((x) => x.listeners.some((l) => l.kind === 'admin'))) {
      forbidden.push(`https://${b.name}:9443/publisher`);
      for (const a of b.attachments) forbidden.push(`https://${addressOf(spec, b.name, a.network)}:9443/publisher`);
    }
    const allowed = [`https://${lab.workerBalancer}:8243/`, ...lab.workers.map((w) => `https://${w.name}:8243/`)];
    const probe = await lab.probe('public', probeScript([...forbidden, ...allowed]));
    const results = Object.fromEntries(probe.output.split('\n').filter(Boolean).map((line) => {
      const i = line.lastIndexOf(' ');
      return [line.slice(0, i), Number(line.slice(i + 1))];
    }));
    ctx.evidence.push(`probe on ${spec.project}_public (curl exit codes: 0 connected, 6 no such host, 7 refused, 28 timed out):\n${probe.output}`);
    const reached = forbidden.filter((t) => results[t] === 0);
    const blocked = allowed.filter((t) => results[t] !== 0);

    const published: string[] = [];
    const exposed: string[] = [];
    for (const c of await labContainers(spec.project)) {
      const info = await docker.getContainer(c.id).inspect();
      for (const [port, bindings] of Object.entries(info.HostConfig.PortBindings ?? {})) {
        for (const b of (bindings as { HostIp: string; HostPort: string }[]) ?? []) {
          published.push(`${c.service}:${port}→${b.HostIp || '0.0.0.0'}:${b.HostPort}`);
          if (b.HostIp !== '127.0.0.1') exposed.push(`${c.service} ${port} on ${b.HostIp || '0.0.0.0'}`);
        }
      }
    }
    ctx.figures.forbiddenTargets = forbidden.length;
    ctx.figures.forbiddenReached = reached.length;
    ctx.figures.workerTargetsReached = allowed.length - blocked.length;
    ctx.figures.publishedPorts = published.length;
    ctx.figures.portsNotOnLoopback = exposed.length;
    const problems = [
      ...reached.map((t) => `reachable from public: ${t}`),
      ...blocked.map((t) => `worker listener not reachable from public: ${t} (curl exit ${results[t]})`),
      ...exposed.map((p) => `published beyond 127.0.0.1: ${p}`),
    ];
    if (problems.length) throw new CheckFailure(problems.join('; '), [lab.managerBalancer]);
  },
};
