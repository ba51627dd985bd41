import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { TOKEN_CACHE_EXPIRY_SECONDS } from '../../generator/products/apim-2.6.0';
import { join } from 'path';
import { addressOf, clusterDomainOf, DB } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { simApim260 } from '../../generator/products/sim';
import { renderLab } from '../../generator/render';
import { retryUntil } from '../../generator/runtime/retry';
import { brokerList, launcher, readClassicConfig, receiverGroups } from '../../sim/src/classic/config';
import { ClassicThrottle, classicApplicationKey, classicSubscriptionKey } from '../../sim/src/classic/throttle';
import { Membership } from '../../sim/src/classic/membership';
import { keyManagerOrigin } from '../../sim/src/classic';
import type { AccessToken } from '../../sim/src/classic/key-manager';
import { validateKey } from '../../sim/src/classic/key-manager';
import { authenticate, GatewayKeyCache, parseValidationResponse, validationResponse } from '../../sim/src/classic/key-validation';
import { envelope } from '../../sim/src/admin-services';
import { adminV014, dispatchV014, V014Api } from '../../sim/src/classic/rest';
import { parseSynapseApi, PUBLISHED_HANDLERS, renderPublishedApi, SynapseApis, synapseFileName } from '../../sim/src/classic/synapse';
import { expectedView, loggedView, viewProblems } from '../../harness/checks/cluster-membership';
import type { Req } from '../../sim/src/http';
import { tempDir } from '../support/labs';

/** A node's home as the entrypoint leaves it: the lab's files for the node over the product home. */
function homeOf(pattern: 1 | 2 | 3, node: string): string {
  const home = tempDir('classic-home-');
  const prefix = `nodes/${node}/`;
  for (const f of renderLab(buildLab(pattern, { product: simApim260 })).filter((x) => x.path.startsWith(prefix))) {
    const path = join(home, f.path.slice(prefix.length));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, f.content);
  }
  return home;
}

describe("the classic stand-in's launcher (carbon-kernel 4.4 Main)", () => {
  test.each([
    [['-DworkerNode=false'], { workerNode: false, profile: 'default' }],
    [['-DworkerNode=false', '-Dprofile=gateway-worker', '-DworkerNode=true'], { workerNode: true, profile: 'gateway-worker' }],
    // The container's arguments come after the script's -DworkerNode=false: the last one wins.
    [
      ['-DworkerNode=false', '-DworkerNode=true', '-Dprofile=gateway-worker', '-DworkerNode=false'],
      { workerNode: false, profile: 'gateway-worker' },
    ],
  ])('%j', (argv, expected) => expect(launcher(argv)).toEqual(expected));

  test('workerNode=true without a profile switches to the worker profile, which 2.6.0 does not have: the node stops', () => {
    expect(() => launcher(['-DworkerNode=false', '-DworkerNode=true'])).toThrow('OSGi runtime worker profile not found');
    expect(() => launcher(['-Dprofile=gateway-manager'])).toThrow("profile gateway-manager is not one of 2.6.0's");
  });
});

describe('the classic stand-in reads the generated XML as the product does', () => {
  test.each([
    [1, 'manager-1'],
    [2, 'worker-2'],
    [3, 'worker-1'],
    [3, 'manager-2'],
  ] as const)('pattern %s %s', (pattern, node) => {
    const lab = buildLab(pattern, { product: simApim260 });
    const config = readClassicConfig(homeOf(pattern, node));
    const domain = clusterDomainOf(lab, node);
    expect(config.clustering).toEqual({
      enabled: true,
      scheme: 'wka',
      domain: domain.domain,
      host: addressOf(lab, node, 'cluster'),
      port: 4000,
      subDomain: node.startsWith('manager') ? 'mgt' : 'worker',
      members: domain.members.map((m) => ({ host: addressOf(lab, m.node, 'cluster'), port: 4000 })),
    });
    expect(config.userDb).toMatchObject({ host: DB.host, database: DB.sharedDb, user: DB.user, password: DB.password });
    expect(config.warnings).toEqual([]);
    // api-manager.xml: the APIs' database, the gateway environment the publisher pushes to, the
    // key validator a gateway calls, its token cache (stock: on; the lab's expiry of 20 s).
    expect(config.apimDb).toMatchObject({ host: DB.host, database: DB.apimDb, user: DB.user });
    expect(config.environments).toEqual([
      { name: 'Production and Sandbox', serverUrl: 'https://localhost:9443/services/', user: 'admin', password: 'admin' },
    ]);
    expect(config.keyValidatorUrl).toBe(
      node.startsWith('worker') ? `https://${lab.managerEndpointHost}:9443/services/` : 'https://localhost:9443/services/',
    );
    expect(config.keyValidator).toEqual({
      user: 'admin',
      password: 'admin',
      clientType: node.startsWith('worker') ? 'WSClient' : 'ThriftClient',
    });
    expect(config.gatewayTokenCache).toEqual({ enabled: true, expirySeconds: TOKEN_CACHE_EXPIRY_SECONDS });
    // The gateway's /token and /revoke send where the key validator is (APIManagerConfiguration).
    expect(keyManagerOrigin(config.keyValidatorUrl)).toBe(
      node.startsWith('worker') ? `https://${lab.managerEndpointHost}:9443` : 'https://localhost:9443',
    );
  });

  test('an unknown membership scheme stops the node, a loopback member is warned about', () => {
    const home = homeOf(1, 'worker-1');
    const axis2 = join(home, 'repository/conf/axis2/axis2.xml');
    const text = readFileSync(axis2, 'utf8');
    writeFileSync(
      axis2,
      text.replace('<parameter name="membershipScheme">wka</parameter>', '<parameter name="membershipScheme">kubernetes</parameter>'),
    );
    expect(() => readClassicConfig(home)).toThrow("Invalid membership scheme 'kubernetes'");
    writeFileSync(axis2, text.replace(/<parameter name="localMemberHost">[^<]+</, '<parameter name="localMemberHost">127.0.0.1<'));
    expect(readClassicConfig(home).warnings).toEqual([
      'Hazelcast Clustering needs ip addresses for localMemberHost and well-known members',
    ]);
  });
});

