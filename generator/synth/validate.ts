import { LabValidationError } from '../errors';
import type { LabSpec } from '../model/lab';
import { isWebSocket, managers, SUPPORT_SERVICES, workers } from '../model/lab';

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
      if (primaries.length === 0)
        problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} every server is a backup; one must be active`);
      if (u.name === 'managers' && primaries.length > 1) {
        problems.push(
          `${at(`services/${b.name}/upstream/${u.name}`)} ${primaries.length} active managers; managers are active/passive (one active, the rest backup)`,
        );
      }
      for (const s of u.servers) {
        if (!lab.nodes.some((n) => n.name === s.node))
          problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} server ${s.node} is not a node of the lab`);
      }
      // A node its role's upstream leaves out gets no traffic (e.g. a worker added without its balancer).
      const role = u.name === 'managers' ? 'manager' : 'worker';
      for (const n of lab.nodes.filter((x) => x.role === role && !u.servers.some((s) => s.node === x.name))) {
        problems.push(
          `${at(`services/${b.name}/upstream/${u.name}`)} ${n.name} is not a server of it: the ${role} would get no ${role === 'manager' ? 'admin' : 'API'} traffic`,
        );
      }
    }
  }

  // Every reference a renderer follows must resolve.
  const services = [...lab.nodes, ...lab.balancers, ...SUPPORT_SERVICES];
  for (const s of services) {
    for (const a of s.attachments) {
      if (!lab.networks.some((n) => n.name === a.network))
        problems.push(`${at(`services/${s.name}`)} attached to network ${a.network}, which the lab does not have`);
    }
  }
  for (const n of lab.networks) {
    const hosts = services.flatMap((s) => s.attachments.filter((a) => a.network === n.name).map((a) => ({ s: s.name, host: a.host })));
    for (const h of hosts) {
      if (h.host < 2 || h.host > 254) problems.push(`${at(`services/${h.s}`)} address .${h.host} on ${n.name} is outside .2–.254`);
      const other = hosts.find((o) => o.host === h.host && o.s !== h.s);
      if (other && h.s < other.s) problems.push(`${at(`services/${h.s}`)} address .${h.host} on ${n.name} is also ${other.s}'s`);
    }
  }
  for (const b of lab.balancers) {
    for (const l of b.listeners) {
      const upstream = b.upstreams.find((u) => u.name === l.upstream);
      if (!upstream)
        problems.push(`${at(`services/${b.name}/listener/${l.port}`)} sends to upstream ${l.upstream}, which ${b.name} does not define`);
      if (upstream && (l.kind === 'admin') !== (upstream.name === 'managers')) {
        problems.push(
          `${at(`services/${b.name}/listener/${l.port}`)} the ${l.kind} listener sends to ${upstream.name}; admin goes to managers, API traffic to workers`,
        );
      }
      if (upstream && isWebSocket(l.kind) !== upstream.name.startsWith('workers-ws')) {
        problems.push(
          `${at(`services/${b.name}/listener/${l.port}`)} the ${l.kind} listener sends to ${upstream.name}; WebSocket listeners go to the workers' WebSocket ports, and only they`,
        );
      }
      if (upstream && l.tls !== (upstream.protocol === 'https')) {
        problems.push(
          `${at(`services/${b.name}/listener/${l.port}`)} the ${l.kind} listener ${l.tls ? 'terminates TLS' : 'is plain'} but sends ${upstream.protocol} to ${upstream.name}; the nodes expect the same scheme`,
        );
      }
      for (const network of l.networks) {
        if (!b.attachments.some((a) => a.network === network))
          problems.push(`${at(`services/${b.name}/listener/${l.port}`)} binds on ${network}, where ${b.name} is not attached`);
      }
      if (b.listeners.filter((o) => o.port === l.port).length > 1)
        problems.push(`${at(`services/${b.name}/listener/${l.port}`)} port ${l.port} is used by two listeners`);
    }
    for (const p of b.published) {
      if (!b.listeners.some((l) => l.port === p.containerPort))
        problems.push(`${at(`services/${b.name}`)} publishes ${p.containerPort} (${p.variable}), where no listener is`);
    }
    for (const u of b.upstreams) {
      for (const s of u.servers) {
        const node = lab.nodes.find((n) => n.name === s.node);
        if (node && !node.attachments.some((a) => a.network === 'cluster'))
          problems.push(`${at(`services/${b.name}/upstream/${u.name}`)} server ${s.node} is not on cluster, where balancers reach nodes`);
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
