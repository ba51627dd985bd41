import type { BalancerSpec, LabSpec, Listener } from '../model/lab';
import { addressOf, isWebSocket } from '../model/lab';
import { renderTemplate } from './templates';

const LISTENER_COMMENTS: Record<Listener['kind'], string> = {
  'admin': 'Manager listener: publisher, devportal, admin portal and REST. Not bound on `public`.',
  'api-https': 'Worker listener: API traffic over HTTPS.',
  'api-http': 'Worker listener: API traffic over HTTP.',
  'api-ws': 'Worker listener: WebSocket APIs (ws_endpoint of the gateway environment).',
  'api-wss': 'Worker listener: WebSocket APIs over TLS (wss_endpoint of the gateway environment).',
};

function listenAddresses(lab: LabSpec, balancer: BalancerSpec, listener: Listener): string[] {
  const everywhere = balancer.attachments.every((a) => listener.networks.includes(a.network));
  if (everywhere) return ['0.0.0.0'];
  return listener.networks.map((n) => addressOf(lab, balancer.name, n));
}

/** Renders one balancer's nginx.conf. */
export function renderBalancerConf(lab: LabSpec, balancer: BalancerSpec, marker: string): string {
  const upstreams = balancer.upstreams.map((u) => ({
    ...u,
    servers: u.servers.map((s) => ({ ...s, address: addressOf(lab, s.node, 'cluster') })),
  }));
  const listeners = balancer.listeners.map((l) => {
    const upstream = balancer.upstreams.find((u) => u.name === l.upstream);
    if (!upstream) throw new Error(`${balancer.name}: listener ${l.port} sends to upstream ${l.upstream}, which is not defined (validateLab reports this)`);
    const toManagers = l.kind === 'admin';
    const webSocket = isWebSocket(l.kind);
    return {
      ...l,
      comment: LISTENER_COMMENTS[l.kind],
      addresses: listenAddresses(lab, balancer, l),
      upstreamProtocol: upstream.protocol,
      readSeconds: toManagers ? lab.timeouts.managerReadSeconds : webSocket ? lab.timeouts.webSocketIdleSeconds : lab.timeouts.workerReadSeconds,
      retrySeconds: 2 * (toManagers ? lab.timeouts.managerReadSeconds : lab.timeouts.workerReadSeconds),
      webSocket,
      // Retried on the next node: any request that could not be sent (a dead node), and a GET
      // that got no answer. Never a POST/PATCH that may have reached a node (no `non_idempotent`):
      // a hung manager may still commit it when it wakes, and a retry would store it twice.
      nextUpstream: 'error timeout',
    };
  });
  return renderTemplate('nginx/balancer.conf.ejs', {
    marker, name: balancer.name, project: lab.project, upstreams, listeners, timeouts: lab.timeouts,
  });
}

export function renderBackendConf(lab: LabSpec, marker: string): string {
  return renderTemplate('nginx/backend.conf.ejs', { marker, project: lab.project });
}
