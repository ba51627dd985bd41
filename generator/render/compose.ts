import type { ComposeSpecification } from 'docker-compose';
import type { Attachment, LabSpec, NodeSpec, PublishedPort, Role } from '../model/lab';
import { BACKEND_PORT, DB, SUPPORT_SERVICES, TRUST } from '../model/lab';
import type { Condition } from '../model/start-order';
import { nodeDependencies } from '../model/start-order';
import type { ProductSpec } from '../products/product';
import { ARTIFACT_VOLUME, CONFIG_VOLUME, isClassic, runtimeOf } from '../products/product';
import { PORTS } from '../products/product';
import { SYNC_INTERVAL_SECONDS } from '../products/apim-2.6.0';

/** The classic lab's artifact sync service (Debian's rsync in a loop). */
export const SYNC_SERVICE = 'artifact-sync';

type Service = NonNullable<ComposeSpecification['services']>[string];

/**
 * Images that are not the product. Each is a variable with the public image as its default, so
 * the committed compose file names real public images; on a machine with no registry the CLI sets
 * the variable to the image `make images` built (see runtime/images.ts).
 */
export const IMAGE_VARIABLES = {
  db: { variable: 'CARBON_LABS_DB_IMAGE' },
  nginx: { variable: 'CARBON_LABS_NGINX_IMAGE' },
  sync: { variable: 'CARBON_LABS_SYNC_IMAGE' },
} as const;
export type SupportImage = keyof typeof IMAGE_VARIABLES;

/** The public image of a support service: the database is the product version's own (its WSO2 compose's). */
export const publicImage = (kind: SupportImage, product: ProductSpec): string => (kind === 'db' ? product.database.image : kind === 'sync' ? SYNC_IMAGE : NGINX_PUBLIC);

/** `${CARBON_LABS_DB_IMAGE:-mysql:8.0.36}`: the public image unless the CLI names the one it built. */
export function imageRef(kind: 'db', product: ProductSpec): string;
export function imageRef(kind: 'nginx' | 'sync'): string;
export function imageRef(kind: SupportImage, product?: ProductSpec): string {
  return `\${${IMAGE_VARIABLES[kind].variable}:-${kind === 'db' ? product!.database.image : kind === 'sync' ? SYNC_IMAGE : NGINX_PUBLIC}}`;
}
const NGINX_PUBLIC = 'nginx:1.27';
/**
 * The classic product's sync service: Debian's rsync, built here by `make images` (no public image
 * is WSO2's; the product image has no rsync).
 */
export const SYNC_IMAGE = 'carbon-labs/rsync:bookworm';

/**
 * The product image of every node and one-shot: the product's own unless a variable names another
 * (a private registry's copy, a WSO2 update image): `CARBON_LABS_PRODUCT_IMAGE` for a product of
 * one image (4.3), one variable per role for a product of distributions (4.5+).
 */
export const PRODUCT_IMAGE_VARIABLE = 'CARBON_LABS_PRODUCT_IMAGE';
export function productImageVariable(product: ProductSpec, role: Role): string {
  return product.roleSwitch !== 'distribution' ? PRODUCT_IMAGE_VARIABLE : `CARBON_LABS_${role.toUpperCase().replace(/-/g, '_')}_IMAGE`;
}
export const productImage = (lab: LabSpec, role: Role) => `\${${productImageVariable(lab.product, role)}:-${runtimeOf(lab.product, role).image}}`;

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

function dependenciesOf(lab: LabSpec, node: NodeSpec): Record<string, { condition: Condition }> {
  return Object.fromEntries(nodeDependencies(lab, node).map((d) => [d.service, { condition: d.condition }]));
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
      test: node.role === 'worker' && !isClassic(lab.product)
        ? ['CMD', 'curl', '--fail', '--silent', '--insecure', '--output', '/dev/null',
          `https://localhost:${PORTS.servletHttps}/api/am/gateway/v2/server-startup-healthcheck`]
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
      ...(isClassic(lab.product) ? [{ type: 'volume' as const, source: synapseVolume(node), target: `${runtimeOf(lab.product, node.role).home}/${SYNAPSE_CONFIGS}` }] : []),
    ],
    networks: networksOf(lab, node.attachments),
    ...(node.published.length ? { ports: portsOf(node.published) } : {}),
    healthcheck,
    depends_on: dependenciesOf(lab, node),
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
export const synapseVolume = (node: NodeSpec): string => (node.role === 'manager' ? 'synapse-configs-managers' : `synapse-configs-${node.name}`);

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
  const copies = ws.map((w) => `rsync -rt --delete --chown="$$(stat -c %u:%g /synapse/${w.name})" /synapse/managers/ /synapse/${w.name}/ || echo "carbon-labs sync: copy to ${w.name} failed" >&2`).join('; ');
  return {
    image: imageRef('sync'),
    entrypoint: ['/bin/sh', '-c'],
    command: [`echo "carbon-labs sync: managers' synapse-configs to ${ws.map((w) => w.name).join(', ')} every ${SYNC_INTERVAL_SECONDS} s"; while true; do ${copies}; sleep ${SYNC_INTERVAL_SECONDS}; done`],
    user: 'root',
    network_mode: 'none',
    volumes: [
      { type: 'volume', source: 'synapse-configs-managers', target: '/synapse/managers', read_only: true },
      ...ws.map((w) => ({ type: 'volume' as const, source: synapseVolume(w), target: `/synapse/${w.name}` })),
    ],
    depends_on: Object.fromEntries([
      ...lab.nodes.filter((n) => n.role === 'manager').map((m) => [m.name, { condition: 'service_healthy' }]),
      ...ws.map((w) => [w.name, { condition: 'service_started' }]),
    ]),
    restart: RESTART,
  };
}

