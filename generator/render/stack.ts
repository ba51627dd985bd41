/**
 * A lab as a Docker Swarm stack (`docker stack deploy`): the same services, images, environment
 * and health checks as its compose file (the `*_BASE` parts of render/compose.ts), with what is
 * Swarm's own: overlay networks, files as configs and secrets instead of bind mounts, placement on
 * labelled nodes, resource limits and a restart policy. The files of the stack live in `swarm/`.
 */
import type { ComposeSpecification } from 'docker-compose';
import type { Attachment, BalancerSpec, LabSpec, NetworkName, NodeSpec, PublishedPort, Role } from '../model/lab';
import { dockerNetworkOf, SUPPORT_SERVICES, TRUST } from '../model/lab';
import { ARTIFACT_VOLUME, CONFIG_VOLUME } from '../products/product';
import { BACKEND_BASE, BALANCER_BASE, dbBase, DB_MEMORY_LIMIT, NODE_MEMORY, nodeBase } from './compose';
import { imageRef } from '../products/images';
import type { SwarmPlacement } from '../model/swarm';
import { replicasVariable, SWARM_DBSCRIPTS, SWARM_DIR, SWARM_LABELS } from '../model/swarm';

type Service = NonNullable<ComposeSpecification['services']>[string];

/** The variable holding a network's /24 prefix for a balancer's start script (`10.213.16.`). */
export const subnetVariable = (network: NetworkName): string => `CARBON_LABS_SUBNET_${network}`;

const RESTART_POLICY = { condition: 'any', delay: '2s' } as const;

const placedOn = (placement: readonly SwarmPlacement[]) => ({
  constraints: placement.map((p) => `node.labels.${SWARM_LABELS[p]} == true`),
});

/** Managers and traffic managers (the admin side) on manager nodes, workers on worker nodes. */
const ROLE_PLACEMENT: Record<Role, SwarmPlacement> = { manager: 'manager', 'traffic-manager': 'manager', worker: 'worker' };

/** A balancer with the manager listener sits with the managers (behind the firewall); a worker-only one with the workers. */
export const balancerPlacement = (balancer: BalancerSpec): SwarmPlacement =>
  balancer.listeners.some((l) => l.kind === 'admin') ? 'manager' : 'worker';

function networksOf(attachments: readonly Attachment[]): Service['networks'] {
  return Object.fromEntries(
    [...attachments]
      .sort((a, b) => a.network.localeCompare(b.network))
      .map((a) => [a.network, a.aliases ? { aliases: [...a.aliases] } : {}]),
  );
}

function deploy(service: string, placement: readonly SwarmPlacement[], memory: string): Service['deploy'] {
  return {
    // A service's name is its tasks' own addresses (DNS round robin), not a virtual IP: Swarm's
    // virtual IPs need the kernel's IPVS, which not every host has (this project's CI has none);
    // the balancers look the names up again as tasks move (nginx-start.sh).
    endpoint_mode: 'dnsrr',
    replicas: `\${${replicasVariable(service)}:-1}` as unknown as number,
    placement: placedOn(placement),
    resources: { limits: { memory } },
    restart_policy: RESTART_POLICY,
  };
}

/**
 * Swarm names a stack's config or secret `<stack>_<source>`, at most 64 characters: sources are
 * short (`toml-traffic-manager-2`), so the longest named lab (`carbon-labs-` and 20) fits.
 */
export const SWARM_NAME_MAX = 64;

/** Renders the stack file (`swarm/docker-stack.yml`) as a compose-spec object; paths are relative to it. */
export function renderStack(lab: LabSpec): ComposeSpecification {
  const configs: Record<string, { file: string }> = {};
  const secrets: Record<string, { file: string }> = {};
  const config = (source: string, file: string, target: string, mode?: number) => {
    configs[source] = { file: `../${file}` };
    return { source, target, ...(mode ? { mode } : {}) };
  };
  const secret = (source: string, file: string, target: string) => {
    secrets[source] = { file: `../${file}` };
    return { source, target };
  };
  const services: Record<string, Service> = {};
  const [db, backend] = SUPPORT_SERVICES;

  services.db = {
    ...dbBase(lab.product),
    networks: networksOf(db.attachments),
    volumes: [{ type: 'volume', source: 'db-data', target: '/var/lib/mysql' }],
    configs: [
      config('db-init', 'db/init/00-carbon-labs.sh', '/docker-entrypoint-initdb.d/00-carbon-labs.sh', 0o555),
      config('sql-shared', SWARM_DBSCRIPTS.shared, '/wso2-dbscripts/mysql.sql'),
      config('sql-apim', SWARM_DBSCRIPTS.apim, '/wso2-dbscripts/apimgt/mysql.sql'),
    ],
    deploy: deploy('db', ['db'], DB_MEMORY_LIMIT),
  };
  services.backend = {
    ...BACKEND_BASE,
    networks: networksOf(backend.attachments),
    configs: [config('backend-conf', 'backend/nginx.conf', '/etc/nginx/nginx.conf')],
    deploy: deploy('backend', ['worker'], '128m'),
  };
  for (const balancer of lab.balancers) {
    services[balancer.name] = {
      ...BALANCER_BASE,
      // Swarm puts a task with a health check in its service's DNS name only once a probe passed
      // (Docker 20.10 has no start_interval): at the compose lab's 5 s, a balancer restarted was
      // out of the name, so the access proxy refused its listeners, for 5.1 s after NGINX started
      // (measured, one node and three). Probed every second it is found within about one.
      healthcheck: { ...BALANCER_BASE.healthcheck, interval: '1s' },
      entrypoint: ['/bin/sh', '/etc/carbon-labs/nginx-start.sh'],
      environment: Object.fromEntries(
        balancer.attachments.map((a) => [
          subnetVariable(a.network),
          lab.networks.find((n) => n.name === a.network)!.subnet.replace(/0\/24$/, ''),
        ]),
      ),
      networks: networksOf(balancer.attachments),
      configs: [
        config(balancerConfigSource(balancer.name), `${SWARM_DIR}/nginx/${balancer.name}.conf`, BALANCER_CONF_TARGET),
        config('nginx-start', `${SWARM_DIR}/nginx-start.sh`, '/etc/carbon-labs/nginx-start.sh', 0o555),
        config('lab-crt', TRUST.cert, '/etc/nginx/certs/lab.crt'),
      ],
      secrets: [secret('lab-key', TRUST.key, '/etc/nginx/certs/lab.key')],
      deploy: deploy(balancer.name, [balancerPlacement(balancer)], '128m'),
    };
  }
  for (const node of lab.nodes) services[node.name] = nodeStackService(lab, node, config, secret);

  return {
    services,
    networks: Object.fromEntries(
      lab.networks.map((n) => [
        n.name,
        {
          driver: 'overlay',
          // Attachable: the access proxy (swarm/access.yml) and the harness's probes join them.
          attachable: true,
          ...(n.internal ? { internal: true } : {}),
          ipam: { config: [{ subnet: n.subnet }] },
        },
      ]),
    ),
    volumes: { 'db-data': {} },
    configs,
    secrets,
  };
}

