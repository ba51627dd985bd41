import { requestProblems, responseProblems } from './schema-validation';
import { AppliedPolicies, applyRequestFlow, applyResponseFlow } from './operation-policies';
import { STATUS_CODES } from 'http';
import type { IncomingMessage } from 'http';
import type { Duplex } from 'stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { NodeConfig } from './config';
import type { HubEvent } from './eventhub';
import type { Handler, Req, Res } from './http';
import { basicCredentials, bearerToken, json, log, NOT_DEPLOYED, sleep } from './http';
import type { UserStore } from './users';
import type { KeyManagerDto } from './key-managers';
import { authFailure, KeyManagerHolder } from './key-managers';
import { passedOn, RUNTIME_ERROR, send } from './outbound';
import type { TrustStore } from './trust';
import { lookup } from './resolve';
import type { InternalSubscription, StoredApplication, StoredKeyMapping, StoredSubscription, SubscriptionIds } from './subscription-data';
import { storedSubscription, SubscriptionData } from './subscription-data';
import { ThrottleDecisions, throttledRequestOf, ThrottleStream } from './throttling';

interface Artifact {
  readonly apiId: string;
  readonly revisionId: string;
  readonly name: string;
  readonly version: string;
  readonly context: string;
  /** `HTTP` (passthrough ports) or `WS` (WebSocket inbound endpoints); the publisher's default is HTTP. */
  readonly type?: string;
  readonly endpointConfig?: { production_endpoints?: { url?: string } };
  readonly operations: readonly { target?: string; verb?: string; operationPolicies?: AppliedPolicies }[];
  /** Policies applied to the whole API: before an operation's own, in each flow. */
  readonly apiPolicies?: AppliedPolicies;
  /** Its provider, API-level throttling policy and lifecycle state (the gateway REST API shows them). */
  readonly provider?: string;
  readonly policy?: string | null;
  readonly status?: string;
  /** Applications subscribed when the artifact was pulled, with their subscriptions' states. */
  readonly subscribers?: readonly ({
    readonly applicationId: string;
    readonly status: string;
    readonly policy?: string;
  } & SubscriptionIds)[];
  /** The published default version of its API: also served on the context without a version. */
  readonly isDefaultVersion?: boolean;
  /** Requests checked against the definition's schemas (`enableSchemaValidation`), and the definition. */
  readonly enableSchemaValidation?: boolean;
  readonly definition?: Record<string, unknown>;
}

/** A request the gateway lets through: its API, the resource path and the resource it matched (none on a WebSocket API). */
interface Admitted {
  readonly artifact: Artifact;
  readonly resource: string;
  readonly operation?: Artifact['operations'][number];
}

/**
 * Request headers a gateway does not pass on besides the hop-by-hop ones: its own host, length and
 * expectation, the client's token (`remove_outbound_auth_header`, on by default), and
 * `Accept-Encoding` (the stand-in reads the backend's answer as text: a compressed one would reach
 * the client garbled).
 */
const NOT_FORWARDED = ['host', 'content-length', 'expect', 'authorization', 'accept-encoding'];

/**
 * The call to the backend and the answer to the client, with the API's and the resource's operation
 * policies applied in their flows (sim/src/operation-policies.ts): the client's headers and query go on.
 */
function backendCall({ artifact, resource, operation }: Admitted, req: Req) {
  const flow = (f: 'request' | 'response') => [...(artifact.apiPolicies?.[f] ?? []), ...(operation?.operationPolicies?.[f] ?? [])];
  const headers = { 'content-type': 'application/json', ...passedOn(req.headers, NOT_FORWARDED) };
  const logged = (line: string) => log('INFO', 'LogMediator', `${artifact.name}:v${artifact.version} ${line}`);
  const request = applyRequestFlow(flow('request'), { method: req.method, path: resource, query: req.query.toString(), headers }, logged);
  return {
    request,
    answer: (res: Res): Res => {
      const policies = flow('response');
      return policies.length ? { ...res, headers: applyResponseFlow(policies, { ...res.headers }, res.status, logged) } : res;
    },
  };
}

/**
 * The last handler of an API with `enableSchemaValidation` (sim/src/schema-validation.ts): the
 * threat fault's 400 when the request's body does not fit the matched resource's schema.
 */