describe('membership over TCP: a domain is a cluster, whatever the WKA list names', () => {
  const started: Membership[] = [];
  afterAll(() => {
    for (const m of started) m.stop();
  });

  test('members of one domain join through their well-known members; a member of another is refused', async () => {
    const wka = [47101, 47102, 47103, 47104].map((port) => ({ host: '127.0.0.1', port }));
    const node = (port: number, domain: string, subDomain: string) => {
      const m = new Membership(
        { host: '127.0.0.1', port, httpPort: 9763, httpsPort: 9443, domain, subDomain },
        port === 47104 ? [wka[0]] : wka,
      );
      started.push(m);
      return m;
    };
    const [a, b, c, d] = [
      node(47101, 'mgt.domain', 'mgt'),
      node(47102, 'mgt.domain', 'mgt'),
      node(47103, 'worker.domain', 'worker'),
      node(47104, 'mgt.domain', 'worker'),
    ];
    const heard = new Map<Membership, string[]>();
    for (const m of started)
      m.onMessage((message, from) => heard.set(m, [...(heard.get(m) ?? []), `${from.port}:${message.type}:${message.keys.join(',')}`]));
    for (const m of started) await m.start();
    // d lists only a: it learns b from a.
    const view = (m: Membership) =>
      m
        .view()
        .map((x) => `${x.port}/${x.subDomain}`)
        .sort();
    await retryUntil(async () => (view(a).length === 3 && view(b).length === 3 && view(d).length === 3 ? true : undefined), {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: 'the mgt.domain members to see each other',
    });
    expect(view(a)).toEqual(['47101/mgt', '47102/mgt', '47104/worker']);
    expect(view(d)).toEqual(view(a));
    expect(view(c)).toEqual(['47103/worker']);
    // A cluster message reaches the domain's members, never another domain's.
    expect(
      a
        .broadcast({ type: 'ClusterCacheInvalidationRequest', cache: 'GATEWAY_TOKEN_CACHE', keys: ['t1'] })
        .map((m) => m.port)
        .sort(),
    ).toEqual([47102, 47104]);
    await retryUntil(async () => (heard.get(b) && heard.get(d) ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 50,
      what: 'b and d to hear a',
    });
    expect(heard.get(b)).toEqual(['47101:ClusterCacheInvalidationRequest:t1']);
    expect(heard.get(d)).toEqual(['47101:ClusterCacheInvalidationRequest:t1']);
    expect(heard.get(c)).toBeUndefined();
  });
});

