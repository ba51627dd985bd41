import { LabError } from '../errors';
import type {
  Attachment,
  BalancerSpec,
  BalancerTimeouts,
  LabName,
  LabSpec,
  Listener,
  NetworkName,
  NetworkSpec,
  NodeSpec,
  PatternId,
  PublishedPort,
  Upstream,
} from '../model/lab';
import { NETWORK_NAMES } from '../model/lab';
import { PRODUCTS } from '../products';
import type { ProductSpec } from '../products/product';
import { PORTS } from '../products/product';
import type { Scale } from './scale';

/** Options every pattern takes. */
export interface PatternProps {
  readonly product: ProductSpec;
  /** A named lab (its own project, subnets and ports); unnamed: one lab per product and pattern. */
  readonly named?: LabName;
  /** @default DEFAULT_TIMEOUTS */
  readonly timeouts?: Partial<BalancerTimeouts>;
  /** Workers `worker-1`…`worker-N`, 1 to 5 (`--workers`). @default 2 */
  readonly workers?: number;
  /**
   * Managers `manager-1`…, as the pattern allows (`--managers`): 1 on pattern 1, 2 on pattern 2,
   * 1 or 2 on pattern 3; `manager-1` is the active one, the other its NGINX `backup`.
   * @default the pattern's: 1, 2, 2
   */
  readonly managers?: number;
}

export const DEFAULT_TIMEOUTS: Omit<BalancerTimeouts, 'managerReadSeconds'> = {
  connectMs: 500,
  managerConnectMs: 1000,
  workerReadSeconds: 10,
  failSeconds: 10,
  webSocketIdleSeconds: 3600,
};

/**
 * Each (product, pattern) lab gets its own host ports and subnets, so two labs run side by side.
 * Index 0..5: product order in PRODUCTS, then pattern.
 */
export function labIndex(product: ProductSpec, pattern: PatternId): number {
  return Object.keys(PRODUCTS).indexOf(product.id) * 3 + (pattern - 1);
}

/** The block of subnets and host ports of a lab: its named slot, or its product and pattern's. */
export function slotOf(props: PatternProps, pattern: PatternId): number {
  return props.named?.slot ?? labIndex(props.product, pattern);
}

/** A lab name as the user gives it; the error names the rule and the fix. */
export function parseLabName(value: string): string {
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(value))
    throw new LabError(
      `NAME must be 1–20 lower-case letters, digits or dashes, starting with a letter (got "${value}")`,
      'make lab PATTERN=3 NAME=a',
    );
  return value;
}

export function hostPortBase(index: number): number {
  return 20000 + index * 1000;
}

export function networksFor(index: number): NetworkSpec[] {
  return NETWORK_NAMES.map((name, i) => ({
    name,
    internal: name === 'cluster',
    subnet: `10.213.${16 + index * 3 + i}.0/24`,
  }));
}

const HOSTS = { lb: 2, 'lb-manager': 2, 'lb-worker': 3 } as const;

function managerNode(n: number): NodeSpec {
  return { name: `manager-${n}`, role: 'manager', attachments: [{ network: 'cluster', host: 10 + n }], published: [] };
}

/**
 * Worker n's host ports are +303 + 10n and +304 + 10n in the lab's block (+313 … +354 for five),
 * clear of the balancers' (+98, +99, +243, +280, +443); its address is .20+n (the managers' .10+n).
 */
function workerNode(n: number, index: number): NodeSpec {
  const base = hostPortBase(index) + 300 + n * 10;
  return {
    name: `worker-${n}`,
    role: 'worker',
    attachments: [
      { network: 'cluster', host: 20 + n },
      { network: 'public', host: 20 + n },
    ],
    published: [
      port(PORTS.passthroughHttps, `WORKER_${n}_API_HTTPS_PORT`, base + 3, `worker-${n} API traffic (HTTPS), direct`),
      port(PORTS.servletHttps, `WORKER_${n}_HTTPS_PORT`, base + 4, `worker-${n} servlet port (health, no admin apps)`),
    ],
  };
}

/** `manager-1`…`manager-N`. */
export function managerNodes(scale: Scale): NodeSpec[] {
  return Array.from({ length: scale.managers }, (_, i) => managerNode(i + 1));
}

/** `worker-1`…`worker-N`, with their host ports in the lab's block. */
export function workerNodes(scale: Scale, index: number): NodeSpec[] {
  return Array.from({ length: scale.workers }, (_, i) => workerNode(i + 1, index));
}

/**
 * A product whose control plane has no traffic manager (4.5+) gets one per manager: HA managers,
 * a traffic-manager pair (WSO2's distributed pattern 3). On `cluster` only: gateways and managers
 * reach them directly, no balancer.
 */
export function trafficManagerNodes(product: ProductSpec, scale: Scale): NodeSpec[] {
  if (!product.roles['traffic-manager']) return [];
  return Array.from({ length: scale.managers }, (_, i) => ({
    name: `traffic-manager-${i + 1}`,
    role: 'traffic-manager' as const,
    attachments: [{ network: 'cluster' as const, host: 31 + i }],
    published: [],
  }));
}

export const namesOf = (nodes: readonly NodeSpec[]): string[] => nodes.map((n) => n.name);

function port(containerPort: number, variable: string, hostPort: number, description: string): PublishedPort {
  return { containerPort, variable, hostPort, description };
}

function managerUpstream(managerNames: readonly string[]): Upstream {
  // The first manager is active, the others passive: NGINX `backup` (the WSO2 "HA for Gateway" sample).
  return {
    name: 'managers',
    port: PORTS.servletHttps,
    protocol: 'https',
    servers: managerNames.map((node, i) => ({ node, backup: i > 0 })),
  };
}

