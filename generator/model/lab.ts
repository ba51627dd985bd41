/**
 * The lab model: plain readonly data, no behaviour. Patterns build it, renderers read it.
 *
 * Compose service names (`manager-1`, `worker-2`, `lb-manager`, ...) are part of the interface:
 * users and the conformance harness address nodes by them.
 */

export type PatternId = 1 | 2 | 3;

/**
 * Whether a product is the classic Carbon 4.4 one (APIM 2.6.0, layout `carbon-4.4`): no
 * deployment.toml, but the XML files of its own pack (`axis2.xml` clustering, `carbon.xml`,
 * `api-manager.xml`, …), WSO2's files with only the lab's keys changed (render/carbon-xml.ts), and
 * an artifact sync service in its labs (`start-order.ts`).
 */
export const isClassic = (product: Pick<import('../products/product').ProductSpec, 'layout'>): boolean => product.layout === 'carbon-4.4';

/** Where a lab runs: a compose project on this engine, or a stack on the engine's swarm (`runtime/deployment.ts`). */
export type Target = 'compose' | 'swarm';
export const TARGETS: readonly Target[] = ['compose', 'swarm'];
export const PATTERN_IDS: readonly PatternId[] = [1, 2, 3];

/**
 * A manager is read-write (deploys artifacts), a worker read-only (serves API traffic). A
 * traffic manager takes the gateways' throttling events and answers their throttle decisions;
 * products whose control plane holds it (4.3) have no such nodes.
 */
export type Role = 'manager' | 'worker' | 'traffic-manager';

/**
 * - `public`: clients and the worker-facing listener; managers are never on it.
 * - `admin`: the manager-facing listener (behind the "firewall").
 * - `cluster`: internal network of the nodes, the database and the backend; no outside access.
 */
export type NetworkName = 'public' | 'admin' | 'cluster';
export const NETWORK_NAMES: readonly NetworkName[] = ['admin', 'cluster', 'public'];

export interface NetworkSpec {
  readonly name: NetworkName;
  /** An internal network has no gateway: nothing on it reaches or is reached from outside. */
  readonly internal: boolean;
  /** A /24, fixed per lab so that balancers address nodes without DNS (see render/nginx). */
  readonly subnet: string;
}

export interface Attachment {
  readonly network: NetworkName;
  /** Last octet of the fixed address in the network's /24. */
  readonly host: number;
  /** Extra DNS names of the service on this network only. */
  readonly aliases?: readonly string[];
}

export interface NodeSpec {
  readonly name: string;
  readonly role: Role;
  readonly attachments: readonly Attachment[];
  /** Host ports (variable name in the lab's .env) published on 127.0.0.1, by container port. */
  readonly published: readonly PublishedPort[];
}

export interface PublishedPort {
  readonly containerPort: number;
  /** Name of the variable in the lab's `.env` holding the host port. */
  readonly variable: string;
  readonly hostPort: number;
  readonly description: string;
}

export interface UpstreamServer {
  readonly node: string;
  /** NGINX `backup`: takes traffic only while every primary is down (active/passive). */
  readonly backup: boolean;
}

export interface Upstream {
  readonly name: 'managers' | 'workers-https' | 'workers-http' | 'workers-ws' | 'workers-wss';
  readonly port: number;
  readonly protocol: 'https' | 'http';
  readonly servers: readonly UpstreamServer[];
}

export interface Listener {
  /**
   * `admin` goes to managers (REST, portals), `api-*` to workers (API traffic); `api-ws`/`api-wss`
   * carry WebSocket APIs, so they forward the `Upgrade` handshake and keep idle connections open.
   */
  readonly kind: 'admin' | 'api-https' | 'api-http' | 'api-ws' | 'api-wss';
  readonly port: number;
  readonly tls: boolean;
  readonly upstream: Upstream['name'];
  /** Networks whose address the listener binds to; never `public` for `admin`. */
  readonly networks: readonly NetworkName[];
}

export interface BalancerSpec {
  readonly name: string;
  readonly attachments: readonly Attachment[];
  readonly listeners: readonly Listener[];
  readonly upstreams: readonly Upstream[];
  readonly published: readonly PublishedPort[];
}