describe('Synapse APIs from files, on the deployment tick', () => {
  const xml = (name: string, context: string, handlers = '') =>
    `<api xmlns="http://ws.apache.org/ns/synapse" name="${name}" context="${context}"><resource methods="GET" url-mapping="/*"><inSequence><send><endpoint><http uri-template="http://127.0.0.1:9/x"/></endpoint></send></inSequence></resource>${handlers}</api>`;
  const req = (path: string, headers: Record<string, string> = {}): Req => ({
    method: 'GET',
    path,
    query: new URLSearchParams(),
    headers,
    rawBody: '',
  });

  test('a file copied in is served only after the next tick; a secured API refuses a call without a token, and a token the key manager refuses', async () => {
    const home = tempDir('classic-synapse-');
    const validator = { validate: async () => ({ authorized: false, validationStatus: 900901 }) };
    const apis = new SynapseApis(home, (r, api) => authenticate({ cache: new GatewayKeyCache(true, 900), validator }, r, api));
    mkdirSync(apis.dir, { recursive: true });
    writeFileSync(
      join(apis.dir, synapseFileName('admin--Secured:v1')),
      xml(
        'admin--Secured:v1',
        '/secured/1',
        '<handlers><handler class="org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"/></handlers>',
      ),
    );
    expect((await apis.serve(req('/secured/1/a'))).status).toBe(404);
    apis.tick();
    const missing = await apis.serve(req('/secured/1/a'));
    expect({ status: missing.status, body: String(missing.body) }).toEqual({
      status: 401,
      body: expect.stringContaining('<ams:code>900902</ams:code>'),
    });
    expect((await apis.serve(req('/secured/1/a', { authorization: 'Bearer abc' }))).status).toBe(401);
    expect(parseSynapseApi(xml('admin--A:v1', '/a/1/'), 'a.xml').context).toBe('/a/1');
    // Without a key validator, a secured API serves nobody.
    const unchecked = new SynapseApis(home);
    unchecked.tick();
    expect((await unchecked.serve(req('/secured/1/a', { authorization: 'Bearer abc' }))).status).toBe(500);
  });

  test("the publisher's file is what the gateway reads: name, context with the version, the endpoint, APIAuthenticationHandler", () => {
    const api = parseSynapseApi(
      renderPublishedApi({ provider: 'admin', name: 'Pizza', context: '/pizza', version: '1.0.0', endpoint: 'http://backend:8080/' }),
      'p.xml',
    );
    expect(api).toMatchObject({
      name: 'admin--Pizza:v1.0.0',
      context: '/pizza/1.0.0',
      version: '1.0.0',
      endpoint: 'http://backend:8080',
      handlers: PUBLISHED_HANDLERS,
    });
    expect(synapseFileName(api.name)).toBe('admin--Pizza_v1.0.0.xml');
  });
});