function schemaRefusal({ artifact, operation }: Admitted, req: Req): Res | undefined {
  if (!artifact.enableSchemaValidation || !artifact.definition) return undefined;
  const problems = operation ? requestProblems(artifact.definition, operation.target ?? '/*', req.method, req.rawBody, schemaWarning) : [];
  return problems.length ? threat('Request', problems) : undefined;
}

/** The same handler on the backend's answer: 400 "Bad Response" (code 500) when it does not fit. */
function responseRefusal({ artifact, operation }: Admitted, req: Req, res: Res & { failure?: string }): Res | undefined {
  if (!artifact.enableSchemaValidation || !artifact.definition || res.failure) return undefined;
  const problems = operation
    ? responseProblems(artifact.definition, operation.target ?? '/*', req.method, res.status, String(res.body ?? ''), schemaWarning)
    : [];
  return problems.length ? threat('Response', problems) : undefined;
}

const schemaWarning = (line: string) => log('WARN', 'SchemaValidator', line);

/** `GatewayUtils.handleThreat` and `_threat_fault_.xml`: always HTTP 400; the code and message say which side. */
function threat(side: 'Request' | 'Response', problems: readonly string[]): Res {
  const description = `Schema validation failed in the ${side}: `;
  log('ERROR', 'SchemaValidator', description);
  return json(400, {
    code: side === 'Request' ? '400' : '500',
    message: side === 'Request' ? 'Bad Request' : 'Bad Response',
    description: `${description}${problems.map((p) => `${p}, `).join('')}`,
  });
}

/** Where an API is served with its version: `/{context}/{version}`. */
const versionedContext = (a: Pick<Artifact, 'context' | 'version'>): string => `${a.context}/${a.version}`;

/**
 * The product pulls the key managers up to 15 more times after a failure, waiting min(2^n, 300) s
 * before the n-th (carbon-apimgt 9.31.86 `KeyManagerConfigurationDataRetriever`, lines 59-109).
 * The stand-in boots in a second, not a minute: it keeps the count and the doubling, in tenths of
 * those seconds, capped at 30 s (about four minutes in all).
 */
const KEY_MANAGER_RETRIES = 15;
const keyManagerRetryMs = (retry: number) => Math.min(2 ** retry * 100, 30_000);

/**
 * A gateway worker: pulls deployed APIs from the control plane (event hub / throttling `service_url`),
 * at startup and on every deploy event from the hubs it subscribed to, and serves them to the
 * tokens of the key managers it pulled at startup.
 */
export class Gateway {
  private readonly artifacts = new Map<string, Artifact>();
  /**
   * The API served on each unversioned context, by context: the last one pulled as its name's
   * default version, as the product's subscription data store keeps APIs by context (carbon-apimgt
   * 9.29.120 SubscriptionDataStoreImpl.getAllAPIsByContextList; DefaultAPIHandler rewrites the path).
   */
  private readonly defaults = new Map<string, string>();
  /** Applications, their keys and subscriptions (with their states), as the product's subscription data store keeps them. */
  private readonly data = new SubscriptionData();
  /** The throttle decisions heard from the traffic managers, and the streams of request events to them. */
  private readonly decisions = new ThrottleDecisions();
  private readonly throttleStreams: ThrottleStream[];
  /** Revoked tokens by `jti`, with their expiry (epoch ms): pulled at startup, then one per TOKEN_REVOCATION event. */
  private readonly revoked = new Map<string, number>();
  private readonly keyManagers: KeyManagerHolder;
  private startupComplete = false;

  constructor(
    private readonly config: NodeConfig,
    private readonly trust: TrustStore,
  ) {
    this.keyManagers = new KeyManagerHolder(trust);
    this.throttleStreams = config.throttleReceivers.map((r) => new ThrottleStream(config.nodeName, r));
    if (!this.throttleStreams.length)
      log(
        'WARN',
        'ThrottleDataPublisher',
        'no [[apim.throttling.url_group]] traffic_manager_urls: requests are counted by no traffic manager',
      );
  }

  /** A GET of the control planes' internal data API, with the super admin's Basic credentials and the tenant. */
  private async internal<T>(path: string): Promise<T> {
    const origin = this.config.eventHubOrigin;
    if (!origin) throw new Error('neither [apim.event_hub] nor [apim.throttling] service_url is set: nowhere to pull from');
    const auth = Buffer.from(`${this.config.superAdmin.username}:${this.config.superAdmin.password}`).toString('base64');
    const res = await send(
      `${origin}${path}`,
      { method: 'GET', headers: { authorization: `Basic ${auth}`, xWSO2Tenant: 'carbon.super' }, rawBody: '' },
      5000,
      this.trust,
    );
    if (res.failure) throw new Error(res.failure);
    if (res.status !== 200) throw new Error(`GET ${origin}${path} answered ${res.status}: ${String(res.body).slice(0, 200)}`);
    return JSON.parse(String(res.body)) as T;
  }

