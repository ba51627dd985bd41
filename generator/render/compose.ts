import type { ComposeSpecification } from 'docker-compose';
import type { Attachment, LabSpec, NodeSpec, PublishedPort, Role } from '../model/lab';
import { BACKEND_PORT, DB, SUPPORT_SERVICES, SYNC_SERVICE, TRUST } from '../model/lab';
import type { Condition } from '../model/start-order';
import { serviceDependencies } from '../model/start-order';
import type { OneShot } from '../model/one-shots';
import { DBSCRIPTS_ONE_SHOT, truststoreOneShot } from '../model/one-shots';
import type { ProductSpec } from '../products/product';
import { ARTIFACT_VOLUME, CONFIG_VOLUME, isClassic, runtimeOf } from '../products/product';
import { PORTS } from '../products/product';
import { SYNC_INTERVAL_SECONDS } from '../products/apim-2.6.0';
import { imageRef, productImage } from '../products/images';

type Service = NonNullable<ComposeSpecification['services']>[string];

/**
 * Same cadence for both products: a fast node turns healthy within two seconds, a cold JVM has 5
 * minutes (WSO2's own compose allows 3). Docker 20.10 has no start_interval, so the interval
 * itself is short; a probe may take 5 s on a JVM busy deploying. Not shorter: every probe is an
 * exec, about 150 ms of CPU on Docker 20.10 here, so a 1 s interval cost a pattern-3 lab a whole
 * core while idle (seven probes a second) and two labs side by side the machine.
 */
const HEALTH_TIMING = { interval: '2s', timeout: '5s', retries: 5, start_period: '300s' };

/**
 * Sized for the real product: WSO2's documented heap is 2 GB; four JVMs, MySQL and two NGINX fit
 * in 16 GB with these limits (2 × 3 GB + 2 × 2.5 GB + 1.5 GB). Workers get the smaller heap:
 * lower worker memory is one of the pattern's promises. The stand-in stays far below the limits.
 */
export const NODE_MEMORY: Readonly<Record<Role, { readonly heap: string; readonly limit: string }>> = {
  manager: { heap: '-Xms1024m -Xmx2048m', limit: '3g' },
  worker: { heap: '-Xms512m -Xmx1536m', limit: '2560m' },
  // Holds no APIs and serves no portal: the start scripts' own default heap (-Xmx1024m).
  'traffic-manager': { heap: '-Xms256m -Xmx1024m', limit: '1536m' },
};
export const DB_MEMORY_LIMIT = '1536m';
/** docker-apim's my.cnf: every node's datasources (50 connections each by default) must fit. */
const DB_MAX_CONNECTIONS = 1000;

/**
 * A lab does not come back when Docker restarts (e.g. after a reboot) unless its `.env` says so:
 * `CARBON_LABS_RESTART=unless-stopped`.
 */
export const RESTART_VARIABLE = 'CARBON_LABS_RESTART';
const RESTART = `\${${RESTART_VARIABLE}:-no}`;

function networksOf(lab: LabSpec, attachments: readonly Attachment[], primary?: string): Service['networks'] {
  const out: Record<string, { ipv4_address: string; aliases?: string[]; priority?: number }> = {};
  for (const a of [...attachments].sort((x, y) => x.network.localeCompare(y.network))) {
    const subnet = lab.networks.find((n) => n.name === a.network)!.subnet;
    out[a.network] = {
      ipv4_address: subnet.replace(/\.0\/24$/, `.${a.host}`),
      ...(a.aliases ? { aliases: [...a.aliases] } : {}),
      ...(a.network === primary ? { priority: 100 } : {}),
    };
  }
  return out;
}

function portsOf(published: readonly PublishedPort[]): Service['ports'] {
  return published.map((p) => ({
    target: p.containerPort,
    published: `\${${p.variable}}`,
    host_ip: '127.0.0.1',
    protocol: 'tcp',
  }));
}

/** A service's `depends_on`, from the model's start order. */
function dependsOn(lab: LabSpec, service: string): Record<string, { condition: Condition }> {
  return Object.fromEntries(serviceDependencies(lab)[service].map((d) => [d.service, { condition: d.condition }]));
}