/** The NGINX timeouts every balancer uses; short on purpose (the 60 s defaults stall a failover). */
export interface BalancerTimeouts {
  /**
   * Milliseconds to open a connection to a node before trying the next one. Short, because the
   * address of a node that is gone may answer nothing at all (no reset; "unreachable" only after
   * 3 s, when ARP gives up: measured on a stack's overlay, and on compose's bridge when two labs
   * share the machine, 1012 ms for the first request after a worker's kill at 1 s), and every
   * such request stalls by the whole timeout before NGINX tries the next node: under the 1 s
   * users notice. Not shorter, because on a loaded two-core host a live node's connect can take a
   * few hundred ms (seen with 250 ms: false failovers of both managers).
   * @default 500
   */
  readonly connectMs: number;
  /**
   * The same for the manager listener, longer: NGINX counts the TLS handshake in its connect
   * timeout, and once the active manager is marked failed the passive one is the last server
   * left, so a busy passive manager that takes its handshake past the timeout fails the request
   * outright (502, "no live upstreams"). Seen at 500 ms on a loaded two-core host: a GET failed in
   * 2 of 10 conformance runs of a 4.7 pattern-3 stand-in lab with unit tests beside it, and in 1 of
   * 7 stop/kill failovers under a CPU hog; at 1 s, 12 of 12 clean. Kept
   * under `managerReadSeconds`, so a cut-off active manager costs no more than a hung one.
   * @default 1000
   */
  readonly managerConnectMs: number;
  /**
   * Seconds a manager may take to answer before the balancer gives up on it (and marks it failed):
   * a GET is retried on the passive one, a POST answered 504. Detects a hung (frozen) active
   * manager; the product's own figure (`ProductTiming.managerReadSeconds`), above its slowest
   * legitimate admin call (see docs/real-product.md "Balancer retries").
   */
  readonly managerReadSeconds: number;
  /** @default 10 */
  readonly workerReadSeconds: number;
  /** @default 10 — seconds a failed node is left alone before NGINX tries it again. */
  readonly failSeconds: number;
  /**
   * Seconds a WebSocket connection may stay silent before the balancer closes it (NGINX's 60 s
   * default closes idle subscriptions).
   * @default 3600
   */
  readonly webSocketIdleSeconds: number;
}

/** A lab the user named (`--name`): its own compose project, subnets and host ports. */
export interface LabName {
  /** Lower-case letters, digits and dashes; the compose project is `carbon-labs-<name>`. */
  readonly name: string;
  /** Which block of subnets and host ports the lab holds (allocated free at generate, then kept). */
  readonly slot: number;
}

/**
 * The node counts a lab was asked for where they differ from its pattern's default (`--workers`,
 * `--managers`). Absent on a lab of the default size (every committed lab): its files, manifest
 * and commands stay as they were.
 */
export interface LabScale {
  readonly workers?: number;
  readonly managers?: number;
}

/** The scale options in the order commands spell them (`--workers`, then `--managers`). */
export const SCALE_KEYS = ['workers', 'managers'] as const;

/** A lab's scale as `[option, count]` pairs, in `SCALE_KEYS` order; none for the default size. */
export const scaleEntries = (scale: LabScale | undefined): [(typeof SCALE_KEYS)[number], number][] =>
  SCALE_KEYS.flatMap((key) => (scale?.[key] === undefined ? [] : [[key, scale[key]!]]));

/** A lab's scale as make variables: `['WORKERS=5']`; none for the default size. */
export const scaleArgs = (scale: LabScale | undefined): string[] => scaleEntries(scale).map(([key, n]) => `${key.toUpperCase()}=${n}`);

/**
 * Slots 0–23 are the unnamed labs (product × pattern, eight products); named labs take the next
 * free one. A new product moves `first` (a unit test checks that no two labs share a port; `up`
 * refuses a named lab made before at a slot below it); slot 44's host ports (64xxx) and subnets
 * (up to 10.213.150.0/24) leave room below the port limit.
 */
export const NAMED_SLOTS = { first: 24, last: 44 } as const;

export interface LabSpec {
  readonly pattern: PatternId;
  readonly product: import('../products/product').ProductSpec;
  /** Compose project name; also the prefix of container names. */
  readonly project: string;
  /** Set for a lab the user named; unnamed labs are one per product and pattern. */
  readonly named?: LabName;
  /** Set for a lab whose node counts are not its pattern's default. */
  readonly scale?: LabScale;
  readonly networks: readonly NetworkSpec[];
  readonly nodes: readonly NodeSpec[];
  readonly balancers: readonly BalancerSpec[];
  readonly timeouts: BalancerTimeouts;
  /** Names under which the nodes reach the manager and the worker listeners on `cluster`. */
  readonly managerEndpointHost: string;
  readonly workerEndpointHost: string;
}

