import type { ProductSpec } from './product';
import { REAL_TIMING } from './timing';

const image = 'wso2/wso2am:4.3.0';
const home = '/home/wso2carbon/wso2am-4.3.0';

/**
 * WSO2 API Manager 4.3.0, the `wso2/wso2am` all-in-one image started with a profile.
 * @see ../shared/reference/wso2-apim.md §1 (image, entrypoint), §2 (profiles), §5 (health, timing)
 */
export const apim430: ProductSpec = {
  id: 'apim-4.3.0',
  description: 'WSO2 API Manager 4.3.0 (wso2/wso2am:4.3.0, control-plane and gateway-worker profiles)',
  version: 'WSO2 API Manager-4.3.0',
  roleSwitch: 'profile',
  roles: {
    manager: {
      image,
      home,
      env: { PROFILE_NAME: 'control-plane' },
      serverRole: 'control-plane',
      databases: ['apim_db', 'shared_db'],
      distribution: 'all-in-one',
    },
    // Gateways keep no API state: only the shared (user store, registry) database.
    worker: {
      image,
      home,
      env: { PROFILE_NAME: 'gateway-worker' },
      serverRole: 'gateway-worker',
      databases: ['shared_db'],
      distribution: 'all-in-one',
    },
  },
  layout: 'apim-4.3',
  keyCatalogue: 'apim-4.3.0',
  configSource: 'docs-apim "Configuring a Distributed API-M Deployment with Gateway and Control Plane"',
  additions: [],
  stopOnTerm: false,
  pulled: true,
  timing: REAL_TIMING,
  database: {
    image: 'mysql:8.0.36',
    driver: { jar: 'mysql-connector-j 8.x', used: 'docker-apim v4.3.0.6 uses mysql-connector-java 8.0.30, from Maven Central' },
    source: 'docker-apim v4.3.0.6 docker-compose/apim-with-analytics (mysql:8.0.36; dockerfiles/apim MYSQL_CONNECTOR 8.0.30)',
    scripts: { shared: 'mysql.sql', apim: 'apimgt/mysql.sql' },
  },
};
