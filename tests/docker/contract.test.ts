import { startTestLab, tempDir } from '../support/labs';
import { spawnSync } from 'child_process';
import { checkLab } from '../../harness/conformance';
import { checkById } from '../../harness/checks';
import { exportLab, FAILURE_EXPORT } from '../../generator/runtime/export';
import { labContainers } from '../../generator/runtime/lab';
import { ADMIN, ADMIN_SCOPES, ApimClient, DEVPORTAL, invoke, PUBLISHER } from '../../harness/apim-client';
import { bearer, describeExchange, Exchange } from '../../harness/http';
import { StartedLab } from '../../harness/lab-target';
import { ContractValidator } from '../../harness/openapi';
import { retryUntil } from '../../generator/runtime/retry';
import { sim } from '../../generator/products/sim';
import { describeDocker } from '../support/docker';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { WebSocket } from 'ws';
import { TRUST } from '../../generator/model/lab';

/** A WebSocket handshake as a client makes it: the status (101 when opened) and the node that answered. */
function handshake(url: string, token: string, ca?: Buffer): Promise<{ status: number; upstream?: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, ca, handshakeTimeout: 5000 });
    socket.on('upgrade', (res) => {
      resolve({ status: res.statusCode ?? 0, upstream: res.headers['x-carbon-labs-upstream'] as string | undefined });
      socket.terminate();
    });
    socket.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, upstream: res.headers['x-carbon-labs-upstream'] as string | undefined });
      res.resume();
      socket.terminate();
    });
    socket.on('error', reject);
  });
}

const contract = new ContractValidator();

/** Asserts the status and that the body conforms to the official OpenAPI file. */
function conforms(e: Exchange, status: number): Exchange {
  expect({ status: e.status, seen: describeExchange(e) }).toEqual({ status, seen: expect.any(String) });
  expect(contract.validate(e)).toEqual([]);
  return e;
}

async function until200(what: string, call: () => Promise<Exchange>): Promise<Exchange> {
  return retryUntil(
    async (observe) => {
      const e = await call();
      observe(describeExchange(e));
      return e.status === 200 ? e : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200, what },
  );
}