function workerUpstreams(workerNames: readonly string[]): Upstream[] {
  const servers = workerNames.map((node) => ({ node, backup: false }));
  return [
    { name: 'workers-https', port: PORTS.passthroughHttps, protocol: 'https', servers },
    { name: 'workers-http', port: PORTS.passthroughHttp, protocol: 'http', servers },
    { name: 'workers-ws', port: PORTS.webSocket, protocol: 'http', servers },
    { name: 'workers-wss', port: PORTS.webSocketSecure, protocol: 'https', servers },
  ];
}

function adminListener(networks: readonly NetworkName[]): Listener {
  return { kind: 'admin', port: PORTS.servletHttps, tls: true, upstream: 'managers', networks };
}

function apiListeners(networks: readonly NetworkName[]): Listener[] {
  return [
    { kind: 'api-https', port: PORTS.passthroughHttps, tls: true, upstream: 'workers-https', networks },
    { kind: 'api-http', port: PORTS.passthroughHttp, tls: false, upstream: 'workers-http', networks },
    // The gateway environment's ws_endpoint/wss_endpoint: advertised to clients, so served here.
    { kind: 'api-ws', port: PORTS.webSocket, tls: false, upstream: 'workers-ws', networks },
    { kind: 'api-wss', port: PORTS.webSocketSecure, tls: true, upstream: 'workers-wss', networks },
  ];
}

function adminPorts(index: number): PublishedPort[] {
  return [port(PORTS.servletHttps, 'ADMIN_HTTPS_PORT', hostPortBase(index) + 443, 'manager listener: publisher, devportal, admin, REST')];
}

function apiPorts(index: number): PublishedPort[] {
  return [
    port(PORTS.passthroughHttps, 'API_HTTPS_PORT', hostPortBase(index) + 243, 'worker listener: API traffic (HTTPS)'),
    port(PORTS.passthroughHttp, 'API_HTTP_PORT', hostPortBase(index) + 280, 'worker listener: API traffic (HTTP)'),
    port(PORTS.webSocket, 'API_WS_PORT', hostPortBase(index) + 99, 'worker listener: WebSocket APIs (ws)'),
    port(PORTS.webSocketSecure, 'API_WSS_PORT', hostPortBase(index) + 98, 'worker listener: WebSocket APIs (wss)'),
  ];
}

/**
 * Patterns 1 and 2: one balancer for both roles. Its admin listener binds only to its `admin` and
 * `cluster` addresses, so a client on `public` finds nothing listening there (the "firewall");
 * on `cluster` it answers to `lb-manager` and `lb-worker` like the two balancers of pattern 3.
 */
export function sharedBalancer(managerNames: readonly string[], workerNames: readonly string[], index: number): BalancerSpec {
  const attachments: Attachment[] = [
    { network: 'admin', host: HOSTS.lb },
    { network: 'cluster', host: HOSTS.lb, aliases: ['lb-manager', 'lb-worker'] },
    { network: 'public', host: HOSTS.lb },
  ];
  return {
    name: 'lb',
    attachments,
    listeners: [adminListener(['admin', 'cluster']), ...apiListeners(['admin', 'cluster', 'public'])],
    upstreams: [managerUpstream(managerNames), ...workerUpstreams(workerNames)],
    published: [...adminPorts(index), ...apiPorts(index)],
  };
}

/** Pattern 3: the managers' sub-domain has a balancer of its own, never on `public`. */
export function managerBalancer(managerNames: readonly string[], index: number): BalancerSpec {
  return {
    name: 'lb-manager',
    attachments: [
      { network: 'admin', host: HOSTS['lb-manager'] },
      { network: 'cluster', host: HOSTS['lb-manager'] },
    ],
    listeners: [adminListener(['admin', 'cluster'])],
    upstreams: [managerUpstream(managerNames)],
    published: adminPorts(index),
  };
}

/** Pattern 3: the workers' sub-domain balancer, so admin load cannot slow API traffic. */
export function workerBalancer(workerNames: readonly string[], index: number): BalancerSpec {
  return {
    name: 'lb-worker',
    attachments: [
      { network: 'cluster', host: HOSTS['lb-worker'] },
      { network: 'public', host: HOSTS['lb-worker'] },
    ],
    listeners: apiListeners(['cluster', 'public']),
    upstreams: workerUpstreams(workerNames),
    published: apiPorts(index),
  };
}

export function projectName(product: ProductSpec, pattern: PatternId, named?: LabName): string {
  return named ? `carbon-labs-${named.name}` : `carbon-labs-${product.id.replace(/[^a-z0-9]/g, '')}-p${pattern}`;
}

export function assemble(pattern: PatternId, props: PatternProps, scale: Scale, nodes: NodeSpec[], balancers: BalancerSpec[]): LabSpec {
  return {
    pattern,
    product: props.product,
    project: projectName(props.product, pattern, props.named),
    ...(props.named ? { named: props.named } : {}),
    ...(scale.recorded ? { scale: scale.recorded } : {}),
    networks: networksFor(slotOf(props, pattern)),
    nodes: [...nodes, ...trafficManagerNodes(props.product, scale)],
    balancers,
    // The manager read timeout is the product's (above its slowest admin call); the rest are the balancer's own.
    timeouts: { ...DEFAULT_TIMEOUTS, managerReadSeconds: props.product.timing.managerReadSeconds, ...props.timeouts },
    managerEndpointHost: 'lb-manager',
    workerEndpointHost: 'lb-worker',
  };
}