/**
 * The make variables that address this lab: `PATTERN=3 PRODUCT=sim`, its scale when it is not the
 * default (`WORKERS=5`, `MANAGERS=1`), and `NAME=a` for a named one.
 */
export function makeArgs(lab: Pick<LabSpec, 'pattern' | 'product' | 'named' | 'scale'>): string {
  const pace = lab.product.pace
    ? [lab.product.pace.name === 'jvm' ? 'PACE=jvm' : `PACE=jvm BOOT_S=${lab.product.pace.bootSeconds.manager}`]
    : [];
  return [
    `PATTERN=${lab.pattern}`,
    `PRODUCT=${lab.product.id}`,
    ...scaleArgs(lab.scale),
    ...pace,
    ...(lab.named ? [`NAME=${lab.named.name}`] : []),
  ].join(' ');
}

/** The CLI's options that name a lab (`carbon-labs logs <these> …`): a named lab by its name alone (it remembers the rest). */
export function cliLabArgs(lab: Pick<LabSpec, 'pattern' | 'product' | 'named'>): string {
  if (lab.named) return `--name ${lab.named.name}`;
  const pace = lab.product.pace
    ? lab.product.pace.name === 'jvm'
      ? ['--pace jvm']
      : [`--pace jvm --boot-seconds ${lab.product.pace.bootSeconds.manager}`]
    : [];
  return [`--pattern ${lab.pattern}`, `--product ${lab.product.id}`, ...pace].join(' ');
}

/** Listener kinds that carry WebSocket connections (the `Upgrade` handshake, long-lived). */
export const isWebSocket = (kind: Listener['kind']): boolean => kind === 'api-ws' || kind === 'api-wss';

export const managers = (lab: LabSpec): readonly NodeSpec[] => lab.nodes.filter((n) => n.role === 'manager');
export const workers = (lab: LabSpec): readonly NodeSpec[] => lab.nodes.filter((n) => n.role === 'worker');
export const trafficManagers = (lab: LabSpec): readonly NodeSpec[] => lab.nodes.filter((n) => n.role === 'traffic-manager');

/**
 * The managers in the order gateways should try their event brokers: the passive ones first, the
 * active one (the non-`backup` server of the manager upstream) last. A gateway holds one broker at a
 * time and hears nothing while it fails over; on the passive's broker, it keeps hearing every event
 * when the active manager fails (the active publishes to every receiver, the passive to its own).
 */
export function brokerOrder(lab: LabSpec): readonly NodeSpec[] {
  const upstream = lab.balancers.flatMap((b) => b.upstreams).find((u) => u.name === 'managers');
  const active = new Set(upstream?.servers.filter((s) => !s.backup).map((s) => s.node) ?? []);
  const all = managers(lab);
  return [...all.filter((m) => !active.has(m.name)), ...all.filter((m) => active.has(m.name))];
}

/**
 * A Carbon clustering domain (a Hazelcast group of the classic product, `axis2.xml` `domain`): its
 * members, each in a sub-domain (`mgt` for managers, `worker` for workers). What the seed's
 * patterns mean by "cluster": pattern 2 puts managers and workers in two clusters, patterns 1 and 3
 * put them in two sub-domains of one (the 4.x products have no gateway clustering).
 */
export interface ClusterDomain {
  readonly domain: string;
  readonly members: readonly { readonly node: string; readonly subDomain: 'mgt' | 'worker' }[];
}

/** Hazelcast's member port (`localMemberPort`, Carbon's default 4000), on the `cluster` network. */
export const CLUSTER_PORT = 4000;

/** The clustering domains of a lab, from its pattern (docker-apim v2.1.0 pattern-3 names its one `wso2.am.domain`). */
export function clusterDomains(lab: LabSpec): readonly ClusterDomain[] {
  const member = (n: NodeSpec) => ({ node: n.name, subDomain: n.role === 'manager' ? ('mgt' as const) : ('worker' as const) });
  if (lab.pattern === 2) {
    return [
      { domain: 'wso2.am.mgt.domain', members: managers(lab).map(member) },
      { domain: 'wso2.am.worker.domain', members: workers(lab).map(member) },
    ];
  }
  return [{ domain: 'wso2.am.domain', members: [...managers(lab), ...workers(lab)].map(member) }];
}

