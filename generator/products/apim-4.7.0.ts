import type { ProductSpec } from './product';
import { apim450 } from './apim-4.5.0';

const home = (distribution: string) => `/home/wso2carbon/${distribution}-4.7.0`;

/**
 * WSO2 API Manager 4.7.0, the latest 4.x WSO2 publishes images for: the 4.5.0 distributions'
 * layout (API Control Plane managers, Universal Gateway workers, a Traffic Manager pair), plus
 * what 4.7.0 adds to a cluster: one `[encryption] key` on every node (the symmetric internal
 * crypto provider is the default), the gateways' `[apim.gateway_notification]` and the control
 * planes' JWT issuer of the 4.7.0 pack. Gateways and traffic managers keep 4.5's databases, which
 * 4.7's own configurations dropped: the stand-in cannot run a control plane on a node's embedded
 * database (docs/products.md, "apim-4.7.0"). Its entrypoint traps SIGTERM and stops the server
 * (`<script>.sh stop`). Image tags are the names WSO2's publish workflow gives Docker Hub; that they
 * exist could not be checked here (no registry).
 * @see ../../docs/products.md, "apim-4.7.0" (docker-apim v4.7.0.1, helm-apim control-plane-4.7.0-1, product-apim v4.7.0)
 */
export const apim470: ProductSpec = {
  ...apim450,
  id: 'apim-4.7.0',
  description: 'WSO2 API Manager 4.7.0 (wso2/wso2am-acp, wso2/wso2am-universal-gw and wso2/wso2am-tm 4.7.0 distributions)',
  version: 'WSO2 API Manager-4.7.0',
  roles: {
    manager: { ...apim450.roles.manager, image: 'wso2/wso2am-acp:4.7.0', home: home('wso2am-acp') },
    worker: { ...apim450.roles.worker, image: 'wso2/wso2am-universal-gw:4.7.0', home: home('wso2am-universal-gw') },
    'traffic-manager': { ...apim450.roles['traffic-manager']!, image: 'wso2/wso2am-tm:4.7.0', home: home('wso2am-tm') },
  },
  keyCatalogue: 'apim-4.7.0',
  configSource: "WSO2's helm-apim pattern 3 (ACP, TM, gateway), control-plane-4.7.0-1; see docs/products.md",
  additions: ['encryption-key', 'gateway-notification', 'extended-jwt-issuer'],
  stopOnTerm: true,
  // WSO2's 4.7 compose moved to MySQL 8.4 and Connector/J 9 (8.0 reached its end of life in April 2026).
  database: {
    image: 'mysql:8.4.9',
    driver: { jar: 'mysql-connector-j 9.x', used: 'docker-apim v4.7.0.1 uses com.mysql:mysql-connector-j 9.7.0, from Maven Central' },
    source:
      'docker-apim v4.7.0.1 docker-compose/apim-with-analytics/docker-compose.yml:18 (mysql:8.4.9), its dockerfiles/apim/Dockerfile (MYSQL_CONNECTOR_VERSION=9.7.0)',
    scripts: { shared: 'mysql.sql', apim: 'apimgt/mysql.sql' },
  },
};