describeDocker('stand-in REST contract, through the manager balancer of pattern 3', () => {
  let lab: StartedLab;
  let client: ApimClient;
  const suffix = Date.now().toString(36);
  const api = { name: `Contract${suffix}`, context: `/contract-${suffix}`, version: '1.0.0', backendUrl: 'http://backend:8080' };
  let apiId: string;
  let applicationId: string;
  let subscriptionId: string;
  let accessToken: string;

  beforeAll(async () => {
    lab = await startTestLab(3, { product: sim });
    client = lab.managerClient();
  });
  afterAll(async () => {
    await lab?.down();
  });

  test("DCR needs a user's Basic credentials and answers 200 with a client", async () => {
    const anonymous = await lab.http(lab.adminUrl()).request('POST', '/client-registration/v0.17/register', { data: { clientName: 'x' } });
    expect(anonymous.status).toBe(401);
    const reg = await client.tryRegister('contract-client');
    expect(reg.status).toBe(200);
    expect(reg.body).toEqual(
      expect.objectContaining({ clientId: expect.any(String), clientSecret: expect.any(String), clientName: 'contract-client' }),
    );
  });

  test('/oauth2/token: password grant with scopes, wrong client 401, wrong password 400', async () => {
    const { clientId, clientSecret } = (await client.tryRegister('contract-client')).body as { clientId: string; clientSecret: string };
    expect((await client.tryToken(clientId, 'wrong', { grant_type: 'password', username: 'admin', password: 'admin' })).status).toBe(401);
    expect((await client.tryToken(clientId, clientSecret, { grant_type: 'password', username: 'admin', password: 'nope' })).status).toBe(
      400,
    );
    const ok = await client.tryToken(clientId, clientSecret, {
      grant_type: 'password',
      username: 'admin',
      password: 'admin',
      scope: 'apim:api_view',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(
      expect.objectContaining({ token_type: 'Bearer', scope: 'apim:api_view', expires_in: 3600, access_token: expect.any(String) }),
    );
  });

  test('/oauth2/revoke: a wrong secret or another client 401; its own client 200, twice; the revoked token no longer calls the REST APIs (401)', async () => {
    const own = lab.managerClient();
    const reg = (await own.tryRegister(`revoke-${suffix}`)).body as { clientId: string; clientSecret: string };
    const token = (
      (
        await own.tryToken(reg.clientId, reg.clientSecret, {
          grant_type: 'password',
          username: 'admin',
          password: 'admin',
          scope: 'apim:api_view',
        })
      ).body as { access_token: string }
    ).access_token;
    own.accessToken = token;
    expect((await own.call('GET', `${PUBLISHER}/apis`)).status).toBe(200);
    expect((await own.tryRevoke(reg.clientId, 'wrong-secret', token)).status).toBe(401);
    expect((await own.call('GET', `${PUBLISHER}/apis`)).status).toBe(200);
    const other = (await own.tryRegister(`revoke-other-${suffix}`)).body as { clientId: string; clientSecret: string };
    expect((await own.tryRevoke(other.clientId, other.clientSecret, token)).status).toBe(401);
    expect((await own.call('GET', `${PUBLISHER}/apis`)).status).toBe(200);
    expect((await own.tryRevoke(reg.clientId, reg.clientSecret, token)).status).toBe(200);
    expect((await own.tryRevoke(reg.clientId, reg.clientSecret, token)).status).toBe(200);
    conforms(await own.call('GET', `${PUBLISHER}/apis`), 401);
  });

  test('publisher v4: 401 without a token, 403 without the scope, 400 on a malformed body', async () => {
    const http = lab.http(lab.adminUrl());
    conforms(await http.request('GET', `${PUBLISHER}/apis`), 401);
    const viewer = lab.managerClient();
    await viewer.login(['apim:api_view']);
    conforms(await viewer.tryCreateApi(api), 403);
    await client.login();
    conforms(await client.call('POST', `${PUBLISHER}/apis`, { name: 'no-context' }), 400);
    const malformed = await http.request('POST', `${PUBLISHER}/apis`, {
      headers: { authorization: bearer(client.accessToken!), 'content-type': 'application/json' },
      data: '{"name": ',
    });
    conforms(malformed, 400);
  });

  test('publisher v4: create 201, duplicate 409, get and list 200, revision 201, deploy 201, publish 200', async () => {
    await client.login();
    const created = conforms(await client.tryCreateApi(api), 201);
    apiId = (created.body as { id: string }).id;
    expect(created.body).toEqual(
      expect.objectContaining({ name: api.name, context: api.context, version: '1.0.0', lifeCycleStatus: 'CREATED' }),
    );
    conforms(await client.tryCreateApi(api), 409);
    conforms(await client.call('GET', `${PUBLISHER}/apis/${apiId}`), 200);
    conforms(await client.call('GET', `${PUBLISHER}/apis/not-an-api`), 404);
    const list = conforms(await client.call('GET', `${PUBLISHER}/apis`), 200);
    expect((list.body as { list: { id: string }[] }).list.map((a) => a.id)).toContain(apiId);
    const revision = conforms(await client.call('POST', `${PUBLISHER}/apis/${apiId}/revisions`, { description: 'r1' }), 201);
    const revisionId = (revision.body as { id: string }).id;
    conforms(
      await client.call('POST', `${PUBLISHER}/apis/${apiId}/deploy-revision?revisionId=${revisionId}`, [
        { name: 'Nowhere', vhost: lab.vhost },
      ]),
      400,
    );
    conforms(
      await client.call('POST', `${PUBLISHER}/apis/${apiId}/deploy-revision?revisionId=${revisionId}`, [
        { name: 'Default', vhost: lab.vhost, displayOnDevportal: true },
      ]),
      201,
    );
    const revisions = conforms(await client.call('GET', `${PUBLISHER}/apis/${apiId}/revisions`), 200);
    expect((revisions.body as { list: { deploymentInfo: unknown[] }[] }).list[0].deploymentInfo).toHaveLength(1);
    const published = conforms(await client.call('POST', `${PUBLISHER}/apis/change-lifecycle?apiId=${apiId}&action=Publish`), 200);
    expect(published.body).toEqual(
      expect.objectContaining({ workflowStatus: 'APPROVED', lifecycleState: expect.objectContaining({ state: 'Published' }) }),
    );
    conforms(await client.call('POST', `${PUBLISHER}/apis/change-lifecycle?apiId=${apiId}&action=Retire`), 400);
  });

  test('devportal v3 and admin v4: application, subscription, keys, token; environments', async () => {
    await client.login();
    const app = conforms(
      await client.call('POST', `${DEVPORTAL}/applications`, { name: `app-${suffix}`, throttlingPolicy: 'Unlimited', tokenType: 'JWT' }),
      201,
    );
    applicationId = (app.body as { applicationId: string }).applicationId;
    conforms(await client.call('POST', `${DEVPORTAL}/applications`, { name: `app-${suffix}`, throttlingPolicy: 'Unlimited' }), 409);
    conforms(await client.call('GET', `${DEVPORTAL}/applications`), 200);
    const subscription = conforms(
      await client.call('POST', `${DEVPORTAL}/subscriptions`, { apiId, applicationId, throttlingPolicy: 'Unlimited' }),
      201,
    );
    subscriptionId = (subscription.body as { subscriptionId: string }).subscriptionId;
    conforms(await client.call('GET', `${DEVPORTAL}/subscriptions?applicationId=${applicationId}`), 200);
    const keys = conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'PRODUCTION',
        grantTypesToBeSupported: ['client_credentials'],
      }),
      200,
    );
    const { keyMappingId, consumerSecret } = keys.body as { keyMappingId: string; consumerSecret: string };
    const token = conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/oauth-keys/${keyMappingId}/generate-token`, {
        consumerSecret,
        validityPeriod: 3600,
      }),
      200,
    );
    const envs = conforms(await client.call('GET', `${ADMIN}/environments`), 200);
    expect((envs.body as { list: { name: string; vhosts: { host: string }[] }[] }).list).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'Default', vhosts: [expect.objectContaining({ host: lab.vhost })] })]),
    );

    accessToken = (token.body as { accessToken: string }).accessToken;
    for (const base of [lab.apiUrl(), ...lab.workers.map((w) => lab.workerApiUrl(w.name))]) {
      const served = await until200(`${base} to serve ${api.context}`, () => invoke(lab.http(base), api.context, api.version, accessToken));
      expect(served.body).toEqual(expect.objectContaining({ path: '/menu', method: 'GET' }));
      expect((await invoke(lab.http(base), api.context, api.version, 'not-a-token')).status).toBe(401);
      expect((await invoke(lab.http(base), '/no-such-api', '1.0.0', accessToken)).status).toBe(404);
    }
    const other = lab.managerClient();
    await other.login();
    const unsubscribed = await other.subscribe(`unsubscribed-${suffix}`, []);
    expect((await invoke(lab.http(lab.apiUrl()), api.context, api.version, unsubscribed.token)).status).toBe(403);
  });

  test('JSON binding as Jackson does it: scalars coerced (200), unknown properties and wrong-case enums refused (400)', async () => {
    await client.login();
    const app = conforms(
      await client.call('POST', `${DEVPORTAL}/applications`, { name: `bind-${suffix}`, throttlingPolicy: 'Unlimited' }),
      201,
    );
    const applicationId = (app.body as { applicationId: string }).applicationId;
    // A number where the DTO has a String (validityTime): Jackson binds "3600".
    const keys = conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'SANDBOX',
        grantTypesToBeSupported: ['client_credentials'],
        validityTime: 3600,
      }),
      200,
    );
    expect((keys.body as { keyType: string }).keyType).toBe('SANDBOX');
    // Whole-number text where the DTO has an Integer (generate-token's validityPeriod).
    const { keyMappingId, consumerSecret } = keys.body as { keyMappingId: string; consumerSecret: string };
    conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/oauth-keys/${keyMappingId}/generate-token`, {
        consumerSecret,
        validityPeriod: '3600',
      }),
      200,
    );
    // The product's ObjectMapper fails on unknown properties; its enums match case-sensitively.
    const unknown = conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'PRODUCTION',
        grantTypesToBeSupported: [],
        foo: 1,
      }),
      400,
    );
    expect(JSON.stringify(unknown.body)).toContain("Unrecognized property 'foo'");
    conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'production',
        grantTypesToBeSupported: [],
      }),
      400,
    );
    // An object where a scalar belongs is refused too.
    conforms(
      await client.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'PRODUCTION',
        grantTypesToBeSupported: [],
        validityTime: { s: 1 },
      }),
      400,
    );
  });

  test('gateway workers: no admin webapps (404 with the product body), health and version answer', async () => {
    for (const w of lab.workers) {
      const http = lab.http(lab.workerServletUrl(w.name));
      const publisher = await http.request('GET', `${PUBLISHER}/apis`);
      expect(publisher.status).toBe(404);
      expect(publisher.body).toEqual({
        code: '404',
        type: 'Status report',
        message: 'Not Found',
        description: 'The requested resource is not available.',
      });
      expect((await http.request('GET', '/api/am/gateway/v2/server-startup-healthcheck')).body).toBe('OK');
      expect(String((await http.request('GET', '/services/Version')).body)).toContain('WSO2 API Manager-4.3.0');
    }
  });

  test('WebSocket APIs: the advertised ws/wss endpoints (worker balancer 9099/8099) open on a worker; a balancer that drops Upgrade breaks them', async () => {
    await client.login();
    const tag = Date.now().toString(36);
    const { apiId: wsId } = await client.createAndDeploy(
      { name: `Ws${tag}`, context: `/ws-${tag}`, version: '1.0.0', backendUrl: 'ws://backend:8080', type: 'WS' },
      lab.vhost,
    );
    const { token } = await client.subscribe(`ws-${tag}`, [wsId, apiId]);
    const ca = readFileSync(join(lab.dir, TRUST.caCert));
    const opened = (secure: boolean) =>
      retryUntil(
        async (observe) => {
          const h = await handshake(`${lab.apiWebSocketUrl(secure)}/ws-${tag}/1.0.0`, token, ca);
          observe(JSON.stringify(h));
          return h.status === 101 ? h : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `a ${secure ? 'wss' : 'ws'} handshake through ${lab.workerBalancer}` },
      );
    for (const secure of [false, true]) expect((await opened(secure)).upstream).toMatch(/^worker-\d$/);
    // An HTTP API is not served on the WebSocket port, nor a WebSocket API on the passthrough port.
    expect((await handshake(`${lab.apiWebSocketUrl(false)}${api.context}/${api.version}`, token)).status).toBe(404);
    expect((await invoke(lab.http(lab.apiUrl()), `/ws-${tag}`, '1.0.0', token)).status).toBe(404);

    // The balancer of the old labs: `Connection ""` and no Upgrade. Edited in place (a bind mount) and reloaded.
    const conf = join(lab.dir, 'nginx', `${lab.workerBalancer}.conf`);
    const original = readFileSync(conf, 'utf8');
    try {
      writeFileSync(
        conf,
        original.replace(
          /proxy_set_header Upgrade \$http_upgrade;\n\s*proxy_set_header Connection \$carbon_labs_connection;/g,
          'proxy_set_header Connection "";',
        ),
      );
      expect(await lab.exec(lab.workerBalancer, ['nginx', '-s', 'reload'])).toMatchObject({ code: 0 });
      await new Promise((r) => setTimeout(r, 500));
      for (const secure of [false, true])
        expect((await handshake(`${lab.apiWebSocketUrl(secure)}/ws-${tag}/1.0.0`, token, ca)).status).toBe(400);
    } finally {
      writeFileSync(conf, original);
      await lab.exec(lab.workerBalancer, ['nginx', '-s', 'reload']);
    }
  });

  test('the everyday operations of a QA suite: API update and new version, devportal API and application, key managers, blocked subscriptions, throttling policies', async () => {
    await client.login([...ADMIN_SCOPES, 'apim:tier_view', 'apim:tier_manage']);
    // An update keeps the API's identity (name, version, context, provider) and its state.
    const current = conforms(await client.call('GET', `${PUBLISHER}/apis/${apiId}`), 200).body as Record<string, unknown>;
    const updated = conforms(
      await client.call('PUT', `${PUBLISHER}/apis/${apiId}`, { ...current, description: 'updated', version: '9.9.9' }),
      200,
    );
    expect(updated.body).toEqual(
      expect.objectContaining({ id: apiId, description: 'updated', version: '1.0.0', lifeCycleStatus: 'PUBLISHED' }),
    );
    conforms(await client.call('PUT', `${PUBLISHER}/apis/not-an-api`, { ...current }), 404);
    // A new version is a CREATED copy; the same version again is a conflict.
    const copy = conforms(await client.call('POST', `${PUBLISHER}/apis/copy-api?apiId=${apiId}&newVersion=2.0.0&defaultVersion=true`), 201);
    const copyId = (copy.body as { id: string }).id;
    expect(copy.body).toEqual(
      expect.objectContaining({
        name: api.name,
        context: api.context,
        version: '2.0.0',
        lifeCycleStatus: 'CREATED',
        isDefaultVersion: true,
      }),
    );
    expect(copyId).not.toBe(apiId);
    // 409 as the product answers it, a code the OpenAPI file does not list (so not validated against it).
    expect((await client.call('POST', `${PUBLISHER}/apis/copy-api?apiId=${apiId}&newVersion=2.0.0`)).status).toBe(409);
    conforms(await client.call('POST', `${PUBLISHER}/apis/copy-api?apiId=not-an-api&newVersion=3.0.0`), 404);
    // The devportal shows a published API, not one that is only created.
    const shown = conforms(await client.call('GET', `${DEVPORTAL}/apis/${apiId}`), 200);
    expect(shown.body).toEqual(expect.objectContaining({ id: apiId, name: api.name, version: '1.0.0', lifeCycleStatus: 'PUBLISHED' }));
    // 403 as the product answers it for an API not shown (a code the OpenAPI file does not list here).
    expect((await client.call('GET', `${DEVPORTAL}/apis/${copyId}`)).status).toBe(403);
    conforms(await client.call('GET', `${DEVPORTAL}/apis/not-an-api`), 404);
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${copyId}`)).status).toBe(200);
    // The devportal's key managers: the Resident Key Manager with its token endpoint.
    const kms = conforms(await client.call('GET', `${DEVPORTAL}/key-managers`), 200);
    expect((kms.body as { list: unknown[] }).list).toEqual([
      expect.objectContaining({
        name: 'Resident Key Manager',
        type: 'default',
        enabled: true,
        tokenEndpoint: expect.stringMatching(/\/oauth2\/token$/),
      }),
    ]);
    // An application read, renamed (not onto another's name) and deleted with its subscriptions.
    conforms(await client.call('GET', `${DEVPORTAL}/applications/${applicationId}`), 200);
    const spare = conforms(
      await client.call('POST', `${DEVPORTAL}/applications`, { name: `spare-${suffix}`, throttlingPolicy: 'Unlimited' }),
      201,
    );
    const spareId = (spare.body as { applicationId: string }).applicationId;
    expect(
      (await client.call('PUT', `${DEVPORTAL}/applications/${spareId}`, { name: `app-${suffix}`, throttlingPolicy: 'Unlimited' })).status,
    ).toBe(409);
    const renamed = conforms(
      await client.call('PUT', `${DEVPORTAL}/applications/${spareId}`, {
        name: `renamed-${suffix}`,
        throttlingPolicy: '10PerMin',
        description: 'd',
      }),
      200,
    );
    expect(renamed.body).toEqual(
      expect.objectContaining({ applicationId: spareId, name: `renamed-${suffix}`, throttlingPolicy: '10PerMin' }),
    );
    conforms(
      await client.call('POST', `${DEVPORTAL}/subscriptions`, { apiId, applicationId: spareId, throttlingPolicy: 'Unlimited' }),
      201,
    );
    expect((await client.call('DELETE', `${DEVPORTAL}/applications/${spareId}`)).status).toBe(200);
    conforms(await client.call('GET', `${DEVPORTAL}/applications/${spareId}`), 404);
    const subscribers = (
      conforms(await client.call('GET', `${DEVPORTAL}/subscriptions?apiId=${apiId}`), 200).body as { list: { applicationId: string }[] }
    ).list.map((x) => x.applicationId);
    expect({ spare: subscribers.includes(spareId), kept: subscribers.includes(applicationId) }).toEqual({ spare: false, kept: true });
    // A subscription blocked and unblocked.
    // 200 with the subscription as the product answers (the OpenAPI file describes no body, so it is not validated against it).
    expect(
      (await client.call('POST', `${PUBLISHER}/subscriptions/block-subscription?subscriptionId=${subscriptionId}&blockState=BLOCKED`)).body,
    ).toEqual(expect.objectContaining({ subscriptionId, status: 'BLOCKED' }));
    const status = async () =>
      ((await client.call('GET', `${DEVPORTAL}/subscriptions?applicationId=${applicationId}`)).body as { list: { status: string }[] })
        .list[0].status;
    expect(await status()).toBe('BLOCKED');
    expect((await client.call('POST', `${PUBLISHER}/subscriptions/unblock-subscription?subscriptionId=${subscriptionId}`)).status).toBe(
      200,
    );
    expect(await status()).toBe('UNBLOCKED');
    conforms(await client.call('POST', `${PUBLISHER}/subscriptions/unblock-subscription?subscriptionId=not-a-subscription`), 404);
    // Throttling policies: the defaults, a new one (201, then 409), deleted (200, then 404); one in use stays (500, as the product).
    for (const level of ['application', 'subscription'] as const) {
      const listed = conforms(await client.call('GET', `${ADMIN}/throttling/policies/${level}`), 200);
      expect((listed.body as { list: { policyName: string }[] }).list.map((p) => p.policyName)).toEqual(
        expect.arrayContaining(level === 'application' ? ['10PerMin', 'Unlimited'] : ['Gold', 'Bronze', 'Unlimited']),
      );
      const policy = {
        policyName: `p${level}${suffix}`,
        defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'min', unitTime: 1, requestCount: 5 } },
      };
      const made = conforms(await client.call('POST', `${ADMIN}/throttling/policies/${level}`, policy), 201);
      const policyId = (made.body as { policyId: string }).policyId;
      expect((await client.call('POST', `${ADMIN}/throttling/policies/${level}`, policy)).status).toBe(409);
      conforms(await client.call('GET', `${ADMIN}/throttling/policies/${level}/${policyId}`), 200);
      expect((await client.call('DELETE', `${ADMIN}/throttling/policies/${level}/${policyId}`)).status).toBe(200);
      conforms(await client.call('GET', `${ADMIN}/throttling/policies/${level}/${policyId}`), 404);
    }
    const unlimited = (
      (await client.call('GET', `${ADMIN}/throttling/policies/application`)).body as { list: { policyId: string; policyName: string }[] }
    ).list.find((p) => p.policyName === 'Unlimited')!;
    expect((await client.call('DELETE', `${ADMIN}/throttling/policies/application/${unlimited.policyId}`)).status).toBe(500);
  });

  test('the gateway REST API on each worker: 401 without credentials; the deployed API by context and version and by id (with the subscription it knows); 404 for an unknown one; 400 with one of context and version', async () => {
    const gateway = '/api/am/gateway/v2';
    const basic = { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } };
    for (const w of lab.workers) {
      const http = lab.http(lab.workerServletUrl(w.name));
      const anonymous = await http.request('GET', `${gateway}/apis`);
      expect([anonymous.status, anonymous.body]).toEqual([
        401,
        { code: 401, message: '', description: 'Unauthenticated request', moreInfo: '' },
      ]);
      const one = conforms(await http.request('GET', `${gateway}/apis?context=${api.context}/1.0.0&version=1.0.0`, basic), 200);
      expect(one.body).toEqual({
        count: 1,
        list: [
          expect.objectContaining({
            apiUUID: apiId,
            name: api.name,
            version: '1.0.0',
            context: `${api.context}/1.0.0`,
            isDefaultVersion: false,
            apiType: 'HTTP',
          }),
        ],
      });
      const all = conforms(await http.request('GET', `${gateway}/apis`, basic), 200);
      expect((all.body as { list: { apiUUID: string }[] }).list.map((a) => a.apiUUID)).toContain(apiId);
      const info = conforms(await http.request('GET', `${gateway}/apis/${apiId}`, basic), 200);
      expect(info.body).toMatchObject({
        apiUUID: apiId,
        urlMappings: [{ httpMethod: 'GET', urlPattern: '/*' }],
        subscripitons: expect.arrayContaining([expect.objectContaining({ application: { uuid: applicationId } })]),
      });
      expect((await http.request('GET', `${gateway}/apis/no-such-api`, basic)).status).toBe(404);
      expect((await http.request('GET', `${gateway}/apis?context=/no-such-api/1.0.0&version=1.0.0`, basic)).status).toBe(404);
      expect((await http.request('GET', `${gateway}/apis?version=1.0.0`, basic)).status).toBe(400);
    }
  });

  test("the gateway REST API on each worker: the applications (with their keys) and subscriptions it knows, with the product's integer ids, heard as events and loaded again by a worker that restarts", async () => {
    const gateway = '/api/am/gateway/v2';
    const basic = { headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } };
    const known = async (worker: string) => {
      const http = lab.http(lab.workerServletUrl(worker));
      const byUuid = conforms(await http.request('GET', `${gateway}/applications?uuid=${applicationId}`, basic), 200);
      expect(byUuid.body).toEqual({
        count: 1,
        list: [
          expect.objectContaining({
            uuid: applicationId,
            id: expect.any(Number),
            name: `app-${suffix}`,
            subName: 'admin',
            policy: 'Unlimited',
            tokenType: 'JWT',
            keys: [expect.objectContaining({ consumerKey: expect.any(String), keyType: 'PRODUCTION', keyManager: 'Resident Key Manager' })],
          }),
        ],
      });
      // By name (which wins over uuid); the application deleted earlier is gone from the gateway too.
      expect(conforms(await http.request('GET', `${gateway}/applications?name=app-${suffix}&uuid=not-this-one`, basic), 200).body).toEqual(
        byUuid.body,
      );
      expect((await http.request('GET', `${gateway}/applications?name=renamed-${suffix}`, basic)).body).toEqual({ count: 0, list: [] });
      // The product's 400 sets moreInfo only (a body the OpenAPI's Error does not allow, so not validated against it).
      const missing = await http.request('GET', `${gateway}/applications`, basic);
      expect([missing.status, missing.body]).toEqual([400, { moreInfo: 'required parameters are missing' }]);
      const sub = conforms(await http.request('GET', `${gateway}/subscriptions?apiUUID=${apiId}&appUUID=${applicationId}`, basic), 200);
      const appId = (byUuid.body as { list: { id: number }[] }).list[0].id;
      expect(sub.body).toEqual({
        subscriptionId: expect.any(Number),
        policyId: 'Unlimited',
        apiId: expect.any(Number),
        appId,
        subscriptionState: 'UNBLOCKED',
      });
      expect((await http.request('GET', `${gateway}/subscriptions?apiUUID=${apiId}&appUUID=not-an-app`, basic)).status).toBe(404);
      expect((await http.request('GET', `${gateway}/subscriptions?apiUUID=${apiId}`, basic)).status).toBe(400);
      return { app: byUuid.body, sub: sub.body };
    };
    const heard = await Promise.all(lab.workers.map((w) => known(w.name)));
    // Every worker reports the same ids: the database's, not its own.
    for (const other of heard.slice(1)) expect(other).toEqual(heard[0]);
    const last = lab.workers[lab.workers.length - 1].name;
    await lab.restart(last, 0);
    await lab.waitHealthy();
    expect(await known(last)).toEqual(heard[0]);
  });

  test('a default version unmarked (PUT without isDefaultVersion): the publisher says so, and every worker stops serving the context without a version but keeps the versioned one', async () => {
    await client.login();
    const spec = {
      name: `Unmark${suffix}`,
      context: `/unmark-${suffix}`,
      version: '1.0.0',
      backendUrl: api.backendUrl,
      isDefaultVersion: true,
    };
    const { apiId: id } = await client.createAndDeploy(spec, lab.vhost);
    const { token } = await client.subscribe(`unmark-${suffix}`, [id]);
    const targets = [lab.apiUrl(), ...lab.workers.map((w) => lab.workerApiUrl(w.name))];
    for (const base of targets)
      await until200(`${base} to serve ${spec.context} without a version`, () => invoke(lab.http(base), spec.context, '', token));
    const current = conforms(await client.call('GET', `${PUBLISHER}/apis/${id}`), 200).body as Record<string, unknown>;
    expect(current.isDefaultVersion).toBe(true);
    const { isDefaultVersion: _dropped, ...withoutIt } = current;
    expect(conforms(await client.call('PUT', `${PUBLISHER}/apis/${id}`, withoutIt), 200).body).toEqual(
      expect.objectContaining({ isDefaultVersion: false }),
    );
    for (const base of targets) {
      await retryUntil(
        async (observe) => {
          const e = await invoke(lab.http(base), spec.context, '', token);
          observe(describeExchange(e));
          return e.status === 404 ? e : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${base} to stop serving ${spec.context} without a version` },
      );
      expect((await invoke(lab.http(base), spec.context, spec.version, token)).status).toBe(200);
    }
    await client.unsubscribeAll(id);
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${id}`)).status).toBe(200);
  });

  test("an API definition with schemas put as multipart (200, the definition back; invalid or unparsable 400 900754, no resources 500), its resources the API's; deployed with schema validation, every worker serves the new resources, refuses the rest (405 900906), a body that does not fit its schema (400) and a backend answer its definition does not declare (400 Bad Response)", async () => {
    await client.login();
    const spec = { name: `Swagger${suffix}`, context: `/swagger-${suffix}`, version: '1.0.0', backendUrl: api.backendUrl };
    const { apiId: id } = await client.createAndDeploy(spec, lab.vhost);
    const { token } = await client.subscribe(`swagger-${suffix}`, [id]);
    const before = await client.call('GET', `${PUBLISHER}/apis/${id}/swagger`);
    expect(before.status).toBe(200);
    expect(Object.keys((before.body as { paths: object }).paths)).toEqual(['/*']);
    const definition = {
      openapi: '3.0.1',
      info: { title: spec.name, version: spec.version },
      paths: {
        '/menu': { get: { responses: { 200: { description: 'OK' } } } },
        '/orders': {
          post: {
            requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } },
            responses: {
              200: {
                description: 'OK',
                content: {
                  'application/json': {
                    schema: { type: 'object', required: ['method'], properties: { method: { type: 'string', enum: ['POST'] } } },
                  },
                },
              },
            },
          },
        },
        // The backend answers 200, which this resource does not declare: the gateways refuse the answer.
        '/legacy': { get: { responses: { 201: { description: 'Created' } } } },
      },
      components: {
        schemas: { Order: { type: 'object', required: ['item'], properties: { item: { type: 'string' }, count: { type: 'integer' } } } },
      },
    };
    const form = (text: string) => {
      const f = new FormData();
      f.append('apiDefinition', text);
      return f;
    };
    const put = await client.call('PUT', `${PUBLISHER}/apis/${id}/swagger`, form(JSON.stringify(definition)));
    expect(put.status).toBe(200);
    expect(put.body).toEqual(
      expect.objectContaining({
        paths: {
          '/menu': { get: expect.anything() },
          '/orders': { post: expect.objectContaining({ requestBody: definition.paths['/orders'].post.requestBody }) },
          '/legacy': { get: expect.anything() },
        },
      }),
    );
    expect((put.body as { components: { schemas: object } }).components.schemas).toEqual(definition.components.schemas);
    const resources = (
      conforms(await client.call('GET', `${PUBLISHER}/apis/${id}`), 200).body as { operations: { target: string; verb: string }[] }
    ).operations;
    expect(resources.map((o) => `${o.verb} ${o.target}`)).toEqual(['GET /menu', 'POST /orders', 'GET /legacy']);
    const invalid = conforms(
      await client.call('PUT', `${PUBLISHER}/apis/${id}/swagger`, form(JSON.stringify({ ...definition, info: undefined }))),
      400,
    );
    expect(invalid.body).toEqual(expect.objectContaining({ code: 900754, description: 'attribute info is missing' }));
    expect(conforms(await client.call('PUT', `${PUBLISHER}/apis/${id}/swagger`, form('{"openapi": ')), 400).body).toEqual(
      expect.objectContaining({ code: 900754 }),
    );
    expect(
      conforms(await client.call('PUT', `${PUBLISHER}/apis/${id}/swagger`, form(JSON.stringify({ ...definition, paths: {} }))), 500).body,
    ).toEqual(expect.objectContaining({ description: expect.stringContaining('900763:No resources found') }));
    conforms(await client.call('PUT', `${PUBLISHER}/apis/not-an-api/swagger`, form(JSON.stringify(definition))), 404);
    // Gateways still serve the deployed revision (every path) until a new one is deployed.
    expect((await invoke(lab.http(lab.workerApiUrl(lab.workers[0].name)), spec.context, spec.version, token, '/elsewhere')).status).toBe(
      200,
    );
    // Schema validation on: the gateways check request bodies against the definition's schemas.
    const current = conforms(await client.call('GET', `${PUBLISHER}/apis/${id}`), 200).body as Record<string, unknown>;
    expect(conforms(await client.call('PUT', `${PUBLISHER}/apis/${id}`, { ...current, enableSchemaValidation: true }), 200).body).toEqual(
      expect.objectContaining({ enableSchemaValidation: true }),
    );
    const revision = conforms(await client.call('POST', `${PUBLISHER}/apis/${id}/revisions`, { description: 'new definition' }), 201);
    expect(
      (
        await client.call('POST', `${PUBLISHER}/apis/${id}/deploy-revision?revisionId=${(revision.body as { id: string }).id}`, [
          { name: 'Default', vhost: lab.vhost, displayOnDevportal: true },
        ])
      ).status,
    ).toBe(201);
    for (const base of [lab.apiUrl(), ...lab.workers.map((w) => lab.workerApiUrl(w.name))]) {
      const refused = await retryUntil(
        async (observe) => {
          const e = await invoke(lab.http(base), spec.context, spec.version, token, '/elsewhere');
          observe(describeExchange(e));
          return e.status === 405 ? e : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${base} to refuse a resource the new definition does not have` },
      );
      expect(refused.body).toEqual(expect.objectContaining({ code: '900906' }));
      expect((await invoke(lab.http(base), spec.context, spec.version, token, '/menu')).status).toBe(200);
      const order = (data: unknown) =>
        lab.http(base).request('POST', `${spec.context}/${spec.version}/orders`, {
          headers: { authorization: bearer(token), 'content-type': 'application/json' },
          data,
        });
      const invalid = await order({ item: 'tea', count: 'two' });
      expect({ status: invalid.status, body: invalid.body }).toEqual({
        status: 400,
        body: {
          code: '400',
          message: 'Bad Request',
          description: expect.stringMatching(/^Schema validation failed in the Request: .*\/count/),
        },
      });
      // A missing required property is INFO in the product's validator: let through.
      expect((await order({ count: 2 })).status).toBe(200);
      expect((await order({ item: 'tea', count: 2 })).body).toEqual(expect.objectContaining({ method: 'POST', path: `/orders` }));
      const legacy = await invoke(lab.http(base), spec.context, spec.version, token, '/legacy');
      expect({ status: legacy.status, body: legacy.body }).toEqual({
        status: 400,
        body: {
          code: '500',
          message: 'Bad Response',
          description: expect.stringMatching(/^Schema validation failed in the Response: .*200/),
        },
      });
    }
    await client.unsubscribeAll(id);
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${id}`)).status).toBe(200);
  });

  test("operation policies: the common ones listed (by name and version too; 404 903004 otherwise); applied to an API's resource through PUT (a clone's id shown; a missing attribute refused with the product's 500); deployed, every worker rewrites the path, adds a query parameter and sets a header on the backend call, and a header on its answer", async () => {
    await client.login();
    const list = conforms(await client.call('GET', `${PUBLISHER}/operation-policies`), 200).body as {
      list: { id: string; name: string; version: string; isAPISpecific: boolean }[];
    };
    expect(list.list.map((p) => `${p.name}_${p.version}`)).toEqual(
      expect.arrayContaining(['addHeader_v2', 'removeHeader_v1', 'rewriteResourcePath_v3', 'addQueryParam_v1', 'changeHTTPMethod_v1']),
    );
    const addHeader = list.list.find((p) => p.name === 'addHeader')!;
    expect(addHeader.isAPISpecific).toBe(false);
    expect(
      (
        conforms(await client.call('GET', `${PUBLISHER}/operation-policies?query=${encodeURIComponent('name:addHeader version:v2')}`), 200)
          .body as { list: unknown[] }
      ).list,
    ).toEqual([expect.objectContaining({ id: addHeader.id })]);
    expect(
      (await client.call('GET', `${PUBLISHER}/operation-policies?query=${encodeURIComponent('name:addHeader version:v1')}`)).body,
    ).toEqual(expect.objectContaining({ code: 903004 }));
    conforms(await client.call('GET', `${PUBLISHER}/operation-policies/${addHeader.id}`), 200);
    conforms(await client.call('GET', `${PUBLISHER}/operation-policies/not-a-policy`), 404);

    const spec = { name: `Policies${suffix}`, context: `/policies-${suffix}`, version: '1.0.0', backendUrl: api.backendUrl };
    const { apiId: id } = await client.createAndDeploy(spec, lab.vhost);
    const { token } = await client.subscribe(`policies-${suffix}`, [id]);
    const current = conforms(await client.call('GET', `${PUBLISHER}/apis/${id}`), 200).body as { operations: Record<string, unknown>[] };
    const withPolicies = (request: unknown[], response: unknown[] = []) => ({
      ...current,
      operations: current.operations.map((o) => ({ ...o, operationPolicies: { request, response, fault: [] } })),
    });
    const missing = await client.call(
      'PUT',
      `${PUBLISHER}/apis/${id}`,
      withPolicies([{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X-Carbon-Labs-Echo' } }]),
    );
    expect(conforms(missing, 500).body).toEqual(
      expect.objectContaining({
        description: `Error while updating the API : ${id} - Required policy attribute headerValue is not found for the policy addHeader request flow.`,
      }),
    );
    const put = conforms(
      await client.call(
        'PUT',
        `${PUBLISHER}/apis/${id}`,
        withPolicies(
          [
            {
              policyName: 'rewriteResourcePath',
              policyVersion: 'v3',
              parameters: { newResourcePath: '/rewritten', includeQueryParams: true },
            },
            { policyName: 'addQueryParam', policyVersion: 'v1', parameters: { paramKey: 'added', paramValue: 'yes' } },
            {
              policyName: 'addHeader',
              policyVersion: 'v2',
              policyId: addHeader.id,
              parameters: { headerName: 'X-Carbon-Labs-Echo', headerValue: 'set-by-policy' },
            },
          ],
          [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X-Carbon-Labs-Policy', headerValue: 'response' } }],
        ),
      ),
      200,
    );
    const applied = (
      put.body as { operations: { operationPolicies: { request: { policyId: string }[]; response: { policyId: string }[] } }[] }
    ).operations[0].operationPolicies;
    const cloneId = applied.request[2].policyId;
    expect(cloneId).not.toBe(addHeader.id);
    expect(applied.response[0].policyId).toBe(cloneId);
    expect(conforms(await client.call('GET', `${PUBLISHER}/apis/${id}/operation-policies/${cloneId}`), 200).body).toEqual(
      expect.objectContaining({ name: 'addHeader', isAPISpecific: true }),
    );
    expect((conforms(await client.call('GET', `${PUBLISHER}/apis/${id}/operation-policies`), 200).body as { count: number }).count).toBe(0);
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${id}/operation-policies/${cloneId}`)).status).toBe(500);
    const call = (base: string) =>
      lab.http(base).request('GET', `${spec.context}/${spec.version}/menu?q=1`, {
        headers: { authorization: bearer(token), 'x-carbon-labs-echo': 'from-client' },
      });
    // Until a revision with them is deployed, gateways call the backend as the client asked.
    expect((await call(lab.workerApiUrl(lab.workers[0].name))).body).toEqual(
      expect.objectContaining({ path: '/menu?q=1', echo: 'from-client' }),
    );
    const revision = conforms(await client.call('POST', `${PUBLISHER}/apis/${id}/revisions`, { description: 'policies' }), 201);
    expect(
      (
        await client.call('POST', `${PUBLISHER}/apis/${id}/deploy-revision?revisionId=${(revision.body as { id: string }).id}`, [
          { name: 'Default', vhost: lab.vhost, displayOnDevportal: true },
        ])
      ).status,
    ).toBe(201);
    for (const base of [lab.apiUrl(), ...lab.workers.map((w) => lab.workerApiUrl(w.name))]) {
      const served = await retryUntil(
        async (observe) => {
          const e = await call(base);
          observe(describeExchange(e));
          return (e.body as { path?: string } | undefined)?.path?.startsWith('/rewritten') ? e : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${base} to apply the operation policies` },
      );
      expect({ body: served.body, header: served.headers['x-carbon-labs-policy'] }).toEqual({
        body: expect.objectContaining({ method: 'GET', path: '/rewritten?q=1&added=yes', echo: 'set-by-policy' }),
        header: 'response',
      });
    }
    // An API-specific policy is a Synapse template: the stand-in runs none, and says so.
    const upload = new FormData();
    upload.append(
      'policySpecFile',
      new Blob([
        JSON.stringify({
          category: 'Mediation',
          name: 'custom',
          version: 'v1',
          displayName: 'Custom',
          applicableFlows: ['request'],
          supportedGateways: ['Synapse'],
          supportedApiTypes: ['HTTP'],
        }),
      ]),
      'custom.json',
    );
    upload.append('synapsePolicyDefinitionFile', new Blob(['<log level="full"/>']), 'custom.j2');
    const uploaded = await client.call('POST', `${PUBLISHER}/apis/${id}/operation-policies`, upload);
    expect({ status: uploaded.status, body: uploaded.body }).toEqual({
      status: 501,
      body: expect.objectContaining({ description: expect.stringContaining('runs no Synapse templates') }),
    });
    await client.unsubscribeAll(id);
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${id}`)).status).toBe(200);
  });

  test('an API with subscriptions is not deleted (409, as the product); its subscriptions removed (200; an unknown one 404), every worker refuses their tokens (403 900908), then the delete answers 200', async () => {
    await client.login();
    const refused = await client.call('DELETE', `${PUBLISHER}/apis/${apiId}`);
    expect(conforms(refused, 409).body).toEqual(
      expect.objectContaining({
        code: 409,
        message: 'Conflict',
        description: `Cannot remove the API ${apiId} as active subscriptions exist`,
      }),
    );
    conforms(await client.call('GET', `${PUBLISHER}/apis/${apiId}`), 200);
    const subs = (
      conforms(await client.call('GET', `${DEVPORTAL}/subscriptions?apiId=${apiId}`), 200).body as { list: { subscriptionId: string }[] }
    ).list;
    expect(subs.map((x) => x.subscriptionId)).toContain(subscriptionId);
    conforms(await client.call('DELETE', `${DEVPORTAL}/subscriptions/not-a-subscription`), 404);
    const deletes = (await client.unsubscribeAll(apiId)).filter((e) => e.method === 'DELETE');
    expect(deletes).toHaveLength(subs.length);
    for (const e of deletes) conforms(e, 200);
    expect((conforms(await client.call('GET', `${DEVPORTAL}/subscriptions?apiId=${apiId}`), 200).body as { list: unknown[] }).list).toEqual(
      [],
    );
    for (const base of [lab.apiUrl(), ...lab.workers.map((w) => lab.workerApiUrl(w.name))]) {
      const answer = await retryUntil(
        async (observe) => {
          const e = await invoke(lab.http(base), api.context, api.version, accessToken);
          observe(describeExchange(e));
          return e.status === 403 ? e : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 200, what: `${base} to refuse ${api.context} to an application no longer subscribed` },
      );
      expect(answer.body).toEqual(expect.objectContaining({ code: '900908' }));
    }
    expect((await client.call('DELETE', `${PUBLISHER}/apis/${apiId}`)).status).toBe(200);
    conforms(await client.call('GET', `${PUBLISHER}/apis/${apiId}`), 404);
  });

  // Last: it stops a worker of the lab the tests above share.
  test("a failed conformance run leaves every container's log and inspect and the lab folder, without private keys, beside its report; export does the same on demand", async () => {
    const reports = tempDir('carbon-labs-reports-');
    await lab.stop('worker-2');
    try {
      const run = await checkLab({ lab: lab.lab }, { checks: [checkById('workers-reject-admin-writes')], exportOnFailure: reports });
      expect(run.verdict).toBe('failed');
    } finally {
      await lab.start('worker-2');
    }
    const listing = (file: string) =>
      spawnSync('tar', ['-tzf', file], { encoding: 'utf8', timeout: 30_000 })
        .stdout.split('\n')
        .filter(Boolean)
        .map((p) => p.split('/').slice(1).join('/'));
    const services = (await labContainers(lab.lab.project)).map((c) => c.service);
    for (const file of [join(reports, FAILURE_EXPORT), await exportLab(lab.lab, lab.dir, { to: reports })]) {
      const paths = listing(file);
      expect(services.filter((s) => !paths.includes(`logs/${s}.log`) || !paths.includes(`inspect/${s}.json`))).toEqual([]);
      expect(paths).toEqual(
        expect.arrayContaining([
          'README.txt',
          'lab/docker-compose.yml',
          'lab/nodes/worker-2/repository/conf/deployment.toml',
          'lab/certs/ca.crt',
        ]),
      );
      expect(paths.filter((p) => /\.key$|(^|\/)\.pki\//.test(p))).toEqual([]);
    }
    // Whole logs, taken after the run restored the lab: worker-2's holds both of its boots.
    const worker2 = spawnSync('tar', ['-xzOf', join(reports, FAILURE_EXPORT), '--wildcards', '*/logs/worker-2.log'], {
      encoding: 'utf8',
      timeout: 30_000,
    }).stdout;
    expect(worker2.match(/Starting WSO2 API Manager/g)?.length).toBeGreaterThanOrEqual(2);
  });
});

// The whole flow (DCR → token → create → revision → deploy → publish → application → subscribe →
// keys → token → invoke through each worker and the worker balancer) on patterns 1-3 is
// artifacts-propagate's, in make test's conformance legs: it is not run again here.
