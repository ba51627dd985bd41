import { createHash } from 'crypto';
import type { LabSpec, NodeSpec } from '../model/lab';
import { brokerOrder, DB, managers, PORTAL_HOST, portalPort, trafficManagers, workers } from '../model/lab';
import type { ProductSpec } from '../products/product';
import { runtimeOf } from '../products/product';
import { renderTemplate } from './templates';

/**
 * The symmetric internal encryption of APIM 4.7 (product-apim v4.7.0 default.json; helm-apim
 * control-plane-4.7.0-1 values.yaml `encryption`).
 */
export const INTERNAL_ENCRYPTION = {
  provider: 'org.wso2.carbon.crypto.provider.SymmetricKeyInternalCryptoProvider',
  cipherTransformation: 'AES/GCM/NoPadding',
} as const;

/**
 * A lab's internal encryption key: 256 bits as 64 hex digits (what `openssl rand -hex 32` makes),
 * the same on all its nodes, derived from the project so the committed labs equal the generator's
 * output and two labs never share one. A lab's key, not a secret.
 */
export function labEncryptionKey(project: string): string {
  return createHash('sha256').update(`carbon-labs internal encryption key of ${project}`).digest('hex');
}

/** `&amp;` because the product renders these values into XML (docker-apim compose sample). */
export function jdbcUrl(database: string): string {
  return `jdbc:mysql://${DB.host}:${DB.port}/${database}?useSSL=false&amp;allowPublicKeyRetrieval=true&amp;autoReconnect=true`;
}

/**
 * Renders `repository/conf/deployment.toml` for one node, with the keys of the official
 * distributed setup for its role (see the template for the list).
 * @see ../shared/reference/wso2-apim.md §3
 */
export function renderDeploymentToml(lab: LabSpec, node: NodeSpec, marker: string): string {
  const managerNames = managers(lab).map((m) => m.name);
  const isManager = node.role === 'manager';
  const runtime = runtimeOf(lab.product, node.role);
  const databases = runtime.databases.map((key) => ({ key, url: jdbcUrl(key === 'apim_db' ? DB.apimDb : DB.sharedDb) }));
  const tms = trafficManagers(lab).map((t) => t.name);
  return renderTemplate('generator/templates/deployment.toml.ejs', {
    marker,
    project: lab.project,
    encryption: lab.product.additions.includes('encryption-key')
      ? { ...INTERNAL_ENCRYPTION, key: labEncryptionKey(lab.project) }
      : undefined,
    gatewayNotification: lab.product.additions.includes('gateway-notification'),
    extendedJwtIssuer: lab.product.additions.includes('extended-jwt-issuer'),
    node: node.name,
    role: node.role,
    layout: lab.product.layout,
    // `WSO2 API Manager-4.7.0` (/services/Version) → `WSO2 API Manager 4.7.0`.
    version: lab.product.version.replace(/-(?=\d)/, ' '),
    configSource: lab.product.configSource,
    serverRole: runtime.serverRole,
    // Managers: the name and port users reach the portals at (WSO2's "front-end proxy" setup),
    // so the login redirects work from the host; nodes call them by service_url, never by this.
    // Gateways: the worker balancer users call; a traffic manager serves no one outside: its own name.
    hostname: isManager ? PORTAL_HOST : node.role === 'worker' ? lab.workerEndpointHost : node.name,
    proxyPort: portalPort(lab),
    databases,
    db: DB,
    managers: managerNames,
    brokers: brokerOrder(lab).map((m) => m.name),
    peers: managerNames.filter((m) => m !== node.name),
    // 4.5+: the traffic managers (throttling); each names the others for duplicated decisions.
    trafficManagers: tms,
    tmPeers: tms.filter((t) => t !== node.name),
    managerHost: lab.managerEndpointHost,
    workerHost: lab.workerEndpointHost,
    // Gateway management of 4.x is pulled by the gateways; the control plane only lists it.
    gatewayServiceHost: workers(lab)[0].name,
  });
}

export function renderDbInit(marker: string, product: ProductSpec): string {
  return renderTemplate('generator/templates/db-init.sh.ejs', { marker, db: DB, scripts: product.database.scripts });
}