describe("a gateway's APIAuthenticationHandler: the key cache, the key manager, the product's faults", () => {
  const req = (token?: string, method = 'GET'): Req => ({
    method,
    path: '/p/1.0.0/x',
    query: new URLSearchParams(),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    rawBody: '',
  });
  const api = { name: 'admin--P:v1.0.0', context: '/p/1.0.0', version: '1.0.0' };
  const granted = { authorized: true, validationStatus: 0, issuedTime: Date.now(), validityPeriod: 3_600_000 };

  test.each([
    [{ authorized: false, validationStatus: 900901 }, 401, 'Invalid Credentials'],
    [{ authorized: false, validationStatus: 900908 }, 403, 'Resource forbidden'],
    [{ failure: 'connect ECONNREFUSED' }, 500, 'Unclassified Authentication Failure'],
  ] as const)('the key manager answers %j: %s %s', async (answer, status, message) => {
    const res = await authenticate({ cache: new GatewayKeyCache(true, 900), validator: { validate: async () => answer } }, req('t'), api);
    expect(res?.status).toBe(status);
    expect(String(res?.body)).toContain(`<ams:message>${message}</ams:message>`);
  });

  test('an authorized token is validated once and then served from the cache, until it is invalidated or the cache entry expires', async () => {
    let calls = 0;
    const cache = new GatewayKeyCache(true, 900);
    const auth = {
      cache,
      validator: {
        validate: async () => {
          calls++;
          return granted;
        },
      },
    };
    expect(await authenticate(auth, req('t'), api)).toBeUndefined();
    expect(await authenticate(auth, req('t'), api)).toBeUndefined();
    expect(calls).toBe(1);
    expect(cache.invalidate(['t', 'other'])).toBe(1);
    expect(await authenticate(auth, req('t'), api)).toBeUndefined();
    expect(calls).toBe(2);
    // Another verb is another resource: validated on its own.
    expect(await authenticate(auth, req('t', 'POST'), api)).toBeUndefined();
    expect(calls).toBe(3);
    // A revocation this gateway passed on: refused from its invalid-token cache, the key manager not asked.
    cache.invalidate(['t'], true);
    expect((await authenticate(auth, req('t'), api))?.status).toBe(401);
    expect(calls).toBe(3);
  });

  test('every answer but 900901 is cached, a refusal too (a blocked subscription stays refused until its entry expires); a 900901 goes to the invalid-token cache', async () => {
    let calls = 0;
    let answer: { authorized: boolean; validationStatus: number } = { authorized: false, validationStatus: 900907 };
    const cache = new GatewayKeyCache(true, 900);
    const auth = {
      cache,
      validator: {
        validate: async () => {
          calls++;
          return answer;
        },
      },
    };
    const blocked = await authenticate(auth, req('t'), api);
    expect({ status: blocked?.status, challenge: blocked?.headers?.['WWW-Authenticate'] }).toEqual({
      status: 401,
      challenge: expect.stringContaining('OAuth2 realm="WSO2 API Manager"'),
    });
    expect(String(blocked?.body)).toContain('<ams:message>The requested API is temporarily blocked</ams:message>');
    answer = { authorized: true, validationStatus: 0 };
    expect((await authenticate(auth, req('t'), api))?.status).toBe(401);
    expect(calls).toBe(1);
    cache.invalidate(['t']);
    expect(await authenticate(auth, req('t'), api)).toBeUndefined();
    answer = { authorized: false, validationStatus: 900901 };
    expect((await authenticate(auth, req('u'), api))?.status).toBe(401);
    expect(cache.isInvalid('u')).toBe(true);
    expect(calls).toBe(3);
  });

  test("validateKey's SOAP answer, written by the key manager and read by the gateway: every field back, escaped text too, and a refusal without token times (so it is cached)", () => {
    const granted2 = {
      authorized: true,
      validationStatus: 0,
      applicationId: 'a',
      applicationName: 'R&D <apps>',
      consumerKey: 'ck',
      endUserName: 'admin',
      subscriber: 'admin',
      tier: 'Gold',
      apiName: 'P',
      issuedTime: 1_000,
      validityPeriod: 3_600_000,
    };
    expect(parseValidationResponse(envelope(validationResponse(granted2)))).toEqual(granted2);
    const refused = parseValidationResponse(envelope(validationResponse({ authorized: false, validationStatus: 900907 })));
    expect(refused).toMatchObject({ authorized: false, validationStatus: 900907, issuedTime: undefined, validityPeriod: undefined });
    const cache = new GatewayKeyCache(true, 900);
    cache.put('t', 'r', refused, 1_000);
    expect(cache.get('t', 'r', 2_000)).toBe(refused);
  });

  test("an entry is served until the first 30 s sweep past its expiry (Carbon's CacheImpl), or the token's end; a disabled cache keeps nothing", () => {
    // Started at 0: sweeps at 30, 60, 90 s. An entry put at 1 s with an expiry of 60 s is 59 s old
    // at the 60 s sweep, so it is served to the 90 s sweep, 29 s past its expiry.
    const cache = new GatewayKeyCache(true, 60, 0);
    cache.put('t', 'r', granted, 1_000);
    expect(cache.get('t', 'r', 61_000)).toBe(granted);
    expect(cache.get('t', 'r', 89_999)).toBe(granted);
    expect(cache.get('t', 'r', 90_000)).toBeUndefined();
    // Put just after a sweep: 60 s old at the 90 s sweep, gone there.
    cache.put('u', 'r', granted, 30_000);
    expect(cache.get('u', 'r', 89_999)).toBe(granted);
    expect(cache.get('u', 'r', 90_000)).toBeUndefined();
    // The invalid-token cache is swept the same way.
    cache.markInvalid('v', 1_000);
    expect([cache.isInvalid('v', 89_999), cache.isInvalid('v', 90_000)]).toEqual([true, false]);
    cache.put('short', 'r', { ...granted, issuedTime: 0, validityPeriod: 5_000 }, 1_000);
    expect(cache.get('short', 'r', 4_999)).toBeDefined();
    expect(cache.get('short', 'r', 5_000)).toBeUndefined();
    const off = new GatewayKeyCache(false, 900);
    off.put('t', 'r', granted);
    expect(off.get('t', 'r')).toBeUndefined();
  });
});

