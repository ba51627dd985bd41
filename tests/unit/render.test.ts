import { parse } from 'smol-toml';
import YAML from 'yaml';
import { portalPort } from '../../generator/model/lab';
import { renderLab } from '../../generator/render';
import { renderCompose } from '../../generator/render/compose';
import type { Role } from '../../generator/model/lab';
import type { ConfigLayout } from '../../generator/products/product';
import { productImages, runtimeOf } from '../../generator/products/product';
import { standInOf } from '../../generator/products';
import { productImageVariable } from '../../generator/products/images';
import { labEncryptionKey } from '../../generator/render/deployment-toml';
import { TOML_LABS } from '../support/labs';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed compose and TOML documents, navigated by path */
type Toml = Record<string, any>;
const dig = (t: Toml, path: string) => path.split('.').reduce<any>((o, k) => (o === undefined ? undefined : o[k]), t);

/** The keys of WSO2's distributed setup every node must have, per layout and role (wso2-apim.md §3, docs/products.md). */
const MANAGER_KEYS = [
  'server.hostname',
  'server.node_ip',
  'server.server_role',
  'super_admin.username',
  'super_admin.password',
  'apim.gateway.environment',
  'apim.event_hub.enable',
  'apim.event_hub.service_url',
  'apim.event_hub.event_listening_endpoints',
  'apim.event_hub.publish.url_group',
  'apim.devportal.url',
  'transport.https.properties.proxyPort',
  'apim.key_manager.service_url',
  'oauth.endpoints.oauth2_jwks_url',
  'apim.ai.enable',
];
const GATEWAY_KEYS = [
  'server.hostname',
  'server.node_ip',
  'server.server_role',
  'super_admin.username',
  'super_admin.password',
  'apim.key_manager.service_url',
  'apim.throttling.service_url',
  'apim.throttling.throttle_decision_endpoints',
  'apim.throttling.url_group',
  'apim.sync_runtime_artifacts.gateway.gateway_labels',
  'system.parameter.workerNode',
  'apim.ai.enable',
];
const REQUIRED_KEYS: Record<Exclude<ConfigLayout, 'carbon-4.4'>, Record<Role, string[]>> = {
  'apim-4.3': { manager: MANAGER_KEYS, worker: GATEWAY_KEYS, 'traffic-manager': [] },
  'apim-4.5': {
    manager: MANAGER_KEYS,
    worker: [...GATEWAY_KEYS, 'apim.event_hub.enable', 'apim.event_hub.service_url', 'apim.event_hub.event_listening_endpoints'],
    'traffic-manager': [
      'server.hostname',
      'server.node_ip',
      'server.server_role',
      'apim.key_manager.service_url',
      'apim.oauth_config.revoke_endpoint',
      'apim.event_hub.enable',
      'apim.event_hub.service_url',
      'apim.event_hub.event_listening_endpoints',
      'apim.throttling.throttle_decision_endpoints',
    ],
  },
};