  /**
   * The key managers, pulled once at startup beside the artifacts (`KeyManagerConfigurationDataRetriever`):
   * a gateway that never gets them knows no token issuer, and refuses every token (401).
   */
  async loadKeyManagers(): Promise<void> {
    for (let retry = 0; ; retry++) {
      try {
        this.keyManagers.load(await this.internal<KeyManagerDto[]>('/internal/data/v1/keymanagers'));
        return;
      } catch (err) {
        if (retry >= KEY_MANAGER_RETRIES) {
          log(
            'ERROR',
            'KeyManagerConfigurationDataRetriever',
            `Failed to retrieve Key Manager configuration with ${retry} times: ${(err as Error).message}`,
          );
          return;
        }
        const waitMs = keyManagerRetryMs(retry + 1);
        log(
          'WARN',
          'KeyManagerConfigurationDataRetriever',
          `Failed retrieving Key Manager Configurations from remote endpoint (${(err as Error).message}). Retrying after ${waitMs / 1000} seconds...`,
        );
        await sleep(waitMs);
      }
    }
  }

  private async pull(apiId?: string): Promise<void> {
    for (const label of this.config.gatewayLabels) {
      const query = new URLSearchParams({ gatewayLabel: label, ...(apiId ? { apiId } : {}) });
      const { list } = await this.internal<{ list: unknown[] }>(`/internal/data/v1/runtime-artifacts?${query}`);
      for (const a of list as Artifact[]) {
        this.artifacts.set(a.apiId, a);
        this.noteDefault(a);
        for (const sub of a.subscribers ?? [])
          this.data.putSubscription(sub.applicationId, a.apiId, {
            status: sub.status,
            policy: sub.policy ?? 'Unlimited',
            subscriptionId: sub.subscriptionId,
            apiId: sub.apiId,
            appId: sub.appId,
          });
        log('INFO', 'InMemoryAPIDeployer', `Deployed API ${a.name}:${a.version} (${versionedContext(a)}) revision ${a.revisionId}`);
      }
    }
  }

  /** Whether `a` is served on its unversioned context now (or no longer). */
  private noteDefault(a: Artifact): void {
    const current = this.defaults.get(a.context);
    if (current && this.config.faults.keepDefaultVersion && (current !== a.apiId || !a.isDefaultVersion)) {
      log(
        'WARN',
        'DefaultAPIHandler',
        `fault SIM_FAULT_KEEP_DEFAULT_VERSION: ${a.context} stays with ${this.artifacts.get(current)?.version ?? current} (${a.version} is ${a.isDefaultVersion ? '' : 'no longer '}the default)`,
      );
      return;
    }
    if (a.isDefaultVersion) {
      this.defaults.set(a.context, a.apiId);
    } else if (current === a.apiId) {
      this.defaults.delete(a.context);
    }
  }

  /** An API gone from this gateway (undeployed, deleted): its versioned and unversioned contexts with it. */
  private remove(apiId: string): void {
    const a = this.artifacts.get(apiId);
    this.artifacts.delete(apiId);
    if (a && this.defaults.get(a.context) === apiId) this.defaults.delete(a.context);
  }

  /**
   * Startup sync, retried like the product's deployment retries, then given up (product-apim#12126).
   * A gateway whose startup sync failed keeps answering 500 on its startup health check.
   */
  async startupSync(): Promise<void> {
    for (let attempt = 1; attempt <= 10; attempt++) {
      try {
        await this.pull();
        await this.loadSubscriptionData();
        log('INFO', 'GatewayStartupListener', `startup sync done: ${this.artifacts.size} API(s) deployed`);
        this.startupComplete = true;
        return;
      } catch (err) {
        log(
          'ERROR',
          'GatewayStartupListener',
          `Error while retrieving runtime artifacts (attempt ${attempt}/10): ${(err as Error).message}`,
        );
        await sleep(2000);
      }
    }
    log(
      'ERROR',
      'GatewayStartupListener',
      'giving up the startup sync: /api/am/gateway/v2/server-startup-healthcheck stays 500; APIs answer 404 until a deploy event or a restart',
    );
  }

