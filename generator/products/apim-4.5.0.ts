import type { ProductSpec } from './product';
import { REAL_TIMING } from './timing';

const home = (distribution: string) => `/home/wso2carbon/${distribution}-4.5.0`;

/**
 * WSO2 API Manager 4.5.0 as its distributed distributions (profiles are gone since 4.5.0):
 * managers run the API Control Plane, workers the Universal Gateway, and a pair of Traffic
 * Managers takes throttling (WSO2's own distributed pattern). Each image is its role: its
 * entrypoint starts `api-cp.sh`, `gateway.sh` or `traffic-manager.sh` and reads no role variable.
 * `server_role = "default"` on every role, as each distribution's own deployment.toml writes it: its
 * infer.json maps no other value, and helm-apim's `gateway-worker` / `traffic-manager` switch off the
 * distribution's own role settings (a bug WSO2 confirmed, wso2/api-manager#5095). Databases as
 * helm-apim's pattern 3 writes them. Image tags are WSO2's Docker Hub names; that the 4.5.0 tags
 * exist could not be checked here (no registry).
 * @see ../../docs/products.md, "apim-4.5.0" (docker-apim v4.5.0.9, helm-apim control-plane-4.5.0-10, product-apim v4.5.0)
 */
export const apim450: ProductSpec = {
  id: 'apim-4.5.0',
  description: 'WSO2 API Manager 4.5.0 (wso2/wso2am-acp, wso2/wso2am-universal-gw and wso2/wso2am-tm 4.5.0 distributions)',
  version: 'WSO2 API Manager-4.5.0',
  roleSwitch: 'distribution',
  roles: {
    manager: {
      image: 'wso2/wso2am-acp:4.5.0',
      home: home('wso2am-acp'),
      env: {},
      serverRole: 'default',
      databases: ['apim_db', 'shared_db'],
      distribution: 'acp',
    },
    worker: {
      image: 'wso2/wso2am-universal-gw:4.5.0',
      home: home('wso2am-universal-gw'),
      env: {},
      serverRole: 'default',
      databases: ['shared_db'],
      distribution: 'universal-gw',
    },
    'traffic-manager': {
      image: 'wso2/wso2am-tm:4.5.0',
      home: home('wso2am-tm'),
      env: {},
      serverRole: 'default',
      databases: ['apim_db', 'shared_db'],
      distribution: 'tm',
    },
  },
  layout: 'apim-4.5',
  keyCatalogue: 'apim-4.5.0',
  configSource: "WSO2's helm-apim pattern 3 (ACP, TM, gateway), control-plane-4.5.0-10; see docs/products.md",
  additions: [],
  stopOnTerm: false,
  pulled: true,
  timing: REAL_TIMING,
  database: {
    image: 'mysql:8.0.36',
    driver: { jar: 'mysql-connector-j 8.x', used: 'docker-apim v4.5.0.9 uses mysql-connector-java 8.0.30, from Maven Central' },
    source: 'docker-apim v4.5.0.9 docker-compose/apim-with-analytics (mysql:8.0.36; mysql-connector-java 8.0.30)',
    scripts: { shared: 'mysql.sql', apim: 'apimgt/mysql.sql' },
  },
};