/** The clustering domain a node is a member of. */
export function clusterDomainOf(lab: LabSpec, node: string): ClusterDomain {
  const domain = clusterDomains(lab).find((d) => d.members.some((m) => m.node === node));
  if (!domain) throw new Error(`${node} is in no clustering domain of ${lab.project}`);
  return domain;
}

/** The engine's name of a lab network: `<project>_<network>`, as compose names a project's and a stack its own. */
export const dockerNetworkOf = (lab: Pick<LabSpec, 'project'>, network: NetworkName): string => `${lab.project}_${network}`;

export function addressOf(lab: LabSpec, service: string, network: NetworkName): string {
  const net = lab.networks.find((n) => n.name === network);
  const owner = [...lab.nodes, ...lab.balancers, ...SUPPORT_SERVICES].find((s) => s.name === service);
  const att = owner?.attachments.find((a) => a.network === network);
  if (!net || !att) throw new Error(`${service} has no address on ${network}`);
  return net.subnet.replace(/\.0\/24$/, `.${att.host}`);
}

/** The database and the test backend: on `cluster` only, at fixed addresses. */
export const SUPPORT_SERVICES: readonly { readonly name: string; readonly attachments: readonly Attachment[] }[] = [
  { name: 'db', attachments: [{ network: 'cluster', host: 5 }] },
  { name: 'backend', attachments: [{ network: 'cluster', host: 6 }] },
];

/**
 * Every name a node or a user calls a balancer by: the subject alternative names of the lab's
 * TLS certificate (browsers and curl check them; the product's HTTP client does not).
 */
export function tlsNames(lab: LabSpec): { readonly dns: readonly string[]; readonly ips: readonly string[] } {
  const dns = new Set<string>(['localhost', lab.managerEndpointHost, lab.workerEndpointHost]);
  for (const b of lab.balancers) {
    dns.add(b.name);
    for (const a of b.attachments) for (const alias of a.aliases ?? []) dns.add(alias);
  }
  return { dns: [...dns], ips: ['127.0.0.1'] };
}

/** Services that run once and exit 0 before the nodes start. */
export const ONE_SHOT_SERVICES = ['dbscripts', 'truststore'] as const;

/** The classic lab's artifact sync service (Debian's rsync in a loop). */
export const SYNC_SERVICE = 'artifact-sync';

/** The lab's trust chain on disk: the CA key stays outside every mounted folder. */
export const TRUST = {
  /** Not mounted anywhere: the CA's private key. */
  caKey: '.pki/ca.key',
  /** Mounted into the balancers (lab.crt, lab.key) and the truststore one-shot (ca.crt). */
  certsDir: 'certs',
  caCert: 'certs/ca.crt',
  cert: 'certs/lab.crt',
  key: 'certs/lab.key',
  /** Written by the `truststore` one-shot, mounted into every node. */
  truststoreDir: 'truststore',
  truststore: 'truststore/client-truststore.jks',
  /** The product's defaults (`[truststore]` in deployment.toml is not written). */
  truststorePassword: 'wso2carbon',
  caAlias: 'carbon-labs-ca',
} as const;

/** The database's credentials; also written into every deployment.toml. */
export const DB = {
  host: 'db',
  port: 3306,
  rootPassword: 'root',
  user: 'wso2carbon',
  password: 'wso2carbon',
  apimDb: 'WSO2AM_DB',
  sharedDb: 'WSO2_SHARED_DB',
  readyFlag: '/var/lib/mysql/initialization-complete.flag',
} as const;

/** The backend the lab's test APIs point at, as the workers reach it (NGINX in the lab). */
export const BACKEND_PORT = 8080;
export const BACKEND_URL = `http://backend:${BACKEND_PORT}`;

/** The host name of the portals as a browser on the host reaches them (the lab certificate has it). */
export const PORTAL_HOST = 'localhost';

/** The host port of the manager listener (its `.env` default): where the portals are published. */
export function portalPort(lab: LabSpec): number {
  const admin = lab.balancers.flatMap((b) =>
    b.listeners.filter((l) => l.kind === 'admin').map((l) => b.published.find((p) => p.containerPort === l.port)),
  );
  if (!admin[0]) throw new Error(`${lab.project} publishes no manager listener`);
  return admin[0].hostPort;
}
