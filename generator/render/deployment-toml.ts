import type { LabSpec, NodeSpec } from '../model/lab';
import { brokerOrder, DB, managers, workers } from '../model/lab';
import { renderTemplate } from './templates';

/** `&amp;` because the product renders these values into XML (docker-apim compose sample). */
export function jdbcUrl(database: string): string {
  return `jdbc:mysql://${DB.host}:${DB.port}/${database}?useSSL=false&amp;allowPublicKeyRetrieval=true&amp;autoReconnect=true`;
}

/** The host name of the portals as a browser on the host reaches them (the lab certificate has it). */
export const PORTAL_HOST = 'localhost';

/** The host port of the manager listener (its `.env` default): where the portals are published. */
export function portalPort(lab: LabSpec): number {
  const admin = lab.balancers.flatMap((b) => b.listeners.filter((l) => l.kind === 'admin').map((l) => b.published.find((p) => p.containerPort === l.port)));
  if (!admin[0]) throw new Error(`${lab.project} publishes no manager listener`);
  return admin[0].hostPort;
}

/**
 * Renders `repository/conf/deployment.toml` for one node, with the keys of the official
 * distributed setup for its role (see the template for the list).
 * @see ../shared/reference/wso2-apim.md §3
 */
export function renderDeploymentToml(lab: LabSpec, node: NodeSpec, marker: string): string {
  const managerNames = managers(lab).map((m) => m.name);
  const isManager = node.role === 'manager';
  const databases = isManager
    ? [{ key: 'apim_db', url: jdbcUrl(DB.apimDb) }, { key: 'shared_db', url: jdbcUrl(DB.sharedDb) }]
    : [{ key: 'shared_db', url: jdbcUrl(DB.sharedDb) }];
  return renderTemplate('generator/templates/deployment.toml.ejs', {
    marker,
    project: lab.project,
    node: node.name,
    role: node.role,
    serverRole: lab.product.profiles[node.role],
    // Managers: the name and port users reach the portals at (WSO2's "front-end proxy" setup),
    // so the login redirects work from the host; nodes call them by service_url, never by this.
    hostname: isManager ? PORTAL_HOST : lab.workerEndpointHost,
    proxyPort: portalPort(lab),
    databases,
    db: DB,
    managers: managerNames,
    brokers: brokerOrder(lab).map((m) => m.name),
    peers: managerNames.filter((m) => m !== node.name),
    managerHost: lab.managerEndpointHost,
    workerHost: lab.workerEndpointHost,
    // Gateway management of 4.x is pulled by the gateways; the control plane only lists it.
    gatewayServiceHost: workers(lab)[0].name,
  });
}

export function renderDbInit(marker: string): string {
  return renderTemplate('generator/templates/db-init.sh.ejs', { marker, db: DB });
}
