import type { ProductSpec } from './product';
import { REAL_TIMING } from './timing';

const image = 'wso2/wso2am:2.6.0';
const home = '/home/wso2carbon/wso2am-2.6.0';

/**
 * Seconds the lab's sync service waits between two copies of the managers' `synapse-configs` to
 * each worker: WSO2's `worker-manager-rsync.sh` loop (docker-apim v2.1.0 pattern-3, `sleep 10`).
 */
export const SYNC_INTERVAL_SECONDS = 10;
/**
 * Carbon's deployment scheduler tick: a copied Synapse file is deployed on the worker's next one
 * (carbon.xml `<DeploymentUpdateInterval>15`, docker-apim v2.6.0.22; `DEPLOYMENT_INTERVAL = 15`,
 * carbon-kernel v4.4.35 CarbonDeploymentSchedulerTask).
 */
export const DEPLOYMENT_TICK_SECONDS = 15;

/**
 * Seconds a gateway keeps a token's validation answer (api-manager.xml
 * `<CacheConfigurations><TokenCacheExpiry>`), the lab's choice: the stock file has the key only as
 * a comment, so the caches take carbon.xml's default of 15 minutes, and a subscription blocked at
 * the manager is still served to a token a worker validated before, for up to that long. The lab
 * writes 20 s so that a block (and an unblock) is felt within a minute: the price is one more
 * key-manager call a token every 30 to 50 s, and a worker that serves a token on its own for as
 * long as that during a key manager's outage. Not the sweep's 30 s: an answer cached just after a
 * sweep would then always live to the second sweep, 60 s, the bound itself (carbon-apimgt 6.4.50 `APIKeyValidator`
 * `getGatewayKeyCache`: the expiry is the cache's MODIFIED and ACCESSED expiry).
 */
export const TOKEN_CACHE_EXPIRY_SECONDS = 20;
/**
 * Seconds between two sweeps of Carbon's caches: an expired entry is still served until the next
 * one removes it (carbon-kernel v4.4.35 `CacheManagerFactoryImpl` l.166, a fixed delay of 30 s;
 * `CacheImpl.runCacheExpiry` l.940-1000, `get` l.220-242 reads no expiry).
 */
export const CACHE_SWEEP_SECONDS = 30;
/** A block or unblock is enforced on a worker once its cached answer expired and was swept, and the key manager asked again. */
export const blockBoundMs = (propagationBoundMs: number): number =>
  (TOKEN_CACHE_EXPIRY_SECONDS + CACHE_SWEEP_SECONDS) * 1000 + propagationBoundMs;

/**
 * WSO2 API Manager 2.6.0, the classic Carbon 4.4 product (kernel 4.4.35) whose gateway splits into
 * a gateway manager and gateway workers: the same public image for both roles, workers started
 * with `-Dprofile=gateway-worker -DworkerNode=true` (the entrypoint runs `wso2server.sh "$@"`),
 * Hazelcast WKA clustering in `axis2.xml` with the sub-domains `mgt` and `worker`, and the
 * managers' Synapse files copied to the workers by an rsync loop, as WSO2 documents for 2.x.
 * The manager runs the default profile (all-in-one: 2.5.0 and later have no `gateway-manager`
 * profile), this lab's adaptation.
 * @see ../../docs/products.md, "The classic Carbon product"; ../shared/reference/classic-carbon.md §5
 */
export const apim260: ProductSpec = {
  id: 'apim-2.6.0',
  description: 'WSO2 API Manager 2.6.0, classic Carbon 4.4 (wso2/wso2am:2.6.0; workers -Dprofile=gateway-worker -DworkerNode=true)',
  version: 'WSO2 API Manager-2.6.0',
  roleSwitch: 'args',
  roles: {
    // The default profile: publisher, store, key manager, traffic manager and gateway manager in one.
    manager: { image, home, env: {}, serverRole: 'default', databases: ['apim_db', 'shared_db'], distribution: 'classic' },
    worker: {
      image,
      home,
      env: {},
      args: ['-Dprofile=gateway-worker', '-DworkerNode=true'],
      serverRole: 'gateway-worker',
      // "Although the Gateway does not use the API Manager database, this connection is required" (AM 2.x docs).
      databases: ['apim_db', 'shared_db'],
      distribution: 'classic',
    },
  },
  layout: 'carbon-4.4',
  keyCatalogue: 'apim-2.6.0',
  configSource: 'WSO2 "Configuring the Gateway in a Distributed Environment with rsync" (AM 2.x) and docker-apim v2.1.0 pattern-3',
  additions: [],
  // docker-entrypoint.sh runs `sh wso2server.sh "$@"` without exec: the shell ignores SIGTERM.
  stopOnTerm: false,
  pulled: true,
  timing: {
    ...REAL_TIMING,
    // A deploy reaches a worker by a copy (≤ one sync interval) and its next deployment tick,
    // on top of the 4.x bound for the publish itself.
    propagationBoundMs: REAL_TIMING.propagationBoundMs + (SYNC_INTERVAL_SECONDS + DEPLOYMENT_TICK_SECONDS) * 1000,
    blockBoundMs: blockBoundMs(REAL_TIMING.propagationBoundMs),
    decisionBoundMs: REAL_TIMING.propagationBoundMs,
  },
  database: {
    image: 'mysql:5.7.19',
    driver: {
      jar: 'mysql-connector-java 5.1.x',
      used: 'the wso2/wso2am:2.6.0 image adds mysql-connector-java 5.1.49 to repository/components/dropins itself',
      inImage: true,
    },
    source:
      'docker-apim v2.6.0.22 docker-compose/apim-with-analytics/docker-compose.yml (mysql:5.7.19), dockerfiles/ubuntu/apim/Dockerfile (MYSQL_CONNECTOR_VERSION=5.1.49)',
    // The pack's own MySQL 5.7 scripts (carbon-kernel dbscripts/, carbon-apimgt core feature sql/).
    scripts: { shared: 'mysql5.7.sql', apim: 'apimgt/mysql5.7.sql' },
  },
};
