import { hostname } from 'os';
import { join } from 'path';
import { openDatabase } from '../db';
import type { Handler, Req, Res } from '../http';
import { basicCredentials, json, listen, log, NOT_DEPLOYED, parseJson } from '../http';
import { envelope, fault as soapFault, withVersion } from '../admin-services';
import { register } from '../control-plane/oauth';
import {
  ApplicationRepository,
  OAuthClientRepository,
  SubscriptionRepository,
  ThrottlePolicyRepository,
} from '../control-plane/repositories';
import { EventHub } from '../eventhub';
import { countThrottleRequests } from '../throttling';
import { send } from '../outbound';
import { SqlApiStore } from '../store';
import { TrustStore } from '../trust';
import { UserStore } from '../users';
import type { ClassicConfig, GatewayEnvironment } from './config';
import { launcher, readClassicConfig } from './config';
import type { KeyManagerDeps } from './key-manager';
import { AccessTokens, revoke, token, validateKey } from './key-manager';
import { authorize, GATEWAY_TOKEN_CACHE, GatewayKeyCache, KeyValidatorClient, validationResponse } from './key-validation';
import { Membership } from './membership';
import { adminV014, dispatchV014, endpointOf, publisherV014, storeV014, V014Api } from './rest';
import { ClassicThrottle, THROTTLE_HANDLER } from './throttle';
import { adminCall, escapeXml, soapCall } from './soap';
import { renderPublishedApi, SynapseApis } from './synapse';

/**
 * A node of the classic Carbon product (APIM 2.6.0) as the stand-in runs it: the launcher's
 * `-DworkerNode` and `-Dprofile`, the XML files it reads, Hazelcast-style membership in its
 * clustering domain, the admin-service chain (authentication, then worker mode's 403),
 * `APIGatewayAdmin` on managers, and Synapse APIs deployed from files on the deployment tick.
 * A manager is also the key manager and the publisher and store (the default profile): REST v0.14,
 * DCR, opaque tokens, `APIKeyValidationService`. Every node's gateway has the `/token` and `/revoke`
 * APIs (proxies to the key manager); a revocation through `/revoke` clears that gateway's key
 * cache, and the removal reaches the members of its clustering domain.
 * A manager runs a traffic manager too (the default profile): it counts the gateways' request
 * events and decides on its broker; every gateway runs `ThrottleHandler` (classic/throttle.ts).
 * Not modelled: analytics.
 */

/** A traffic manager's ports (APIManagerConfiguration l.110-115: receiver 9611, JMS 5672). */
const TRAFFIC_MANAGER_PORTS = { broker: 5672, receiver: 9611 };

const PORTS = { https: 9443, http: 9763, passthroughHttps: 8243, passthroughHttp: 8280 };

/** Admin services (`adminService` true in their services.xml) the stand-in knows by name. */
const ADMIN_SERVICES = [
  'APIGatewayAdmin',
  'APIAuthenticationService',
  'APIKeyValidationService',
  'UserAdmin',
  'RemoteUserStoreManagerService',
  'ServerAdmin',
];

/** What a manager's admin services work on beyond the gateway's (a worker has none of it). */
interface ManagerServices {
  readonly validate: (call: { context: string; version: string; accessToken: string }) => ReturnType<typeof validateKey>;
}

/** An AxisFault: HTTP 500 and a SOAP fault. */
const fault = (message: string): Res => soapFault(500, message);
const ok = (operation: string): Res => ({
  status: 200,
  contentType: 'text/xml; charset=UTF-8',
  body: envelope(
    `<ns:${operation}Response xmlns:ns="http://service.gateway.apimgt.carbon.wso2.org"><ns:return>true</ns:return></ns:${operation}Response>`,
  ),
});

/**
 * `/services/<AdminService>` through ServerAdminModule's handlers, in their order
 * (carbon-kernel v4.4.35 module.xml): AuthenticationHandler (no or bad credentials: an AxisFault),
 * then AuthorizationHandler (a worker node: 403 with no body, and Carbon's warning). Admin services
 * are HTTPS only. `APIGatewayAdmin` writes the API's Synapse file (a gateway manager).
 */