/** What a balancer's service is on every target: NGINX and its health check. */
export const BALANCER_BASE: Service = {
  image: imageRef('nginx'),
  healthcheck: {
    test: ['CMD', 'curl', '--fail', '--silent', '--output', '/dev/null', 'http://127.0.0.1:8081/nginx-health'],
    // Nothing waits for a balancer's health (nodes need it started only): a slow probe suffices.
    interval: '5s', timeout: '3s', retries: 3,
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

/**
 * The product image's own client-truststore.jks plus the lab CA, made once with the product's
 * own keytool (no JDK needed on the host) and kept: a truststore the user extended is never
 * replaced. Exits non-zero when the kept file does not hold this lab's CA.
 */
export function truststoreService(lab: LabSpec): Service {
  const out = `/carbon-labs/${TRUST.truststore}`;
  const ca = `/carbon-labs/${TRUST.caCert}`;
  // The managers' image: every node's image holds the same stock truststore and a keytool. Its home
  // as the image itself says (WSO2_SERVER_HOME), so an image built elsewhere (CARBON_LABS_*_IMAGE) works too.
  const stock = '$${WSO2_SERVER_HOME}/repository/resources/security/client-truststore.jks';
  const pass = TRUST.truststorePassword;
  // `$$` is a literal `$` for the shell (compose interpolates `$`).
  const script = [
    'set -e',
    `if [ ! -f ${out} ]; then`,
    `  cp ${stock} ${out}.tmp`,
    `  keytool -importcert -noprompt -trustcacerts -alias ${TRUST.caAlias} -file ${ca} -keystore ${out}.tmp -storepass ${pass}`,
    // Owned by whoever owns the lab folder, not root: the user can remove it to have it made again.
    `  chmod 644 ${out}.tmp && chown "$$(stat -c %u:%g /carbon-labs/${TRUST.certsDir})" ${out}.tmp && mv ${out}.tmp ${out}`,
    `  echo "made ${TRUST.truststore}: ${stock} of the image plus the lab CA (alias ${TRUST.caAlias})"`,
    'fi',
    `want=$$(keytool -printcert -file ${ca} | sed -n 's/^.*SHA256: //p')`,
    `if keytool -list -keystore ${out} -storepass ${pass} | grep -q "$$want"; then echo "${TRUST.truststore} trusts the lab CA (SHA-256 $$want)"; else`,
    `  echo "ERROR: ${TRUST.truststore} does not hold the lab CA ${TRUST.caCert} (SHA-256 $$want): remove it to have it made again" >&2; exit 1; fi`,
  ].join('\n');
  return {
    image: productImage(lab, 'manager'),
    entrypoint: ['/bin/sh', '-c'],
    command: [script],
    user: 'root',
    network_mode: 'none',
    volumes: [
      { type: 'bind', source: `./${TRUST.certsDir}`, target: `/carbon-labs/${TRUST.certsDir}`, read_only: true },
      { type: 'bind', source: `./${TRUST.truststoreDir}`, target: `/carbon-labs/${TRUST.truststoreDir}` },
    ],
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
    interval: '2s', timeout: '5s', retries: 10, start_period: '120s',
  },
});

export const BACKEND_BASE: Service = { image: imageRef('nginx') };

/** Renders the compose file as a compose-spec object (the writer serialises it to YAML). */
export function renderCompose(lab: LabSpec): ComposeSpecification {
  const services: Record<string, Service> = {};
  const [db, backend] = SUPPORT_SERVICES;

  // The product's own SQL, copied out of its image, so the schema always matches the product.
  services.dbscripts = {
    image: productImage(lab, 'manager'),
    entrypoint: ['/bin/sh', '-c'],
    command: ['cp -R "$${WSO2_SERVER_HOME}/dbscripts/." /dbscripts/'],
    user: 'root',
    network_mode: 'none',
    volumes: [{ type: 'volume', source: 'dbscripts', target: '/dbscripts' }],
    restart: 'no',
  };
  services.truststore = truststoreService(lab);
  services.db = {
    ...dbBase(lab.product),
    mem_limit: DB_MEMORY_LIMIT,
    volumes: [
      { type: 'bind', source: './db/init', target: '/docker-entrypoint-initdb.d', read_only: true },
      { type: 'volume', source: 'dbscripts', target: '/wso2-dbscripts', read_only: true },
    ],
    networks: networksOf(lab, db.attachments),
    depends_on: { dbscripts: { condition: 'service_completed_successfully' } },
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
    networks: Object.fromEntries(lab.networks.map((n) => [n.name, {
      ...(n.internal ? { internal: true } : {}),
      ipam: { config: [{ subnet: n.subnet }] },
    }])),
    volumes: {
      dbscripts: {},
      ...(classic ? Object.fromEntries([...new Set(lab.nodes.map(synapseVolume))].map((v) => [v, {}])) : {}),
    },
  };
}