/** What a node's service is on every target: image, host name, environment, health check. */
export function nodeBase(lab: LabSpec, node: NodeSpec): Service {
  const { args } = runtimeOf(lab.product, node.role);
  return {
    image: productImage(lab, node.role),
    hostname: node.name,
    // The entrypoint hands its arguments to wso2server.sh (the classic product's role switch).
    ...(args?.length ? { command: [...args] } : {}),
    environment: {
      ...runtimeOf(lab.product, node.role).env,
      JVM_MEM_OPTS: NODE_MEMORY[node.role].heap,
    },
    healthcheck: {
      // 4.x gateways: their startup health check (500 until the first sync); others, and every
      // classic node, /services/Version (a general service: workers answer it too).
      test:
        node.role === 'worker' && !isClassic(lab.product)
          ? [
              'CMD',
              'curl',
              '--fail',
              '--silent',
              '--insecure',
              '--output',
              '/dev/null',
              `https://localhost:${PORTS.servletHttps}/api/am/gateway/v2/server-startup-healthcheck`,
            ]
          : ['CMD', 'curl', '--fail', '--silent', '--output', '/dev/null', `http://localhost:${PORTS.servletHttp}/services/Version`],
      ...HEALTH_TIMING,
    },
  };
}

function nodeService(lab: LabSpec, node: NodeSpec): Service {
  const { healthcheck, ...base } = nodeBase(lab, node);
  return {
    ...base,
    volumes: [
      { type: 'bind', source: `./nodes/${node.name}`, target: CONFIG_VOLUME, read_only: true },
      { type: 'bind', source: './drivers', target: `${ARTIFACT_VOLUME}/repository/components/lib`, read_only: true },
      // The entrypoint overlays the artifact volume onto the home: the product reads the lab's
      // truststore at repository/resources/security/client-truststore.jks.
      { type: 'bind', source: `./${TRUST.truststoreDir}`, target: `${ARTIFACT_VOLUME}/repository/resources/security`, read_only: true },
      ...(isClassic(lab.product)
        ? [{ type: 'volume' as const, source: synapseVolume(node), target: `${runtimeOf(lab.product, node.role).home}/${SYNAPSE_CONFIGS}` }]
        : []),
    ],
    networks: networksOf(lab, node.attachments),
    ...(node.published.length ? { ports: portsOf(node.published) } : {}),
    healthcheck,
    depends_on: dependsOn(lab, node.name),
    mem_limit: NODE_MEMORY[node.role].limit,
    restart: RESTART,
  };
}

/** Where a Carbon node keeps its deployed Synapse files (APIs, sequences): what the classic lab syncs. */
export const SYNAPSE_CONFIGS = 'repository/deployment/server/synapse-configs';

/**
 * The volume over a classic node's synapse-configs: the managers share one (WSO2 documents one
 * gateway manager; two write the same files, the lab's choice), each worker has its own, which
 * only the sync service writes.
 */
export const synapseVolume = (node: NodeSpec): string =>
  node.role === 'manager' ? 'synapse-configs-managers' : `synapse-configs-${node.name}`;

/**
 * The classic product's artifact sync: WSO2's `worker-manager-rsync.sh` (docker-apim v2.1.0
 * pattern-3: `rsync -rtvu … --delete`, then `sleep 10`, in a loop) without ssh: the managers'
 * volume read-only, each worker's volume written, its files owned as the volume is (by the
 * product's user), so the worker can read and deploy what it gets. Starts once the managers are healthy and the workers have
 * made their volumes (Docker fills a new volume from the image only for the product's own mount).
 */
function syncService(lab: LabSpec): Service {
  const ws = lab.nodes.filter((n) => n.role === 'worker');
  // Each copy owned as its volume is (by the product's user, who made it from the image).
  const copies = ws
    .map(
      (w) =>
        `rsync -rt --delete --chown="$$(stat -c %u:%g /synapse/${w.name})" /synapse/managers/ /synapse/${w.name}/ || echo "carbon-labs sync: copy to ${w.name} failed" >&2`,
    )
    .join('; ');
  return {
    image: imageRef('sync'),
    entrypoint: ['/bin/sh', '-c'],
    command: [
      `echo "carbon-labs sync: managers' synapse-configs to ${ws.map((w) => w.name).join(', ')} every ${SYNC_INTERVAL_SECONDS} s"; while true; do ${copies}; sleep ${SYNC_INTERVAL_SECONDS}; done`,
    ],
    user: 'root',
    network_mode: 'none',
    volumes: [
      { type: 'volume', source: 'synapse-configs-managers', target: '/synapse/managers', read_only: true },
      ...ws.map((w) => ({ type: 'volume' as const, source: synapseVolume(w), target: `/synapse/${w.name}` })),
    ],
    depends_on: dependsOn(lab, SYNC_SERVICE),
    restart: RESTART,
  };
}