function adminServices(
  opts: {
    workerNode: boolean;
    users: UserStore;
    apis: SynapseApis;
    https: boolean;
    invalidate: (tokens: string[]) => void;
    manager?: ManagerServices;
  },
  next: Handler,
): Handler {
  return async (req: Req): Promise<Res> => {
    const service = /^\/services\/([A-Za-z]+)(?:\.[A-Za-z0-9]+Endpoint)?\/?$/.exec(req.path)?.[1];
    if (!service || !ADMIN_SERVICES.includes(service)) return next(req);
    if (!opts.https) return fault(`The service cannot be found for the endpoint reference (EPR) /services/${service}`);
    const basic = basicCredentials(req);
    if (!basic) return fault('Access Denied. Please login first.');
    if (!(await opts.users.authenticate(basic.user, basic.secret)))
      return fault('Access Denied. Authentication failed - Invalid credentials provided.');
    if (opts.workerNode) {
      log('WARN', 'AuthorizationHandler', 'Invoking admin services on worker node is forbidden...');
      return { status: 403 };
    }
    const call = req.method === 'POST' ? soapCall(req.rawBody) : undefined;
    if (!call) return fault(`${service} takes SOAP POSTs`);
    if (service === 'APIGatewayAdmin' && /^(add|update)Api(ForTenant)?$/.test(call.operation)) {
      if (!call.params.apiConfig) return fault(`${call.operation}: apiConfig is required`);
      try {
        const api = opts.apis.write(call.params.apiConfig);
        log('INFO', 'APIGatewayAdmin', `${call.operation} by ${basic.user}: API ${api.name} (${api.context})`);
      } catch (err) {
        return fault((err as Error).message);
      }
      return ok(call.operation);
    }
    if (service === 'RemoteUserStoreManagerService' && call.operation === 'addUser') {
      const { userName, credential } = call.params;
      if (!userName || !credential) return fault('userName and credential are required');
      if (!(await opts.users.add(userName, credential)))
        return fault(`UserAlreadyExisting:Username '${userName}' already exists in the system. Please pick another username.`);
      log('INFO', 'RemoteUserStoreManagerService', `user ${userName} added by ${basic.user}`);
      return { status: 202 };
    }
    if (service === 'APIAuthenticationService' && call.operation === 'invalidateCachedTokens') {
      opts.invalidate(call.lists.accessTokens ?? []);
      return { status: 202 };
    }
    if (service === 'APIKeyValidationService' && call.operation === 'validateKey' && opts.manager) {
      const { context, version, accessToken } = call.params;
      const info = await opts.manager.validate({ context: context ?? '', version: version ?? '', accessToken: accessToken ?? '' });
      return { status: 200, contentType: 'text/xml; charset=UTF-8', body: envelope(validationResponse(info)) };
    }
    if (service === 'APIGatewayAdmin' && /^deleteApi(ForTenant)?$/.test(call.operation)) {
      const name = `${call.params.apiProviderName}--${call.params.apiName}:v${call.params.version}`;
      opts.apis.remove(name);
      return ok(call.operation);
    }
    return fault(
      `The endpoint reference (EPR) for the Operation not found is /services/${service} and the WSA Action = urn:${call.operation}`,
    );
  };
}

/** An admin-service call to a gateway environment, as its user: what failed, or undefined. */
async function environmentCall(
  env: GatewayEnvironment,
  trust: TrustStore,
  service: string,
  operation: string,
  ns: string,
  params: string,
): Promise<string | undefined> {
  const { url, res } = await adminCall(env.serverUrl, env, trust, { service, operation, ns, params });
  return res.failure ? `${url}: ${res.failure}` : res.status >= 300 ? `${url} answered ${res.status}` : undefined;
}

/**
 * The manager's webapps: DCR v0.14, the token and revocation endpoints, publisher and store v0.14.
 * A publish pushes the API to each gateway environment (APIGatewayAdmin).
 */