describe.each(TOML_LABS)('$product.id pattern $pattern rendering', ({ lab, product, pattern }) => {
  const files = renderLab(lab);
  const byPath = Object.fromEntries(files.map((f) => [f.path, f.content]));

  test('every generated file starts with the regenerate marker', () => {
    for (const f of files) {
      expect(f.content.split('\n').slice(0, 2).join('\n')).toContain(`carbon-labs generate --pattern ${pattern} --product ${product.id}`);
    }
  });

  test("compose: the pattern's services, ports only on 127.0.0.1, health checks like the official ones", () => {
    const compose = YAML.parse(byPath['docker-compose.yml']);
    const expected = ['dbscripts', 'truststore', 'db', 'backend', ...lab.balancers.map((b) => b.name), ...lab.nodes.map((n) => n.name)];
    expect(Object.keys(compose.services)).toEqual(expected);
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const p of service.ports ?? []) expect({ name, host_ip: p.host_ip }).toEqual({ name, host_ip: '127.0.0.1' });
    }
    for (const node of lab.nodes) {
      const service = compose.services[node.name];
      expect(service.image).toBe(`\${${productImageVariable(product, node.role)}:-${runtimeOf(product, node.role).image}}`);
      // 4.3: one image, the role by PROFILE_NAME; 4.5: the image is the role, no role variable.
      expect(service.environment.PROFILE_NAME).toBe(
        product.roleSwitch === 'profile' ? { manager: 'control-plane', worker: 'gateway-worker' }[node.role as string] : undefined,
      );
      expect(service.volumes[0]).toEqual({
        type: 'bind',
        source: `./nodes/${node.name}`,
        target: '/home/wso2carbon/wso2-config-volume',
        read_only: true,
      });
      expect(service.healthcheck.test.join(' ')).toContain(
        node.role === 'worker' ? '/api/am/gateway/v2/server-startup-healthcheck' : 'http://localhost:9763/services/Version',
      );
      expect(service.depends_on.db).toEqual({ condition: 'service_healthy' });
      expect(service.depends_on.truststore).toEqual({ condition: 'service_completed_successfully' });
      if (node.name === 'manager-2') expect(service.depends_on['manager-1']).toEqual({ condition: 'service_healthy' });
      if (node.name === 'manager-1') expect(Object.keys(service.depends_on)).toEqual(['db', 'truststore']);
      expect(service.volumes).toContainEqual({
        type: 'bind',
        source: './truststore',
        target: '/home/wso2carbon/wso2-artifact-volume/repository/resources/security',
        read_only: true,
      });
      expect(Object.keys(service.networks)).toEqual(node.role === 'worker' ? ['cluster', 'public'] : ['cluster']);
      // Gateways wait for the control planes (startup sync) and the traffic managers (throttling).
      if (node.role === 'worker')
        for (const n of lab.nodes.filter((x) => x.role !== 'worker'))
          expect(service.depends_on[n.name]).toEqual({ condition: 'service_healthy' });
    }
    // The database WSO2's compose runs beside the version: MySQL 8.4 from 4.7 on.
    expect(compose.services.db.image).toBe(
      `\${CARBON_LABS_DB_IMAGE:-${product.version.endsWith('4.7.0') ? 'mysql:8.4.9' : 'mysql:8.0.36'}}`,
    );
    // The one-shots find the product under the image's own home (an image built elsewhere may have another).
    const home = '$${WSO2_SERVER_HOME}';
    expect(compose.services.dbscripts.command[0]).toContain(`${home}/dbscripts/.`);
    // The product image's own truststore and keytool, the lab CA added; no network, then done.
    expect(compose.services.truststore).toMatchObject({ image: compose.services['manager-1'].image, network_mode: 'none', restart: 'no' });
    expect(compose.services.truststore.command[0]).toContain(
      'keytool -importcert -noprompt -trustcacerts -alias carbon-labs-ca -file /carbon-labs/certs/ca.crt',
    );
    expect(compose.services.truststore.command[0]).toContain(`cp ${home}/repository/resources/security/client-truststore.jks`);
    // Owned by the lab folder's owner, not root.
    expect(compose.services.truststore.command[0]).toContain('chown "$$(stat -c %u:%g /carbon-labs/certs)"');
    expect(compose.services.backend.expose).toEqual(['8080']);
    expect(compose.services.db.command).toEqual(['--max-connections=1000']);
    // Real-JVM sizing: the whole lab fits 16 GB; a worker's heap and limit are below a manager's.
    const bytes = (v: string) => Number(v.replace(/[gm]$/, '')) * (v.endsWith('g') ? 1024 : 1) * 2 ** 20;
    const limits = Object.values<any>(compose.services).map((svc) => (svc.mem_limit ? bytes(svc.mem_limit) : 0));
    expect(limits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(16 * 2 ** 30);
    const heap = (role: string) => Number(/-Xmx(\d+)m/.exec(compose.services[`${role}-1`].environment.JVM_MEM_OPTS)![1]);
    expect(heap('worker')).toBeLessThan(heap('manager'));
    expect(bytes(compose.services['worker-1'].mem_limit)).toBeLessThan(bytes(compose.services['manager-1'].mem_limit));
    // Nothing comes back after a reboot unless the lab's .env asks for it.
    for (const svc of Object.values<any>(compose.services)) expect(['${CARBON_LABS_RESTART:-no}', 'no']).toContain(svc.restart);
    expect(byPath['.env']).toMatch(/^CARBON_LABS_RESTART=no$/m);
    expect(compose.networks.cluster.internal).toBe(true);
    expect(compose.networks.public.internal).toBeUndefined();
  });

  test('only the images differ from the lab of its real product or stand-in', () => {
    const other = TOML_LABS.find((l) => l.pattern === pattern && (standInOf(l.product) === product || standInOf(product) === l.product))!;
    const a = renderCompose(lab);
    const b = renderCompose(other.lab);
    const images = [...productImages(product), ...productImages(other.product)];
    const strip = (c: any) =>
      JSON.parse(
        images
          .reduce((text, image) => text.replaceAll(image, 'IMAGE'), JSON.stringify(c))
          .replaceAll(lab.project, 'PROJECT')
          .replaceAll(other.lab.project, 'PROJECT')
          .replace(/10\.213\.\d+\./g, 'SUBNET.')
          .replace(/\$\{[A-Z_0-9]+_PORT\}/g, 'PORT'),
      );
    expect(strip(a)).toEqual(strip(b));
    for (const node of lab.nodes) {
      const tomlA = byPath[`nodes/${node.name}/repository/conf/deployment.toml`].split('\n').slice(1).join('\n');
      const tomlB = renderLab(other.lab)
        .find((f) => f.path === `nodes/${node.name}/repository/conf/deployment.toml`)!
        .content.split('\n')
        .slice(1)
        .join('\n');
      // Each lab has its own host ports; a manager's proxyPort is its lab's published manager listener.
      if (node.role === 'manager') expect(tomlA).toContain(`proxyPort = ${portalPort(lab)}\n`);
      // The internal encryption key (4.7) is the project's, as its name is.
      const norm = (t: string, l: typeof lab) =>
        t
          .replaceAll(l.project, 'P')
          .replaceAll(String(portalPort(l)), 'PORT')
          .replaceAll(labEncryptionKey(l.project), 'KEY');
      expect(norm(tomlA, lab)).toBe(norm(tomlB, other.lab));
    }
  });

  test.each(lab.nodes.map((n) => [n.name, n.role] as const))('%s deployment.toml parses and has every key of its role', (name, role) => {
    const toml = parse(byPath[`nodes/${name}/repository/conf/deployment.toml`]) as Toml;
    const missing = REQUIRED_KEYS[product.layout as Exclude<ConfigLayout, 'carbon-4.4'>][role].filter((k) => dig(toml, k) === undefined);
    expect(missing).toEqual([]);
    // 4.3's profiles are roles of infer.json; a 4.5+ distribution maps only "default" (api-manager#5095).
    expect(toml.server.server_role).toBe(
      product.layout === 'apim-4.3' ? { manager: 'control-plane', worker: 'gateway-worker' }[role as string] : 'default',
    );
    // The role's databases and no other: 4.7 gateways and traffic managers fall back to their embedded H2.
    const databases = runtimeOf(product, role).databases;
    expect(Object.keys(toml.database ?? {})).toEqual(databases);
    for (const key of databases)
      expect(toml.database[key]).toMatchObject({
        type: 'mysql',
        driver: 'com.mysql.cj.jdbc.Driver',
        url: expect.stringMatching(/^jdbc:mysql:\/\/db:3306\//),
      });
    expect(toml.apim.ai?.enable).toBe(role === 'traffic-manager' ? undefined : false);
    const managerNames = lab.nodes.filter((n) => n.role === 'manager').map((n) => n.name);
    const tms = lab.nodes.filter((n) => n.role === 'traffic-manager').map((n) => n.name);
    // 4.5: one traffic manager per manager (a pair with HA managers); 4.3: none (the control plane holds it).
    expect(tms.length).toBe(product.layout === 'apim-4.5' ? managerNames.length : 0);
    // Every manager's broker, the passive (backup) ones first: the active one is tried last.
    const brokers = (managerNames.length > 1 ? ['manager-2', 'manager-1'] : ['manager-1']).map((m) => `tcp://${m}:5672`);
    if (role === 'worker') {
      if (product.layout === 'apim-4.3') expect(toml.apim.throttling.throttle_decision_endpoints).toEqual(brokers);
      else {
        expect(toml.apim.event_hub.event_listening_endpoints).toEqual(brokers);
        expect(toml.apim.throttling.throttle_decision_endpoints).toEqual(tms.map((t) => `tcp://${t}:5672`));
        expect(toml.apim.throttling.url_group.map((g: any) => g.traffic_manager_urls[0])).toEqual(tms.map((t) => `tcp://${t}:9611`));
      }
      expect(toml.apim.key_manager.service_url).toBe('https://lb-manager:9443/services/');
    } else if (role === 'traffic-manager') {
      expect(toml.server.hostname).toBe(name);
      expect(toml.apim.oauth_config.revoke_endpoint).toBe('https://lb-manager:9443/oauth2/revoke');
      expect(toml.apim.event_hub.event_listening_endpoints).toEqual(brokers);
      const peers = tms.filter((t) => t !== name).map((t) => `tcp://${t}:5672`);
      expect(toml.apim.throttling.event_duplicate_url).toEqual(peers.length ? peers : undefined);
    } else {
      const peers = managerNames.filter((m) => m !== name).map((m) => `tcp://${m}:5672`);
      expect(toml.apim.event_hub.event_duplicate_url).toEqual(peers.length ? peers : undefined);
      expect(toml.apim.gateway.environment[0]).toEqual(
        expect.objectContaining({ name: 'Default', https_endpoint: 'https://lb-worker:8243' }),
      );
      // The Resident Key Manager gateways pull names a JWKS URL they reach and trust (the default is
      // https://localhost:<proxyPort>/oauth2/jwks): the managers' balancer, in every pattern.
      const managerBalancer = lab.balancers.find((b) => b.upstreams.some((u) => u.name === 'managers'))!;
      const onCluster = [
        managerBalancer.name,
        ...managerBalancer.attachments.filter((a) => a.network === 'cluster').flatMap((a) => a.aliases ?? []),
      ];
      expect(onCluster).toContain('lb-manager');
      expect({ serviceUrl: toml.apim.key_manager.service_url, jwks: toml.oauth.endpoints.oauth2_jwks_url }).toEqual({
        serviceUrl: 'https://lb-manager:9443/services/',
        jwks: 'https://lb-manager:9443/oauth2/jwks',
      });
      expect(toml.oauth.extensions?.token_types).toEqual(
        product.additions.includes('extended-jwt-issuer')
          ? [{ name: 'JWT', issuer: 'org.wso2.is.key.manager.tokenpersistence.issuer.ExtendedJWTTokenIssuer' }]
          : undefined,
      );
    }
  });

  test('what the version adds: one internal encryption key on every node, gateway notifications on gateways (4.7.0); neither before', () => {
    const tomls = lab.nodes.map((n) => ({ node: n, toml: parse(byPath[`nodes/${n.name}/repository/conf/deployment.toml`]) as Toml }));
    const keys = new Set(tomls.map(({ toml }) => toml.encryption?.key));
    if (product.additions.includes('encryption-key')) {
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(/^[0-9a-f]{64}$/);
      for (const { toml } of tomls) {
        expect(toml.encryption.internal_crypto_provider).toBe('org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider');
        expect(toml.system.parameter['org.wso2.CipherTransformation']).toBe('AES/GCM/NoPadding');
      }
      // Another lab (another project) has another key.
      const other = TOML_LABS.find((l) => l.product === product && l.pattern !== pattern)!;
      const otherKey = (
        parse(renderLab(other.lab).find((f) => f.path.endsWith('/manager-1/repository/conf/deployment.toml'))!.content) as Toml
      ).encryption.key;
      expect(otherKey).not.toBe([...keys][0]);
    } else {
      expect([...keys]).toEqual([undefined]);
    }
    for (const { node, toml } of tomls) {
      const notification = toml.apim?.gateway_notification;
      if (node.role === 'worker' && product.additions.includes('gateway-notification'))
        expect(notification).toEqual({ enabled: true, gateway_id: node.name, heartbeat: { notify_interval: '1m' } });
      else expect(notification).toBeUndefined();
    }
  });

  test('NGINX: backup only where a passive manager exists, short timeouts, upstream header', () => {
    for (const b of lab.balancers) {
      const conf = byPath[`nginx/${b.name}.conf`];
      expect(conf.includes(' backup;')).toBe(
        b.upstreams.some((u) => u.name === 'managers') && lab.nodes.filter((n) => n.role === 'manager').length > 1,
      );
      // 500 ms to a worker, 1 s to a manager (the passive one is the last server left, its TLS handshake counts).
      expect({
        toWorkers: conf.includes('proxy_connect_timeout 500ms;'),
        toManagers: conf.includes('proxy_connect_timeout 1000ms;'),
      }).toEqual({ toWorkers: b.listeners.some((l) => l.kind !== 'admin'), toManagers: b.listeners.some((l) => l.kind === 'admin') });
      expect(conf).toContain('add_header X-Carbon-Labs-Upstream $carbon_labs_upstream always;');
      expect(conf).not.toMatch(/server [a-z][\w-]*:\d+/); // fixed addresses: a restart with a node down works
      // A POST that may have reached a node is never sent again (a second revision otherwise).
      expect(conf).not.toContain('non_idempotent');
      expect(conf.match(/proxy_next_upstream error timeout;/g)?.length).toBe(b.listeners.length);
    }
  });
});
