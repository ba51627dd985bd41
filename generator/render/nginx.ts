import type { BalancerSpec, LabSpec, Listener, NetworkName, Target } from '../model/lab';
import { addressOf, isWebSocket } from '../model/lab';
import { renderTemplate } from './templates';
import { ACCESS_SIDES, accessRoutes } from './stack';

const LISTENER_COMMENTS: Record<Listener['kind'], string> = {
  admin: 'Manager listener: publisher, devportal, admin portal and REST. Not bound on `public`.',
  'api-https': 'Worker listener: API traffic over HTTPS.',
  'api-http': 'Worker listener: API traffic over HTTP.',
  'api-ws': 'Worker listener: WebSocket APIs (ws_endpoint of the gateway environment).',
  'api-wss': 'Worker listener: WebSocket APIs over TLS (wss_endpoint of the gateway environment).',
};

/**
 * Where a balancer finds addresses. Compose: the model's fixed addresses. Swarm: tasks have no fixed
 * address, so the file holds tokens that `swarm/nginx-start.sh` fills in when the balancer starts
 * and again whenever a service's address changes (Docker's DNS, then `nginx -s reload`):
 * `{{addr:<service>}}` its running task's address (dnsrr; 127.0.0.1 while it has none), `{{down:<service>}}`
 * NGINX's `down` while it has none, `{{ip:<network>}}` the balancer's own address on a network.
 */
interface Addressing {
  server(node: string): { readonly address: string; readonly down: string; readonly pattern: string };
  listen(balancer: string, network: NetworkName): string;
}

const ADDRESSING: Record<Target, (lab: LabSpec) => Addressing> = {
  compose: (lab) => ({
    server: (node) => {
      const address = addressOf(lab, node, 'cluster');
      return { address, down: '', pattern: address.replace(/\./g, '\\.') };
    },
    listen: (balancer, network) => addressOf(lab, balancer, network),
  }),
  swarm: () => ({
    server: (node) => ({ address: `{{addr:${node}}}`, down: `{{down:${node}}}`, pattern: `(^|\\s){{addr:${node}}}` }),
    listen: (_balancer, network) => `{{ip:${network}}}`,
  }),
};

function listenAddresses(balancer: BalancerSpec, listener: Listener, addressing: Addressing): string[] {
  const everywhere = balancer.attachments.every((a) => listener.networks.includes(a.network));
  if (everywhere) return ['0.0.0.0'];
  return listener.networks.map((n) => addressing.listen(balancer.name, n));
}

/** Renders one balancer's nginx.conf (for a swarm stack: with the tokens its start script fills in). */
export function renderBalancerConf(lab: LabSpec, balancer: BalancerSpec, marker: string, target: Target = 'compose'): string {
  const addressing = ADDRESSING[target](lab);
  const { timeouts } = lab;
  const upstreams = balancer.upstreams.map((u) => ({
    ...u,
    servers: u.servers.map((s) => ({ ...s, ...addressing.server(s.node) })),
  }));
  const listeners = balancer.listeners.map((l) => {
    const upstream = balancer.upstreams.find((u) => u.name === l.upstream);
    if (!upstream)
      throw new Error(
        `${balancer.name}: listener ${l.port} sends to upstream ${l.upstream}, which is not defined (validateLab reports this)`,
      );
    const toManagers = l.kind === 'admin';
    const webSocket = isWebSocket(l.kind);
    return {
      ...l,
      comment: LISTENER_COMMENTS[l.kind],
      addresses: listenAddresses(balancer, l, addressing),
      upstreamProtocol: upstream.protocol,
      connectMs: toManagers ? lab.timeouts.managerConnectMs : lab.timeouts.connectMs,
      readSeconds: toManagers
        ? lab.timeouts.managerReadSeconds
        : webSocket
          ? lab.timeouts.webSocketIdleSeconds
          : lab.timeouts.workerReadSeconds,
      retrySeconds: 2 * (toManagers ? lab.timeouts.managerReadSeconds : lab.timeouts.workerReadSeconds),
      webSocket,
      // Retried on the next node: any request that could not be sent (a dead node), and a GET
      // that got no answer. Never a POST/PATCH that may have reached a node (no `non_idempotent`):
      // a hung manager may still commit it when it wakes, and a retry would store it twice.
      nextUpstream: 'error timeout',
    };
  });
  return renderTemplate('nginx/balancer.conf.ejs', {
    marker,
    name: balancer.name,
    project: lab.project,
    upstreams,
    listeners,
    timeouts,
    target,
  });
}

export function renderBackendConf(lab: LabSpec, marker: string): string {
  return renderTemplate('nginx/backend.conf.ejs', { marker, project: lab.project });
}

/** How often a swarm balancer looks its services' names up again. */
export const SWARM_RESOLVE_SECONDS = 2;

/** The start script of a swarm balancer (fills in the tokens of its configuration, re-resolves). */
export function renderSwarmStart(marker: string): string {
  return renderTemplate('nginx/swarm-start.sh.ejs', { marker, intervalSeconds: SWARM_RESOLVE_SECONDS });
}

/** One access proxy's nginx.conf (a TCP pass-through per published port on its side). */
export function renderAccessConf(lab: LabSpec, side: (typeof ACCESS_SIDES)[number], marker: string): string {
  return renderTemplate('nginx/access.conf.ejs', {
    marker,
    project: lab.project,
    service: side.service,
    network: side.network,
    routes: accessRoutes(lab).filter((r) => r.side === side),
    validSeconds: SWARM_RESOLVE_SECONDS,
    idleSeconds: lab.timeouts.webSocketIdleSeconds,
  });
}