/** What a balancer's service is on every target: NGINX and its health check. */
export const BALANCER_BASE: Service = {
  image: imageRef('nginx'),
  healthcheck: {
    test: ['CMD', 'curl', '--fail', '--silent', '--output', '/dev/null', 'http://127.0.0.1:8081/nginx-health'],
    // Nothing waits for a balancer's health (nodes need it started only): a slow probe suffices.
    interval: '5s',
    timeout: '3s',
    retries: 3,
  },
};

function balancerService(lab: LabSpec, balancer: LabSpec['balancers'][number]): Service {
  // Docker publishes a container's ports on the address of its primary network. A balancer on
  // `admin` takes that as primary, because its admin listener binds to `admin` and `cluster` only.
  const primary = balancer.attachments.some((a) => a.network === 'admin') ? 'admin' : undefined;
  return {
    ...BALANCER_BASE,
    volumes: [
      { type: 'bind', source: `./nginx/${balancer.name}.conf`, target: '/etc/nginx/nginx.conf', read_only: true },
      { type: 'bind', source: './certs', target: '/etc/nginx/certs', read_only: true },
    ],
    networks: networksOf(lab, balancer.attachments, primary),
    ports: portsOf(balancer.published),
    restart: RESTART,
  };
}

/** A one-shot of the model as a compose service on the managers' image (`$` doubled: compose interpolates `$`). */
function oneShotService(lab: LabSpec, oneShot: OneShot): Service {
  return {
    image: productImage(lab, 'manager'),
    entrypoint: ['/bin/sh', '-c'],
    command: [oneShot.script.replace(/\$/g, '$$$$')],
    user: 'root',
    network_mode: 'none',
    volumes: oneShot.mounts.map((m) => ({
      type: m.type,
      source: m.type === 'bind' ? `./${m.source}` : m.source,
      target: m.target,
      ...(m.readOnly ? { read_only: true } : {}),
    })),
    restart: 'no',
  };
}

/** The database on every target: MySQL (or the offline MariaDB), sized for every node's pools. */
export const dbBase = (product: ProductSpec): Service => ({
  image: imageRef('db', product),
  environment: { MYSQL_ROOT_PASSWORD: DB.rootPassword },
  command: [`--max-connections=${DB_MAX_CONNECTIONS}`],
  healthcheck: {
    // TCP, not the socket: MySQL's init phase runs a server with networking off.
    test: ['CMD-SHELL', `mysqladmin ping -h 127.0.0.1 -uroot -p${DB.rootPassword} --silent && test -f ${DB.readyFlag}`],
    interval: '2s',
    timeout: '5s',
    retries: 10,
    start_period: '120s',
  },
});

export const BACKEND_BASE: Service = { image: imageRef('nginx') };

/** Renders the compose file as a compose-spec object (the writer serialises it to YAML). */
export function renderCompose(lab: LabSpec): ComposeSpecification {
  const services: Record<string, Service> = {};
  const [db, backend] = SUPPORT_SERVICES;

  services.dbscripts = oneShotService(lab, DBSCRIPTS_ONE_SHOT);
  services.truststore = oneShotService(lab, truststoreOneShot());
  services.db = {
    ...dbBase(lab.product),
    mem_limit: DB_MEMORY_LIMIT,
    volumes: [
      { type: 'bind', source: './db/init', target: '/docker-entrypoint-initdb.d', read_only: true },
      { type: 'volume', source: 'dbscripts', target: '/wso2-dbscripts', read_only: true },
    ],
    networks: networksOf(lab, db.attachments),
    depends_on: dependsOn(lab, 'db'),
    restart: RESTART,
  };
  services.backend = {
    ...BACKEND_BASE,
    expose: [String(BACKEND_PORT)],
    volumes: [{ type: 'bind', source: './backend/nginx.conf', target: '/etc/nginx/nginx.conf', read_only: true }],
    networks: networksOf(lab, backend.attachments),
    restart: RESTART,
  };
  for (const balancer of lab.balancers) services[balancer.name] = balancerService(lab, balancer);
  for (const node of lab.nodes) services[node.name] = nodeService(lab, node);
  const classic = isClassic(lab.product);
  if (classic) services[SYNC_SERVICE] = syncService(lab);

  return {
    name: lab.project,
    services,
    networks: Object.fromEntries(
      lab.networks.map((n) => [
        n.name,
        {
          ...(n.internal ? { internal: true } : {}),
          ipam: { config: [{ subnet: n.subnet }] },
        },
      ]),
    ),
    volumes: {
      dbscripts: {},
      ...(classic ? Object.fromEntries([...new Set(lab.nodes.map(synapseVolume))].map((v) => [v, {}])) : {}),
    },
  };
}
