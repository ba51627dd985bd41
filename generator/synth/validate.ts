import { LabValidationError } from '../errors';
import type { LabSpec } from '../model/lab';
import { managers, workers } from '../model/lab';

/**
 * Whole-model rules, checked before anything is written. Every violation is reported together,
 * each prefixed with where it is.
 */
export function validateLab(lab: LabSpec): void {
  const problems: string[] = [];
  const at = (what: string) => `[${lab.project}/${what}]`;

  if (managers(lab).length === 0) problems.push(`${at('services')} no manager: a lab needs at least one`);
  if (workers(lab).length === 0) problems.push(`${at('services')} no worker: a lab needs at least one`);

  const names = [...lab.nodes, ...lab.balancers].map((s) => s.name);
  for (const dup of names.filter((n, i) => names.indexOf(n) !== i)) problems.push(`${at(`services/${dup}`)} service name used twice`);

  for (const m of managers(lab)) {
    if (m.attachments.some((a) => a.network === 'public')) {
      problems.push(`${at(`services/${m.name}`)} a manager is on the public network; managers sit behind the firewall`);
    }
  }
  for (const b of lab.balancers) {
    for (const l of b.listeners) {
      if (l.kind === 'admin' && l.networks.includes('public')) {
        problems.push(`${at(`services/${b.name}`)} the admin listener binds on public; it must be reachable from admin and cluster only`);
      }
    }
    for (const u of b.upstreams) {
      const primaries = u.servers.filter((s) => !s.backup);
      if (primaries.length === 0) problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} every server is a backup; one must be active`);
      if (u.name === 'managers' && primaries.length > 1) {
        problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} ${primaries.length} active managers; managers are active/passive (one active, the rest backup)`);
      }
      for (const s of u.servers) {
        if (!names.includes(s.node)) problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} server ${s.node} is not a service of the lab`);
      }
    }
  }

  const ports = [...lab.nodes, ...lab.balancers].flatMap((s) => s.published.map((p) => ({ s: s.name, p })));
  for (const { s, p } of ports) {
    if (ports.filter((q) => q.p.hostPort === p.hostPort).length > 1) {
      problems.push(`${at(`services/${s}`)} host port ${p.hostPort} (${p.variable}) is published twice`);
    }
  }

  if (problems.length) throw new LabValidationError(problems);
}