async function managerWebapps(
  home: string,
  config: ClassicConfig,
  users: UserStore,
  trust: TrustStore,
): Promise<{ handler: Handler; services: ManagerServices }> {
  if (!config.apimDb)
    throw new Error('api-manager.xml names no DataSourceName: a manager keeps APIs, applications and tokens in WSO2AM_DB');
  const pool = await openDatabase('WSO2AM_DB', config.apimDb);
  const tokens = new AccessTokens(pool);
  await tokens.ensureTable();
  const apis = new SqlApiStore(pool);
  const clients = new OAuthClientRepository(pool);
  const subscriptions = new SubscriptionRepository(pool);
  const applications = new ApplicationRepository(pool);
  const policies = new ThrottlePolicyRepository(pool);
  const envs = config.environments;
  const deps: KeyManagerDeps = { users, clients, tokens, apis, subscriptions };
  // The traffic manager of the default profile: the gateways' request events on 9611, its decisions on 5672.
  const trafficManager = new EventHub(hostname(), []);
  countThrottleRequests(trafficManager, pool);
  await trafficManager.listen(TRAFFIC_MANAGER_PORTS.broker, TRAFFIC_MANAGER_PORTS.receiver);
  const publisher = {
    push: async (api: Parameters<typeof endpointOf>[0] & { provider?: unknown; name: string; context: string; version: string }) => {
      const xml = renderPublishedApi({
        provider: String(api.provider),
        name: api.name,
        context: api.context,
        version: api.version,
        endpoint: endpointOf(api) ?? '',
      });
      const params = `<xsd:apiProviderName>${escapeXml(String(api.provider))}</xsd:apiProviderName><xsd:apiName>${escapeXml(api.name)}</xsd:apiName><xsd:version>${escapeXml(api.version)}</xsd:version><xsd:apiConfig>${escapeXml(xml)}</xsd:apiConfig><xsd:tenantDomain>carbon.super</xsd:tenantDomain>`;
      const failures = await Promise.all(
        envs.map((env) =>
          environmentCall(env, trust, 'APIGatewayAdmin', 'addApiForTenant', 'http://service.gateway.apimgt.carbon.wso2.org', params),
        ),
      );
      return failures.filter((f): f is string => !!f);
    },
  };
  // CacheInvalidator.invalidateCacheForApp (carbon-apimgt 6.4.50 l.125-133): the application's
  // tokens leave every environment's token cache (APIAuthenticationService.invalidateCachedTokens), in the background.
  const tokensChanged = (applicationId: string) =>
    void (async () => {
      const active = await tokens.activeOfApplication(applicationId);
      if (!active.length) return;
      const params = active.map((t) => `<xsd:accessTokens>${escapeXml(t)}</xsd:accessTokens>`).join('');
      const failures = await Promise.all(
        envs.map((env) =>
          environmentCall(env, trust, 'APIAuthenticationService', 'invalidateCachedTokens', 'http://org.apache.axis2/xsd', params),
        ),
      );
      for (const f of failures) if (f) log('ERROR', 'CacheInvalidator', `Error while invalidating the token cache of a gateway: ${f}`);
    })().catch((err: Error) =>
      log('ERROR', 'CacheInvalidator', `Error while invalidating the token cache of ${applicationId}: ${err.message}`),
    );
  const specs = join(home, 'repository', 'resources', 'api-definitions', 'v0.14');
  const rest = [
    [new V014Api(join(specs, 'publisher-api.yaml')), publisherV014({ apis, publisher, subscriptions })],
    [new V014Api(join(specs, 'store-api.yaml')), storeV014({ apis, applications, subscriptions, clients, tokens, tokensChanged })],
    [new V014Api(join(specs, 'admin-api.yaml')), adminV014({ policies })],
  ] as const;
  const handler: Handler = async (req) => {
    if (req.method === 'POST' && req.path === '/client-registration/v0.14/register') {
      // RegistrationServiceImpl l.99-113: the owner is the authenticated user, or the call is refused.
      const basicUser = basicCredentials(req)?.user;
      const owner = (parseJson(req) as { owner?: unknown } | undefined)?.owner;
      if (basicUser && typeof owner === 'string' && owner !== basicUser)
        return json(403, { error: 'invalid_client', error_description: `${basicUser} cannot register a client owned by ${owner}` });
      return register({ users, clients }, req);
    }
    if (req.method === 'POST' && req.path === '/oauth2/token') return token(deps, req);
    if (req.method === 'POST' && req.path === '/oauth2/revoke') return revoke(deps, req);
    for (const [api, operations] of rest) {
      const res = await dispatchV014(api, operations, tokens, req);
      if (res) return res;
    }
    return NOT_DEPLOYED;
  };
  return { handler, services: { validate: (call) => validateKey({ ...deps, applications, policies }, call) } };
}

/**
 * Where the gateway's `/token` and `/revoke` APIs send: `keyManager.hostname` and `keyManager.port`,
 * which carbon-apimgt 6.4.50 `APIManagerConfiguration.load()` (l.440-465) takes from
 * `<APIKeyValidator><ServerURL>` (the node's own address as `localhost`; 443 without a port).
 */