  /** The unexpired revoked tokens, pulled once at startup beside the artifacts (a gateway hears later ones as events). */
  async loadRevokedTokens(): Promise<void> {
    for (let attempt = 1; attempt <= 10; attempt++) {
      try {
        for (const r of await this.internal<{ jwt_signature: string; expiry_time: number }[]>('/internal/data/v1/revokedjwt'))
          this.revoked.set(r.jwt_signature, r.expiry_time);
        log('INFO', 'RevokedJWTTokensRetriever', `${this.revoked.size} revoked token(s) loaded`);
        return;
      } catch (err) {
        log('ERROR', 'RevokedJWTTokensRetriever', `Error while retrieving revoked JWTs (attempt ${attempt}/10): ${(err as Error).message}`);
        await sleep(2000);
      }
    }
  }

  async onEvent(event: HubEvent): Promise<void> {
    if (event.type === 'THROTTLE_DECISION') {
      if (this.config.faults.ignoreThrottleDecisions) return;
      this.decisions.hear(event);
      return;
    }
    if (event.type === 'TOKEN_REVOCATION') {
      if (this.config.faults.ignoreRevocationEvents) {
        log('WARN', 'JMSListener', `fault SIM_FAULT_IGNORE_REVOCATION_EVENTS: dropping the revocation of ${event.jti}`);
        return;
      }
      if (event.jti) this.revoked.set(event.jti, (event.expiry ?? 0) * 1000);
      return;
    }
    if (event.type === 'SUBSCRIPTIONS_CREATE' || event.type === 'SUBSCRIPTIONS_UPDATE' || event.type === 'SUBSCRIPTIONS_DELETE') {
      if (this.config.faults.ignoreSubscriptionEvents) {
        log(
          'WARN',
          'JMSListener',
          `fault SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS: dropping ${event.type} for ${event.applicationId}/${event.apiId}`,
        );
        return;
      }
      if (!event.applicationId) return;
      if (event.type === 'SUBSCRIPTIONS_DELETE') this.data.removeSubscription(event.applicationId, event.apiId);
      else
        this.data.putSubscription(event.applicationId, event.apiId, {
          status: event.status ?? 'UNBLOCKED',
          policy: event.policy ?? 'Unlimited',
          ...event.subscriptionIds,
        });
      return;
    }
    if (event.type === 'APPLICATION_DELETE') {
      if (event.applicationId) this.data.removeApplication(event.applicationId);
      return;
    }
    if (event.type === 'APPLICATION_CREATE' || event.type === 'APPLICATION_UPDATE') {
      if (event.application) this.data.putApplication(event.application);
      return;
    }
    if (event.type === 'APPLICATION_REGISTRATION_CREATE') {
      if (event.keyMapping) this.data.putKeyMapping(event.keyMapping);
      return;
    }
    if (!event.labels.some((l) => this.config.gatewayLabels.includes(l))) return;
    if (event.type === 'REMOVE_API_FROM_GATEWAY') {
      if (this.config.faults.ignoreRemoveEvents) {
        log('WARN', 'JMSListener', `fault SIM_FAULT_IGNORE_REMOVE_EVENTS: dropping ${event.type} for ${event.apiId}`);
        return;
      }
      this.remove(event.apiId);
      return;
    }
    if (this.config.faults.ignoreDeployEvents) {
      log('WARN', 'JMSListener', `fault SIM_FAULT_IGNORE_DEPLOY_EVENTS: dropping ${event.type} for ${event.apiId}`);
      return;
    }
    if (this.config.faults.propagationDelayMs) await sleep(this.config.faults.propagationDelayMs);
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await this.pull(event.apiId);
        return;
      } catch (err) {
        log('ERROR', 'DeployAPIInGatewayListener', `could not pull API ${event.apiId} (attempt ${attempt}/5): ${(err as Error).message}`);
        await sleep(1000);
      }
    }
  }

  /**
   * Servlet ports (9443/9763): the gateway REST API (`api#am#gateway#v2`, the one webapp the
   * gateway-worker profile keeps beside the sample): its startup health check, anonymous, and what
   * the gateway holds, for any user of the tenant by Basic auth (carbon-apimgt 9.29.120
   * rest.api.gateway: `BasicAuthenticationInterceptor` skips role validation for it).
   */
  servlet(users: UserStore): Handler {
    const base = '/api/am/gateway/v2';
    return async (req: Req): Promise<Res> => {
      if (req.path === `${base}/server-startup-healthcheck` && req.method === 'GET') {
        return this.startupComplete
          ? { status: 200, contentType: 'text/plain', body: 'OK' }
          : { status: 500, contentType: 'text/plain', body: 'Internal Server Error.' };
      }
      if (!req.path.startsWith(`${base}/`)) return NOT_DEPLOYED;
      const basic = basicCredentials(req);
      if (!basic || !(await users.authenticate(basic.user, basic.secret))) {
        return json(401, { code: 401, message: '', description: 'Unauthenticated request', moreInfo: '' });
      }
      if (req.method !== 'GET') return NOT_DEPLOYED;
      if (req.path === `${base}/apis`) return this.apisHeld(req.query.get('context'), req.query.get('version'));
      if (req.path === `${base}/applications`) return this.data.applicationsAnswer(req.query.get('name'), req.query.get('uuid'));
      if (req.path === `${base}/subscriptions`) return this.data.subscriptionAnswer(req.query.get('apiUUID'), req.query.get('appUUID'));
      const byId = new RegExp(`^${base}/apis/([^/]+)$`).exec(req.path);
      if (byId) return this.apiHeld(decodeURIComponent(byId[1]));
      return NOT_DEPLOYED;
    };
  }

  /** `APIMetaData` of a deployed API (without the integer `apiId`: the artifacts the stand-in pulls carry UUIDs only). */
  private metaData(a: Artifact): Record<string, unknown> {
    return {
      // No API-level policy: left out (the file's `policy` is a string; the product's null was not seen run).
      apiUUID: a.apiId,
      provider: a.provider,
      name: a.name,
      version: a.version,
      context: versionedContext(a),
      ...(a.policy ? { policy: a.policy } : {}),
      apiType: a.type ?? 'HTTP',
      isDefaultVersion: this.defaults.get(a.context) === a.apiId,
      status: a.status,
    };
  }

  /**
   * `GET /apis` (ApisApiServiceImpl.apisGet): with `context` (the versioned one) and `version` the
   * one API or 404 with no body; one of the two alone 400; neither, every API the gateway holds.
   */
  private apisHeld(context: string | null, version: string | null): Res {
    const held = [...this.artifacts.values()];
    if (context === null && version === null) return json(200, { count: held.length, list: held.map((a) => this.metaData(a)) });
    if (context === null || version === null) return json(400, { moreInfo: 'required parameters are missing' });
    const found = held.find((a) => versionedContext(a) === context && a.version === version);
    return found ? json(200, { count: 1, list: [this.metaData(found)] }) : { status: 404, contentType: 'application/json', body: '' };
  }

  /** `GET /apis/{apiId}` by UUID (`APIInfo`, with its URL mappings and the subscriptions this gateway knows; no `version`, as the product sets none), or 404 with no body. */
  private apiHeld(apiId: string): Res {
    const a = this.artifacts.get(apiId);
    if (!a) return { status: 404, contentType: 'application/json', body: '' };
    const { version: _unset, ...meta } = this.metaData(a);
    const subscripitons = this.data
      .subscribersOf(apiId)
      .map(({ applicationUUID, sub }) => ({ subscriptionPolicy: sub.policy, status: sub.status, application: { uuid: applicationUUID } }));
    const urlMappings = a.operations.map((o) => ({
      httpMethod: (o.verb ?? 'GET').toUpperCase(),
      urlPattern: o.target ?? '/*',
      authScheme: 'Any',
      scopes: [],
    }));
    // WSO2's own spelling of the field.
    return json(200, { ...meta, urlMappings, subscripitons });
  }

  /** A subscription's state: local data first (events, pulls); the control plane only for a pair never heard of. */
  private async subscription(appId: string, apiId: string): Promise<StoredSubscription | undefined> {
    const known = this.data.getSubscription(appId, apiId);
    if (known) return known;
    const { list } = await this.internal<{ list: InternalSubscription[] }>(
      `/internal/data/v1/subscriptions?${new URLSearchParams({ apiId, applicationId: appId })}`,
    ).catch(() => ({ list: [] }));
    if (!list.length) return undefined;
    this.data.putSubscription(appId, apiId, storedSubscription(list[0]));
    return this.data.getSubscription(appId, apiId);
  }

  /** An application: local data first; the control plane's list only for one never heard of (the store loads one it misses). */
  private async application(uuid: string): Promise<StoredApplication | undefined> {
    const known = this.data.getApplication(uuid);
    if (known) return known;
    const { list } = await this.internal<{ list: StoredApplication[] }>('/internal/data/v1/applications').catch(() => ({
      list: [] as StoredApplication[],
    }));
    const found = list.find((a) => a.uuid === uuid);
    if (found) this.data.putApplication(found);
    return found;
  }

  /**
   * Every application, key mapping and subscription of the organization, pulled at startup beside
   * the artifacts (`SubscriptionDataStoreImpl.init` loads them all), so the gateway knows those made
   * before it came up; later changes arrive as events.
   */
  private async loadSubscriptionData(): Promise<void> {
    const [apps, keys, subs] = await Promise.all([
      this.internal<{ list: StoredApplication[] }>('/internal/data/v1/applications'),
      this.internal<{ list: StoredKeyMapping[] }>('/internal/data/v1/application-key-mappings'),
      this.internal<{ list: InternalSubscription[] }>('/internal/data/v1/subscriptions'),
    ]);
    for (const a of apps.list) this.data.putApplication(a);
    for (const k of keys.list) this.data.putKeyMapping(k);
    for (const sub of subs.list) this.data.putSubscription(sub.appUUID, sub.apiUUID, storedSubscription(sub));
    log(
      'INFO',
      'SubscriptionDataStoreImpl',
      `${apps.list.length} application(s), ${keys.list.length} key mapping(s), ${subs.list.length} subscription(s) loaded`,
    );
  }

  /**
   * The deployed API a request addresses and its resource, or the product's refusal: 404 (no such
   * API on this kind of port), 405 (no such resource), 401 (no or a bad token) or 500 (no JWKS to
   * check it with), 403 (not subscribed), 401 (a blocked or inactive subscription).
   */
  private async admit(req: Req, webSocket: boolean): Promise<Admitted | Res> {
    // Each API on `/{context}/{version}`, the default version also on `/{context}`: the longest
    // base that matches wins (carbon-apimgt 9.29.120 Utils.getSelectedAPIList).
    const bases = [...this.artifacts.values()].map((a) => ({ a, base: versionedContext(a) }));
    for (const [context, apiId] of this.defaults) {
      const a = this.artifacts.get(apiId);
      if (a) bases.push({ a, base: context });
    }
    const selected = bases
      .filter(({ a, base }) => (a.type === 'WS') === webSocket && (req.path === base || req.path.startsWith(`${base}/`)))
      .sort((x, y) => y.base.length - x.base.length)[0];
    if (!selected) return RUNTIME_ERROR(404, '404', 'Not Found', 'The requested resource is not available.');
    const artifact = selected.a;
    const resource = req.path.slice(selected.base.length) || '/';
    const operation = webSocket
      ? undefined
      : artifact.operations.find((o) => (o.verb ?? 'GET').toUpperCase() === req.method && matchesTarget(o.target ?? '/*', resource));
    if (!webSocket && !operation)
      return RUNTIME_ERROR(
        405,
        '900906',
        'No matching resource found for given API Request',
        `Method not allowed for given API resource ${resource}`,
      );
    const claims = await this.keyManagers.authenticate(bearerToken(req));
    if ('status' in claims) return claims;
    // A revoked token: 401 900901, "Invalid JWT token" (carbon-apimgt 9.29.120 JWTValidator, before its token cache).
    if (this.revoked.has(claims.jti)) return authFailure('revoked');
    const subscription = claims.application ? await this.subscription(claims.application.uuid, artifact.apiId) : undefined;
    const status = subscription?.status;
    // The application's id, subscriber and tier come from the data store, as key validation takes them (AbstractKeyValidationHandler l.393-400).
    const application = subscription ? await this.application(claims.application!.uuid) : undefined;
    if (!subscription || !status || !application) {
      return json(403, {
        code: '900908',
        message: 'Resource forbidden',
        description: 'User is NOT authorized to access the Resource. API Subscription validation failed.',
      });
    }
    // carbon-apimgt 9.29.120 SubscriptionValidationUtils: a sandbox key still passes PROD_ONLY_BLOCKED.
    if (status === 'BLOCKED' || (status === 'PROD_ONLY_BLOCKED' && claims.keytype !== 'SANDBOX')) return authFailure('blocked');
    if (status === 'ON_HOLD' || status === 'REJECTED') return authFailure('inactive');
    // Subscription, then application throttling: refused while a traffic manager's decision holds;
    // else the request is let through and published to them (ThrottleHandler: only requests not throttled are).
    const request = throttledRequestOf(application, artifact.context, artifact.version, subscription.policy);
    const refusal = this.decisions.refusal(request);
    if (refusal) return refusal;
    for (const stream of this.throttleStreams)
      stream.publish({
        type: 'THROTTLE_REQUEST',
        eventId: '',
        apiId: artifact.apiId,
        ...request,
        labels: [],
        origin: this.config.nodeName,
      });
    if (!artifact.endpointConfig?.production_endpoints?.url)
      return RUNTIME_ERROR(500, '101503', 'Runtime Error', 'No production endpoint configured');
    return { artifact, resource, operation };
  }

  /** Passthrough ports (8243/8280): `/{context}/{version}/{resource}` of deployed HTTP APIs. */
  passthrough(): Handler {
    return async (req: Req): Promise<Res> => {
      const admitted = await this.admit(req, false);
      if (!('artifact' in admitted)) return admitted;
      const refused = schemaRefusal(admitted, req);
      if (refused) return refused;
      const endpoint = admitted.artifact.endpointConfig!.production_endpoints!.url!;
      const { request, answer } = backendCall(admitted, req);
      const url = `${endpoint.replace(/\/$/, '')}${request.path}${request.query ? `?${request.query}` : ''}`;
      const res = await send(url, { method: request.method, headers: request.headers, rawBody: req.rawBody }, 10_000, this.trust);
      return responseRefusal(admitted, req, res) ?? answer(res);
    };
  }

  /** WebSocket inbound endpoints (9099/8099) answer a request that is no WebSocket handshake with 400. */
  webSocketPlain(): Handler {
    return async (req: Req): Promise<Res> =>
      RUNTIME_ERROR(400, '400', 'Bad Request', `${req.method} ${req.path} is not a WebSocket handshake (no Upgrade: websocket)`);
  }

  /**
   * WebSocket inbound endpoints (9099/8099): the handshake of a deployed WS API after the same
   * checks as HTTP traffic, then frames relayed to the API's `ws://`/`wss://` endpoint.
   */
  webSocketUpgrade(): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
    const server = new WebSocketServer({ noServer: true });
    return (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const asked: Req = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody: '' };
      this.admit(asked, true).then(
        (admitted) => {
          if (!('artifact' in admitted)) return refuse(socket, admitted);
          server.handleUpgrade(req, socket, head, (client) => this.relay(client, admitted.artifact, admitted.resource));
        },
        (err: Error) => refuse(socket, RUNTIME_ERROR(500, '500', 'Internal Server Error', err.message)),
      );
    };
  }

  private relay(client: WebSocket, artifact: Artifact, resource: string): void {
    const url = `${artifact.endpointConfig!.production_endpoints!.url!.replace(/\/$/, '')}${resource === '/' ? '' : resource}`;
    const backend = new WebSocket(url, { lookup, ...(url.startsWith('wss:') ? { agent: this.trust.agent } : {}) });
    const pending: { data: Buffer | ArrayBuffer | Buffer[]; binary: boolean }[] = [];
    backend.on('open', () => {
      for (const m of pending.splice(0)) backend.send(m.data, { binary: m.binary });
    });
    client.on('message', (data, binary) =>
      backend.readyState === WebSocket.OPEN ? backend.send(data, { binary }) : pending.push({ data, binary }),
    );
    backend.on('message', (data, binary) => client.send(data, { binary }));
    backend.on('error', (err) => {
      log('ERROR', 'WebsocketInboundHandler', `${artifact.name}:${artifact.version}: backend ${url} unreachable: ${err.message}`);
      client.close(1011, 'backend unreachable');
    });
    backend.on('close', () => client.close());
    client.on('close', () => backend.terminate());
  }
}

/** A refused WebSocket handshake: the status, headers and body an HTTP client would get, then close. */
function refuse(socket: Duplex, res: Res): void {
  const body = JSON.stringify(res.body ?? {});
  const headers = Object.entries(res.headers ?? {})
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? ''}\r\n${headers}content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function matchesTarget(target: string, resource: string): boolean {
  if (target === '/*' || target === resource) return true;
  const pattern = target.replace(/\{[^}]+\}/g, '[^/]+').replace(/\/\*$/, '(/.*)?');
  return new RegExp(`^${pattern}$`).test(resource);
}