describe("the key manager's validateKey, as ApiMgtDAO.validateSubscriptionDetails decides", () => {
  const now = Date.now();
  const deps = (status: string | undefined, keyType = 'PRODUCTION', state: 'ACTIVE' | 'REVOKED' = 'ACTIVE') => ({
    tokens: {
      get: async (t: string) =>
        t === 'tok'
          ? { token: 'tok', consumerKey: 'ck', user: 'admin', scope: 'default', issuedAt: now, validitySeconds: 3600, state }
          : undefined,
    },
    clients: {
      byKey: async () => ({ CONSUMER_KEY: 'ck', APPLICATION_UUID: 'app', APP_NAME: 'App', USERNAME: 'admin', KEY_TYPE: keyType }) as never,
    },
    apis: {
      list: async () => [{ id: 'api', name: 'P', context: '/p', version: '1.0.0', lifeCycleStatus: 'PUBLISHED', provider: 'admin' }],
    },
    subscriptions: { list: async () => (status ? [{ UUID: 's', SUB_STATUS: status, TIER_ID: 'Gold' } as never] : []) },
  });
  const call = { context: '/p/1.0.0', version: '1.0.0', accessToken: 'tok' };

  test.each([
    ['UNBLOCKED', 'PRODUCTION', 'ACTIVE', { authorized: true, validationStatus: 0, tier: 'Gold', applicationId: 'app' }],
    [undefined, 'PRODUCTION', 'ACTIVE', { authorized: false, validationStatus: 900908 }],
    ['BLOCKED', 'SANDBOX', 'ACTIVE', { authorized: false, validationStatus: 900907 }],
    ['PROD_ONLY_BLOCKED', 'PRODUCTION', 'ACTIVE', { authorized: false, validationStatus: 900907 }],
    ['PROD_ONLY_BLOCKED', 'SANDBOX', 'ACTIVE', { authorized: true, validationStatus: 0 }],
    ['ON_HOLD', 'PRODUCTION', 'ACTIVE', { authorized: false, validationStatus: 900909 }],
    ['UNBLOCKED', 'PRODUCTION', 'REVOKED', { authorized: false, validationStatus: 900901 }],
  ] as const)('subscription %s, %s key, token %s', async (status, keyType, state, expected) => {
    expect(await validateKey(deps(status, keyType, state), call)).toMatchObject(expected);
  });

  test("an unknown token, or another API's context", async () => {
    expect(await validateKey(deps('UNBLOCKED'), { ...call, accessToken: 'other' })).toEqual({
      authorized: false,
      validationStatus: 900901,
    });
    expect(await validateKey(deps('UNBLOCKED'), { ...call, context: '/q/1.0.0' })).toEqual({ authorized: false, validationStatus: 900908 });
  });
});