export function keyManagerOrigin(keyValidatorUrl: string): string {
  if (!URL.canParse(keyValidatorUrl))
    throw new Error(
      `api-manager.xml: <APIKeyValidator><ServerURL> is not a URL (${keyValidatorUrl || 'empty'}): the gateway's /token and /revoke have no key manager`,
    );
  const u = new URL(keyValidatorUrl);
  return `https://${u.hostname}:${u.port || '443'}`;
}

/**
 * How a gateway asks the key manager: `WSClient` (SOAP `APIKeyValidationService`, what the lab's
 * workers use); the stock `ThriftClient` reaches the key manager's Thrift server, which listens on
 * its `ThriftServerHost` (stock `localhost`): a Thrift client aimed at another node's URL gets no
 * answer there (the stand-in does not model Thrift: it answers its own node's calls over SOAP, and
 * refuses the others, as the product would fail them).
 */
function keyValidatorOf(config: ClassicConfig, trust: TrustStore): Pick<KeyValidatorClient, 'validate'> {
  const { clientType, user, password } = config.keyValidator;
  const host = URL.canParse(config.keyValidatorUrl) ? new URL(config.keyValidatorUrl).hostname : '';
  if (clientType === 'WSClient' || (clientType === 'ThriftClient' && ['localhost', '127.0.0.1'].includes(host))) {
    return new KeyValidatorClient(config.keyValidatorUrl, user, password, trust);
  }
  log(
    'WARN',
    'APIKeyValidator',
    `KeyValidatorClientType ${clientType} with ServerURL ${config.keyValidatorUrl}: the carbon-labs stand-in models WSClient only (and ThriftClient to its own node); every token check will fail`,
  );
  return {
    validate: async () => ({
      failure: `KeyValidatorClientType ${clientType} towards ${host || config.keyValidatorUrl} is not modelled by the stand-in (use WSClient)`,
    }),
  };
}

/**
 * The gateway's `/token` and `/revoke` APIs (product-apim v2.6.0 `_TokenAPI_.xml`, `_RevokeAPI_.xml`):
 * the call goes to the key manager's `/oauth2/token` or `/oauth2/revoke`; on the way back
 * APIManagerCacheExtensionHandler (carbon-apimgt 6.4.50 l.55-69) takes a token named in
 * `RevokedAccessToken` out of this gateway's token cache and into its invalid-token cache (the
 * removal reaches its domain's members). The header is passed on to the client, as the handler does.
 */
async function keyManagerProxy(
  req: Req,
  keyManagerUrl: string,
  trust: TrustStore,
  invalidate: (tokens: string[], revoked: boolean) => void,
): Promise<Res> {
  const target = `${keyManagerUrl}/oauth2${req.path}`;
  const headers: Record<string, string> = { 'content-type': String(req.headers['content-type'] ?? 'application/x-www-form-urlencoded') };
  if (req.headers.authorization) headers.authorization = String(req.headers.authorization);
  const res = await send(target, { method: req.method, headers, rawBody: req.rawBody }, 10_000, trust);
  if (res.failure) log('WARN', 'TargetHandler', `${req.path}: the key manager ${target} failed: ${res.failure}`);
  const revoked = res.headers?.revokedaccesstoken;
  if (req.path === '/revoke' && revoked) invalidate([revoked], true);
  return res;
}

