import type { LabSpec, NodeSpec } from '../model/lab';
import { brokerOrder, DB, managers, PORTAL_HOST, portalPort, trafficManagers, workers } from '../model/lab';
import { runtimeOf } from '../products/product';
import { renderTemplate } from './templates';

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
  // Gateways keep no API state: only the shared (user/registry) database.
  const databases = node.role === 'worker'
    ? [{ key: 'shared_db', url: jdbcUrl(DB.sharedDb) }]
    : [{ key: 'apim_db', url: jdbcUrl(DB.apimDb) }, { key: 'shared_db', url: jdbcUrl(DB.sharedDb) }];
  const tms = trafficManagers(lab).map((t) => t.name);
  return renderTemplate('generator/templates/deployment.toml.ejs', {
    marker,
    project: lab.project,
    node: node.name,
    role: node.role,
    layout: lab.product.layout,
    serverRole: runtimeOf(lab.product, node.role).serverRole,
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

export function renderDbInit(marker: string): string {
  return renderTemplate('generator/templates/db-init.sh.ejs', { marker, db: DB });
}