describe("REST v0.14 from WSO2's swagger files (carbon-apimgt 6.4.50)", () => {
  const publisher = new V014Api(join(__dirname, '../../spec/apim-2.6.0/publisher-api.yaml'));
  const store = new V014Api(join(__dirname, '../../spec/apim-2.6.0/store-api.yaml'));

  test("dispatch: an active token with the route's scope, the required query and body, then the operation (501 when the stand-in has none)", async () => {
    const now = Date.now();
    const live: AccessToken = {
      token: 'ok',
      consumerKey: 'ck',
      user: 'admin',
      scope: 'apim:api_create apim:api_view',
      issuedAt: now,
      validitySeconds: 3600,
      state: 'ACTIVE',
    };
    const known: Record<string, AccessToken> = {
      ok: live,
      old: { ...live, issuedAt: now - 7_200_000 },
      revoked: { ...live, state: 'REVOKED' },
    };
    const tokens = { get: async (t: string) => known[t] };
    const seen: unknown[] = [];
    const operations = {
      'POST /apis': async (call: { body: unknown }) => {
        seen.push(call.body);
        return { status: 201 };
      },
    };
    const req = (method: string, url: string, token?: string, body?: unknown): Req => ({
      method,
      path: new URL(`http://x${url}`).pathname,
      query: new URL(`http://x${url}`).searchParams,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      rawBody: body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const full = {
      name: 'P',
      context: '/p',
      version: '1',
      tiers: ['Unlimited'],
      isDefaultVersion: false,
      transport: ['https'],
      endpointConfig: '{}',
      visibility: 'PUBLIC',
      type: 'HTTP',
      apiDefinition: '{}',
    };
    const at = async (r: Req) => (await dispatchV014(publisher, operations, tokens as never, r))?.status;
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis'))).toBe(401);
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis', 'old', full))).toBe(401);
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis', 'revoked', full))).toBe(401);
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis/change-lifecycle?apiId=a&action=Publish', 'ok'))).toBe(401); // lacks apim:api_publish
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis', 'ok', '{not json'))).toBe(400);
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis', 'ok', { ...full, visibility: undefined }))).toBe(400);
    expect(await at(req('GET', '/api/am/publisher/v0.14/apis/a', 'ok'))).toBe(501);
    expect(await at(req('PATCH', '/api/am/publisher/v0.14/apis/a', 'ok'))).toBe(405);
    expect(await at(req('GET', '/api/am/store/v0.14/apis', 'ok'))).toBeUndefined();
    expect(await at(req('POST', '/api/am/publisher/v0.14/apis', 'ok', full))).toBe(201);
    expect(seen).toEqual([full]);
  });

  test("routes with their x-scope and the body's required properties, literal paths before templated ones", () => {
    const create = publisher.match('POST', '/api/am/publisher/v0.14/apis');
    expect(create).toMatchObject({ route: { scope: 'apim:api_create', body: { required: true } } });
    expect((create as Exclude<typeof create, string | undefined>).route.body!.fields.sort()).toEqual([
      'apiDefinition',
      'context',
      'endpointConfig',
      'isDefaultVersion',
      'name',
      'tiers',
      'transport',
      'type',
      'version',
      'visibility',
    ]);
    expect(publisher.match('POST', '/api/am/publisher/v0.14/apis/change-lifecycle')).toMatchObject({
      route: { template: '/apis/change-lifecycle', scope: 'apim:api_publish', query: expect.arrayContaining(['action', 'apiId']) },
    });
    expect(publisher.match('GET', '/api/am/publisher/v0.14/apis/abc')).toMatchObject({
      route: { scope: 'apim:api_view' },
      params: { apiId: 'abc' },
    });
    expect(publisher.match('PATCH', '/api/am/publisher/v0.14/apis/abc')).toBe('other-method');
    expect(publisher.match('GET', '/api/am/publisher/v4/apis')).toBeUndefined();
    expect(store.match('POST', '/api/am/store/v0.14/applications/generate-keys')).toMatchObject({
      route: {
        scope: 'apim:subscribe',
        query: ['applicationId'],
        body: { fields: expect.arrayContaining(['keyType', 'validityTime', 'accessAllowDomains']) },
      },
    });
    expect(store.match('POST', '/api/am/store/v0.14/subscriptions')).toMatchObject({
      route: { body: { fields: expect.arrayContaining(['applicationId', 'apiIdentifier', 'tier']) } },
    });
  });
});

describe("cluster-membership reads a node's view from Carbon's log lines", () => {
  const log = [
    '[t] INFO  {HazelcastClusteringAgent} - Cluster domain: wso2.am.domain',
    '[t] INFO  {HazelcastClusteringAgent} - Local member: [u0] - Host:10.0.0.21, Remote Host:null, Port: 4000, HTTP:9763, HTTPS:9443, Domain: wso2.am.domain, Sub-domain:worker, Active:true',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u1]: /10.0.0.11:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u2]: /10.0.0.22:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member left [u2]: /10.0.0.22:4000',
    // worker-2 again, a new process (a new uuid): present.
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u3]: /10.0.0.22:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u4]: /10.0.0.99:4000',
  ].join('\n');
  const names: Record<string, string> = {
    '10.0.0.11': 'manager-1',
    '10.0.0.21': 'worker-1',
    '10.0.0.22': 'worker-2',
    '10.0.0.99': 'stranger',
  };

  test('joins and leaves by member uuid; its domain and sub-domain', () => {
    expect(loggedView(log)).toEqual({ domain: 'wso2.am.domain', subDomain: 'worker', members: ['10.0.0.11', '10.0.0.22', '10.0.0.99'] });
  });

  test("what differs from the domain's view, in words", () => {
    const domains = [
      {
        domain: 'wso2.am.domain',
        members: [
          { node: 'manager-1', subDomain: 'mgt' as const },
          { node: 'worker-1', subDomain: 'worker' as const },
          { node: 'worker-2', subDomain: 'worker' as const },
        ],
      },
    ];
    const address = (node: string) => Object.entries(names).find(([, n]) => n === node)![0];
    const want = expectedView(domains, 'worker-1', address);
    expect(want).toEqual({ domain: 'wso2.am.domain', subDomain: 'worker', members: ['10.0.0.11', '10.0.0.22'] });
    expect(viewProblems('worker-1', loggedView(log), want, (ip) => names[ip])).toEqual(['worker-1 has joined stranger, of another domain']);
    expect(viewProblems('worker-1', { domain: 'other', subDomain: 'mgt', members: [] }, want, (ip) => names[ip])).toEqual([
      'worker-1 is in domain other, not wso2.am.domain',
      'worker-1 is in sub-domain mgt, not worker',
      'worker-1 has not joined manager-1, worker-2',
    ]);
  });
});