export async function classicMain(
  home: string,
  argv: readonly string[],
  version: string,
  tls: { key: string; cert: string },
): Promise<void> {
  const { workerNode, profile } = launcher(argv);
  log(
    'INFO',
    'CarbonServerManager',
    `Starting ${version} (carbon-labs stand-in, classic Carbon 4.4) profile ${profile}${workerNode ? ', worker node (admin services refused)' : ''}`,
  );
  const config = readClassicConfig(home);
  for (const w of config.warnings) log('WARN', 'HazelcastClusteringAgent', w);
  const trust = new TrustStore(config.truststore.file, config.truststore.password);
  log('INFO', 'CarbonServerManager', `client truststore ${trust.describe()}`);
  const users = new UserStore(await openDatabase('WSO2_COMMON_DS', config.userDb));
  await users.add(config.admin.user, config.admin.password);

  const cache = new GatewayKeyCache(config.gatewayTokenCache.enabled, config.gatewayTokenCache.expirySeconds);
  const { clustering } = config;
  let membership: Membership | undefined;
  if (clustering.enabled && clustering.scheme === 'wka') {
    membership = new Membership(
      {
        host: clustering.host,
        port: clustering.port,
        httpPort: PORTS.http,
        httpsPort: PORTS.https,
        domain: clustering.domain,
        subDomain: clustering.subDomain,
      },
      clustering.members,
    );
    const ignore = process.env.SIM_FAULT_IGNORE_CACHE_INVALIDATION === 'true';
    membership.onMessage((message, from) => {
      if (message.type !== 'ClusterCacheInvalidationRequest' || message.cache !== GATEWAY_TOKEN_CACHE) return;
      if (ignore) {
        log('WARN', 'ClusterCacheInvalidationRequest', `seeded fault: ignored from ${from.host} (${message.keys.length} keys)`);
        return;
      }
      const removed = cache.invalidate(message.keys);
      log(
        'INFO',
        'ClusterCacheInvalidationRequest',
        `${GATEWAY_TOKEN_CACHE}: ${message.keys.length} entries removed at the request of ${from.host} (${removed} cached here)`,
      );
    });
    await membership.start();
  } else if (clustering.enabled) {
    log(
      'WARN',
      'HazelcastClusteringAgent',
      `${clustering.scheme} membership is not modelled by the carbon-labs stand-in: this node joins no cluster`,
    );
  } else {
    log('INFO', 'ClusteringAgentService', 'Clustering has been disabled');
  }
  // A removal from the token cache (APIAuthenticationService.invalidateCachedTokens, or a revocation
  // through this gateway's /revoke, which also marks the token invalid here): removed here, then on
  // every member of the domain (ClusterCacheInvalidationRequest).
  const invalidate = (tokens: string[], revoked = false) => {
    const removed = cache.invalidate(tokens, revoked);
    const to = membership?.broadcast({ type: 'ClusterCacheInvalidationRequest', cache: GATEWAY_TOKEN_CACHE, keys: tokens }) ?? [];
    log(
      'INFO',
      'APIAuthenticationService',
      `${tokens.length} tokens removed from ${GATEWAY_TOKEN_CACHE} (${removed} cached here); ClusterCacheInvalidationRequest sent to ${to.length} members${to.length ? `: ${to.map((m) => m.host).join(', ')}` : ''}`,
    );
  };

  const keyManagerUrl = keyManagerOrigin(config.keyValidatorUrl);
  const validator = keyValidatorOf(config, trust);
  const throttle = config.throttling.enabled ? new ClassicThrottle(hostname(), config.throttling) : undefined;
  // APIAuthenticationHandler, then ThrottleHandler on what it let through (the published handlers' order).
  const apis = new SynapseApis(home, async (req, api) => {
    const decided = await authorize({ cache, validator }, req, api);
    if ('refused' in decided) return decided.refused;
    return throttle && api.handlers.includes(THROTTLE_HANDLER) ? throttle.check(decided.info, api) : undefined;
  });
  apis.tick();
  setInterval(() => apis.tick(), config.deploymentIntervalSeconds * 1000);
  const manager = workerNode ? undefined : await managerWebapps(home, config, users, trust);
  const servlet = (https: boolean) =>
    withVersion(
      version,
      adminServices(
        { workerNode, users, apis, https, invalidate, manager: manager?.services },
        manager?.handler ?? (async () => NOT_DEPLOYED),
      ),
    );
  await listen(servlet(true), PORTS.https, tls);
  await listen(servlet(false), PORTS.http);
  const passthrough: Handler = (req) =>
    req.path === '/revoke' || req.path === '/token' ? keyManagerProxy(req, keyManagerUrl, trust, invalidate) : apis.serve(req);
  await listen(passthrough, PORTS.passthroughHttps, tls);
  await listen(passthrough, PORTS.passthroughHttp);
  log(
    'INFO',
    'StartupFinalizerServiceComponent',
    `Server ready: ${workerNode ? 'gateway worker' : 'manager'}; Synapse APIs from ${apis.dir} every ${config.deploymentIntervalSeconds} s; passthrough ${PORTS.passthroughHttps}/${PORTS.passthroughHttp}; key validation at ${config.keyValidatorUrl}, token cache ${config.gatewayTokenCache.enabled ? `${config.gatewayTokenCache.expirySeconds} s` : 'off'}; throttling ${throttle ? `events to ${config.throttling.receiverGroups.map((g) => `{${g.map((e) => `tcp://${e.host}:${e.port}`).join('|')}}`).join(',') || 'nowhere'}` : 'off'}${workerNode ? '' : `; traffic manager on ${TRAFFIC_MANAGER_PORTS.receiver}/${TRAFFIC_MANAGER_PORTS.broker}`}`,
  );
}