type FileRef = (source: string, file: string, target: string, mode?: number) => { source: string; target: string };

/** The config holding a balancer's NGINX configuration (with tokens), and where its start script reads it. */
export const balancerConfigSource = (balancer: string): string => `nginx-${balancer}`;
export const BALANCER_CONF_TARGET = '/etc/carbon-labs/nginx.conf.in';

function nodeStackService(lab: LabSpec, node: NodeSpec, config: FileRef, secret: FileRef): Service {
  return {
    ...nodeBase(lab, node),
    networks: networksOf(node.attachments),
    // The entrypoint overlays the config volume onto the home, as with the compose lab's bind mount.
    configs: [
      config(`toml-${node.name}`, `nodes/${node.name}/repository/conf/deployment.toml`, `${CONFIG_VOLUME}/repository/conf/deployment.toml`),
    ],
    // The truststore made at `up` (the product's own plus the lab CA). JDBC drivers cannot travel
    // as configs (500 KB at most): the real product's image must hold them (docs/swarm.md).
    secrets: [secret('truststore', TRUST.truststore, `${ARTIFACT_VOLUME}/repository/resources/security/client-truststore.jks`)],
    deploy: deploy(node.name, [ROLE_PLACEMENT[node.role]], NODE_MEMORY[node.role].limit),
  };
}

/**
 * `swarm/publish.yml`, layered on the stack when the user asks (`--publish`): each balancer's
 * listeners on the interfaces of the node it runs on (host mode: the worker balancer on a worker
 * node, the manager balancer on a manager node; Swarm's routing mesh needs virtual IPs, which
 * `dnsrr` services have not). Swarm cannot bind 127.0.0.1, so by default nothing is published and
 * the access proxy gives the lab's 127.0.0.1 ports.
 */
export function renderPublish(lab: LabSpec): ComposeSpecification {
  const services: Record<string, Service> = {};
  for (const balancer of lab.balancers) {
    services[balancer.name] = {
      ports: balancer.published.map((p) => ({
        target: p.containerPort,
        published: `\${${p.variable}}` as unknown as number,
        protocol: 'tcp',
        mode: 'host',
      })),
    };
  }
  return { services };
}

/** The side of the firewall an access proxy sits on, and the network it joins. */
export const ACCESS_SIDES = [
  { service: 'access-public', network: 'public' as const, admin: false },
  { service: 'access-admin', network: 'admin' as const, admin: true },
];

/** What the access proxy forwards: each published port of the lab, by side. */
export function accessRoutes(lab: LabSpec): { side: (typeof ACCESS_SIDES)[number]; target: string; port: PublishedPort }[] {
  const adminPorts = new Set(lab.balancers.flatMap((b) => b.listeners.filter((l) => l.kind === 'admin').map((l) => `${b.name}:${l.port}`)));
  return [...lab.balancers, ...lab.nodes].flatMap((s) =>
    s.published.map((port) => {
      const admin = adminPorts.has(`${s.name}:${port.containerPort}`);
      return { side: ACCESS_SIDES.find((a) => a.admin === admin)!, target: s.name, port };
    }),
  );
}

/**
 * `swarm/access.yml`: a compose project beside the stack, on this host, that gives the lab's
 * host ports on 127.0.0.1 (Swarm publishes on every interface only). Two NGINX stream proxies,
 * one on `public` and one on `admin`, so nothing on `public` reaches the admin side through them.
 */
export function renderAccess(lab: LabSpec): ComposeSpecification {
  const routes = accessRoutes(lab);
  return {
    name: `${lab.project}-access`,
    services: Object.fromEntries(
      ACCESS_SIDES.map((side) => [
        side.service,
        {
          image: imageRef('nginx'),
          volumes: [{ type: 'bind', source: `./${side.service}.conf`, target: '/etc/nginx/nginx.conf', read_only: true }],
          networks: [side.network],
          ports: routes
            .filter((r) => r.side === side)
            .map((r) => ({
              target: r.port.hostPort,
              published: `\${${r.port.variable}}`,
              host_ip: '127.0.0.1',
              protocol: 'tcp',
            })),
          restart: 'no',
        } satisfies Service,
      ]),
    ),
    networks: Object.fromEntries(ACCESS_SIDES.map((side) => [side.network, { external: true, name: dockerNetworkOf(lab, side.network) }])),
  };
}