describe("throttling on a classic gateway, as carbon-apimgt 6.4.50's ThrottleHandler does it", () => {
  test("the generated workers publish to every manager's traffic manager, a group each, and hear decisions from the managers' brokers", () => {
    for (const pattern of [1, 2, 3] as const) {
      const lab = buildLab(pattern, { product: simApim260 });
      const managers = lab.nodes.filter((n) => n.role === 'manager').map((n) => n.name);
      const config = readClassicConfig(homeOf(pattern, 'worker-1'));
      expect(config.throttling.enabled).toBe(true);
      expect(config.throttling.receiverGroups).toEqual(managers.map((m) => [{ host: m, port: 9611 }]));
      expect(config.throttling.decisions).toBe(true);
      expect(config.throttling.brokers.map((b) => `${b.host}:${b.port}`).sort()).toEqual(managers.map((m) => `${m}:5672`).sort());
    }
  });

  test('ReceiverUrlGroup: each braced group gets every event; an AMQP URL names its brokers after brokerlist=', () => {
    expect(receiverGroups('{tcp://a:9611},{tcp://b:9611}')).toEqual([[{ host: 'a', port: 9611 }], [{ host: 'b', port: 9611 }]]);
    expect(receiverGroups('tcp://a:9611|tcp://b:9612')).toEqual([
      [
        { host: 'a', port: 9611 },
        { host: 'b', port: 9612 },
      ],
    ]);
    expect(receiverGroups('tcp://127.0.0.1:9611')).toEqual([[{ host: '127.0.0.1', port: 9611 }]]);
    expect(receiverGroups('')).toEqual([]);
    expect(
      brokerList(
        "amqp://admin:admin@clientid/carbon?failover='roundrobin'%26cyclecount='2'%26brokerlist='tcp://m2:5672?retries='5'%26connectdelay='50';tcp://m1:5672?retries='5'%26connectdelay='50''",
      ),
    ).toEqual([
      { host: 'm2', port: 5672 },
      { host: 'm1', port: 5672 },
    ]);
    expect(brokerList('amqp://admin:admin@clientid/carbon')).toEqual([]);
  });

  const info = {
    authorized: true,
    validationStatus: 0,
    applicationId: '7',
    endUserName: 'admin',
    tier: 'Gold',
    applicationTier: '10PerMin',
    stopOnQuotaReach: true,
  };
  const api = { context: '/pizza/1.0.0', version: '1.0.0' };
  const decision = (key: string, expiresAt: number) => ({
    type: 'THROTTLE_DECISION' as const,
    eventId: '',
    apiId: '',
    throttleKey: key,
    isThrottled: true,
    expiresAt,
    labels: [],
    origin: 'manager-1',
  });
  const throttleWith = () => {
    const published: unknown[][] = [[], []];
    const config = {
      enabled: true,
      receiverGroups: [[{ host: 'm1', port: 9611 }], [{ host: 'm2', port: 9611 }]],
      decisions: false,
      brokers: [],
    };
    let i = 0;
    const throttle = new ClassicThrottle('worker-1', config, () => {
      const sink = published[i++];
      return { publish: (e) => void sink.push(e) };
    });
    return { throttle, published };
  };

  test("a request let through is published to every group, with 2.6.0's keys (the subscription's without its tier)", () => {
    const { throttle, published } = throttleWith();
    expect(throttle.check(info, api)).toBeUndefined();
    const event = { subscriptionKey: '7:/pizza/1.0.0:1.0.0', subscriptionTier: 'Gold', appKey: '7:admin', appTier: '10PerMin' };
    expect(published).toEqual([[expect.objectContaining(event)], [expect.objectContaining(event)]]);
  });

  test('a held decision refuses with 429 and the XML fault: the subscription first (900804), then the application (900803); an expired one lets it through', () => {
    const now = Date.UTC(2026, 11, 8, 10, 15, 0);
    const { throttle, published } = throttleWith();
    throttle.hear(decision(classicApplicationKey('7', 'admin'), now + 60_000));
    const app = throttle.check(info, api, now);
    expect(app).toEqual({
      status: 429,
      contentType: 'application/xml',
      body: '<amt:fault xmlns:amt="http://wso2.org/apimanager/throttling"><amt:code>900803</amt:code><amt:message>Message throttled out</amt:message><amt:description>You have exceeded your quota</amt:description><amt:nextAccessTime>2026-Dec-08 10:16:00+0000 UTC</amt:nextAccessTime></amt:fault>',
    });
    throttle.hear(decision(classicSubscriptionKey('7', api.context, api.version), now + 60_000));
    expect(String(throttle.check(info, api, now)?.body)).toContain('<amt:code>900804</amt:code>');
    // Refused requests are not published; past the window's end the decisions no longer hold.
    expect(published).toEqual([[], []]);
    expect(throttle.check(info, api, now + 60_001)).toBeUndefined();
    expect(published[0]).toHaveLength(1);
  });

  test('a subscription whose policy does not stop at its quota: let through, unpublished, its application not checked', () => {
    const now = Date.now();
    const { throttle, published } = throttleWith();
    throttle.hear(decision(classicSubscriptionKey('7', api.context, api.version), now + 60_000));
    throttle.hear(decision(classicApplicationKey('7', 'admin'), now + 60_000));
    expect(throttle.check({ ...info, stopOnQuotaReach: false }, api, now)).toBeUndefined();
    expect(published).toEqual([[], []]);
  });

  test("validateKey says the application's tier and whether the subscription's policy stops at its quota", async () => {
    const now = Date.now();
    const deps = {
      tokens: {
        get: async () => ({
          token: 't',
          consumerKey: 'ck',
          user: 'admin',
          scope: '',
          issuedAt: now,
          validitySeconds: 3600,
          state: 'ACTIVE' as const,
        }),
      },
      clients: { byKey: async () => ({ APPLICATION_UUID: 'app-1', APP_NAME: 'a', USERNAME: 'admin', KEY_TYPE: 'PRODUCTION' }) },
      apis: { list: async () => [{ id: 'api-1', name: 'Pizza', context: '/pizza', version: '1.0.0' }] as never },
      subscriptions: { list: async () => [{ SUB_STATUS: 'UNBLOCKED', TIER_ID: 'carbonlabsq' }] },
      applications: { get: async () => ({ APPLICATION_TIER: 'carbonlabsa' }) },
      policies: { byName: async (_level: string, name: string) => (name === 'carbonlabsq' ? { STOP_ON_QUOTA_REACH: 0 } : undefined) },
    };
    const call = { context: '/pizza/1.0.0', version: '1.0.0', accessToken: 't' };
    expect(await validateKey(deps as never, call)).toMatchObject({
      authorized: true,
      tier: 'carbonlabsq',
      applicationTier: 'carbonlabsa',
      stopOnQuotaReach: false,
    });
    const gold = await validateKey(
      { ...deps, subscriptions: { list: async () => [{ SUB_STATUS: 'UNBLOCKED', TIER_ID: 'Gold' }] } } as never,
      call,
    );
    // No row of its own (a default tier the traffic manager ships a plan for): ThrottleHandler's default, true.
    expect(gold).toMatchObject({ tier: 'Gold', stopOnQuotaReach: true });
    // Both travel to the gateway in validateKey's answer.
    expect(parseValidationResponse(envelope(validationResponse(gold)))).toMatchObject({
      applicationTier: 'carbonlabsa',
      stopOnQuotaReach: true,
    });
  });
});

describe('admin v0.14 throttling policies (admin-api.yaml at carbon-apimgt 6.4.50)', () => {
  const admin = new V014Api(join(__dirname, '../../spec/apim-2.6.0/admin-api.yaml'));
  const now = Date.now();
  const token = (scope: string): AccessToken => ({
    token: scope,
    consumerKey: 'ck',
    user: 'admin',
    scope,
    issuedAt: now,
    validitySeconds: 3600,
    state: 'ACTIVE',
  });
  const tokens = { get: async (t: string) => token(t) };
  const req = (path: string, scope: string, body: unknown): Req => ({
    method: 'POST',
    path,
    query: new URLSearchParams(),
    headers: { authorization: `Bearer ${scope}` },
    rawBody: JSON.stringify(body),
  });

  test('a subscription policy of a request count: 201 with its id, a second of that name 409; without apim:tier_manage 401', async () => {
    const rows: { level: string; name: string; requestCount: number; timeUnit: string; stopOnQuotaReach?: boolean }[] = [];
    const policies = {
      add: async (level: string, p: { name: string; requestCount: number; timeUnit: string; stopOnQuotaReach?: boolean }) => {
        if (rows.some((r) => r.name === p.name)) return false;
        rows.push({ level, ...p });
        return true;
      },
    } as never;
    const ops = adminV014({ policies });
    const body = {
      policyName: 'q10',
      displayName: 'q10',
      stopOnQuotaReach: true,
      billingPlan: 'FREE',
      defaultLimit: { type: 'RequestCountLimit', timeUnit: 'hour', unitTime: 1, requestCount: 10 },
    };
    const path = '/api/am/admin/v0.14/throttling/policies/subscription';
    const added = await dispatchV014(admin, ops, tokens as never, req(path, 'apim:tier_manage', body));
    expect(added?.status).toBe(201);
    expect(added?.body).toMatchObject({ policyName: 'q10', isDeployed: true, policyId: expect.any(String) });
    expect(rows).toEqual([
      expect.objectContaining({ level: 'subscription', name: 'q10', requestCount: 10, timeUnit: 'hour', stopOnQuotaReach: true }),
    ]);
    expect((await dispatchV014(admin, ops, tokens as never, req(path, 'apim:tier_manage', body)))?.status).toBe(409);
    expect((await dispatchV014(admin, ops, tokens as never, req(path, 'apim:api_view', { ...body, policyName: 'q11' })))?.status).toBe(401);
    const app = await dispatchV014(
      admin,
      ops,
      tokens as never,
      req('/api/am/admin/v0.14/throttling/policies/application', 'apim:tier_manage', {
        policyName: 'a6',
        defaultLimit: { type: 'RequestCountLimit', timeUnit: 'hour', unitTime: 1, requestCount: 6 },
      }),
    );
    expect(app?.status).toBe(201);
    expect(rows[1]).toMatchObject({ level: 'application', name: 'a6', stopOnQuotaReach: false });
  });
});
