import { createHash, randomBytes, randomUUID } from 'crypto';
import type { Pool } from 'mysql2/promise';
import type { GatewayEnvironment, NodeConfig } from './config';
import { exec, isDuplicate, rows } from './db';
import type { EventHub } from './eventhub';
import type { Handler, Req, Res } from './http';
import { basicCredentials, bearerToken, json, log, NOT_DEPLOYED, parseJson, restError } from './http';
import type { Match, RestApi } from './spec';
import { ApiDoc, ApiStore, Conflict } from './store';
import type { TokenClaims, TokenIssuer } from './tokens';

const MALFORMED = Symbol.for('malformed');
/** How the stand-in's user store keeps a password (one rule for every writer of UM_USER). */
export const passwordHash = (text: string) => createHash('sha256').update(text).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();

export interface ControlPlaneDeps {
  readonly config: NodeConfig;
  readonly apimDb: Pool;
  readonly sharedDb: Pool;
  readonly apis: ApiStore;
  readonly hub: EventHub;
  readonly tokens: TokenIssuer;
  readonly publisher: RestApi;
  readonly devportal: RestApi;
  readonly admin: RestApi;
}

type Ctx = { req: Req; match: Match; body: unknown; claims: TokenClaims };
type Operation = (ctx: Ctx) => Promise<Res>;

/** Creates the super admin in the shared user store (`create_admin_account = true`). */
export async function ensureSuperAdmin(config: NodeConfig, sharedDb: Pool): Promise<void> {
  await exec(sharedDb, 'INSERT IGNORE INTO UM_USER (UM_USER_NAME, UM_USER_PASSWORD) VALUES (?, ?)',
    [config.superAdmin.username, passwordHash(config.superAdmin.password)]);
}

export async function authenticateUser(sharedDb: Pool, user: string, password: string): Promise<boolean> {
  const [row] = await rows(sharedDb, 'SELECT UM_USER_PASSWORD FROM UM_USER WHERE UM_USER_NAME = ?', [user]);
  return !!row && row.UM_USER_PASSWORD === passwordHash(password);
}

const LIFECYCLE: Record<string, Record<string, string>> = {
  CREATED: { 'Publish': 'PUBLISHED', 'Deploy as a Prototype': 'PROTOTYPED' },
  PROTOTYPED: { 'Publish': 'PUBLISHED', 'Demote to Created': 'CREATED' },
  PUBLISHED: { 'Block': 'BLOCKED', 'Deprecate': 'DEPRECATED', 'Demote to Created': 'CREATED', 'Deploy as a Prototype': 'PROTOTYPED' },
  BLOCKED: { 'Re-Publish': 'PUBLISHED', 'Deprecate': 'DEPRECATED' },
  DEPRECATED: { Retire: 'RETIRED' },
  RETIRED: {},
};
const stateName = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

export function controlPlane(deps: ControlPlaneDeps): Handler {
  const { config, apimDb, sharedDb, apis, hub, tokens } = deps;

  async function environments(): Promise<GatewayEnvironment[]> {
    const dynamic = (await rows(apimDb, 'SELECT * FROM AM_GATEWAY_ENVIRONMENT ORDER BY NAME')).map((r) => ({
      name: String(r.NAME), type: 'hybrid', provider: String(r.PROVIDER ?? 'wso2'), description: String(r.DESCRIPTION ?? ''),
      displayInApiConsole: true, showAsTokenEndpointUrl: false, vhosts: JSON.parse(String(r.VHOSTS)),
      id: String(r.UUID), displayName: String(r.DISPLAY_NAME ?? r.NAME),
    }));
    return [...config.gatewayEnvironments, ...dynamic];
  }

  // ---------------------------------------------------------------- publisher v4
  const publisher: Record<string, Operation> = {
    async 'GET /apis'() {
      const list = await apis.list();
      return json(200, { count: list.length, list: list.map(apiInfo), pagination: { offset: 0, limit: 25, total: list.length, next: '', previous: '' } });
    },
    async 'POST /apis'({ body, claims }) {
      const input = body as Record<string, unknown>;
      const now = Date.now();
      const context = `/${String(input.context).replace(/^\/+/, '')}`;
      const api: ApiDoc = {
        type: 'HTTP', transport: ['http', 'https'], policies: ['Unlimited'], visibility: 'PUBLIC',
        ...input,
        id: randomUUID(), context, provider: claims.sub, lifeCycleStatus: 'CREATED',
        createdTime: String(now), lastUpdatedTime: String(now), gatewayVendor: 'wso2', isRevision: false,
      } as unknown as ApiDoc;
      try {
        await apis.insert(api);
      } catch (err) {
        if (err instanceof Conflict) return restError(409, 'Conflict', err.message);
        throw err;
      }
      log('INFO', 'APIProvider', `API ${api.name}:${api.version} created (${api.id}) by ${claims.sub}`);
      return { status: 201, body: api, headers: { location: `/api/am/publisher/v4/apis/${api.id}` } };
    },
    async 'GET /apis/{apiId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      return api ? json(200, api) : notFound('API', match.params.apiId);
    },
    async 'DELETE /apis/{apiId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const deployed = await rows(apimDb, 'SELECT NAME FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [api.id]);
      await exec(apimDb, 'DELETE FROM AM_SUBSCRIPTION WHERE API_UUID = ?', [api.id]);
      await exec(apimDb, 'DELETE FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [api.id]);
      await exec(apimDb, 'DELETE FROM AM_REVISION WHERE API_UUID = ?', [api.id]);
      await apis.delete(api.id);
      if (deployed.length) publishEvent('REMOVE_API_FROM_GATEWAY', api.id, deployed.map((d) => String(d.NAME)));
      return json(200);
    },
    async 'GET /apis/{apiId}/revisions'({ match }) {
      if (!(await apis.get(match.params.apiId))) return notFound('API', match.params.apiId);
      const list = await revisions(match.params.apiId);
      return json(200, { count: list.length, list });
    },
    async 'POST /apis/{apiId}/revisions'({ match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const id = randomUUID();
      const now = Date.now();
      for (let attempt = 0; ; attempt++) {
        const [{ n }] = await rows(apimDb, 'SELECT COALESCE(MAX(REVISION_NUM), 0) + 1 AS n FROM AM_REVISION WHERE API_UUID = ?', [api.id]);
        try {
          await exec(apimDb, 'INSERT INTO AM_REVISION (REVISION_UUID, API_UUID, REVISION_NUM, DESCRIPTION, API_DOC, CREATED_TIME) VALUES (?,?,?,?,?,?)',
            [id, api.id, n, String((body as Record<string, unknown>)?.description ?? ''), JSON.stringify(api), now]);
          break;
        } catch (err) {
          if (!isDuplicate(err) || attempt > 3) throw err;
        }
      }
      const revision = (await revisions(api.id)).find((r) => r.id === id);
      return { status: 201, body: revision, headers: { location: `/api/am/publisher/v4/apis/${api.id}/revisions/${id}` } };
    },
    async 'POST /apis/{apiId}/deploy-revision'({ req, match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const revisionId = req.query.get('revisionId') ?? '';
      const [revision] = await rows(apimDb, 'SELECT REVISION_UUID FROM AM_REVISION WHERE REVISION_UUID = ? AND API_UUID = ?', [revisionId, api.id]);
      if (!revision) return notFound('Revision', revisionId);
      const envs = await environments();
      const deployments = body as { name: string; vhost?: string; displayOnDevportal?: boolean }[];
      for (const d of deployments) {
        const env = envs.find((e) => e.name === d.name);
        if (!env) return restError(400, 'Bad Request', `Gateway environment not found: ${d.name}`);
        if (d.vhost && !env.vhosts.some((v) => v.host === d.vhost)) return restError(400, 'Bad Request', `Invalid vhost: ${d.vhost} for environment ${d.name}`);
      }
      const now = Date.now();
      for (const d of deployments) {
        const env = envs.find((e) => e.name === d.name)!;
        await exec(apimDb,
          'REPLACE INTO AM_DEPLOYMENT_REVISION_MAPPING (API_UUID, NAME, VHOST, REVISION_UUID, DISPLAY_ON_DEVPORTAL, DEPLOYED_TIME) VALUES (?,?,?,?,?,?)',
          [api.id, d.name, d.vhost ?? env.vhosts[0].host, revisionId, d.displayOnDevportal !== false, now]);
      }
      publishEvent('DEPLOY_API_IN_GATEWAY', api.id, deployments.map((d) => d.name));
      // The spec lists 200; the product answers 201 (APIRevisionTestCase asserts 201).
      return json(201, deployments.map((d) => ({
        revisionUuid: revisionId, name: d.name, status: 'APPROVED', vhost: d.vhost ?? envs.find((e) => e.name === d.name)!.vhosts[0].host,
        displayOnDevportal: d.displayOnDevportal !== false, deployedTime: iso(now), successDeployedTime: iso(now),
      })));
    },
    async 'POST /apis/change-lifecycle'({ req }) {
      const apiId = req.query.get('apiId') ?? '';
      const action = req.query.get('action') ?? '';
      const api = await apis.get(apiId);
      if (!api) return notFound('API', apiId);
      const next = LIFECYCLE[api.lifeCycleStatus]?.[action];
      if (!next) return restError(400, 'Bad Request', `Action '${action}' is not allowed from state ${stateName(api.lifeCycleStatus)}`);
      await apis.update({ ...api, lifeCycleStatus: next, lastUpdatedTime: String(Date.now()) });
      return json(200, {
        workflowStatus: 'APPROVED',
        lifecycleState: { state: stateName(next), checkItems: [], availableTransitions: Object.keys(LIFECYCLE[next]).map((event) => ({ event, targetState: stateName(LIFECYCLE[next][event]) })) },
      });
    },
  };

  async function revisions(apiId: string): Promise<Record<string, unknown>[]> {
    const list = await rows(apimDb, 'SELECT * FROM AM_REVISION WHERE API_UUID = ? ORDER BY REVISION_NUM', [apiId]);
    const deployments = await rows(apimDb, 'SELECT * FROM AM_DEPLOYMENT_REVISION_MAPPING WHERE API_UUID = ?', [apiId]);
    return list.map((r) => ({
      id: String(r.REVISION_UUID), displayName: `Revision ${r.REVISION_NUM}`, description: String(r.DESCRIPTION ?? ''),
      createdTime: iso(Number(r.CREATED_TIME)), apiInfo: { id: apiId },
      deploymentInfo: deployments.filter((d) => d.REVISION_UUID === r.REVISION_UUID).map((d) => ({
        revisionUuid: String(d.REVISION_UUID), name: String(d.NAME), vhost: String(d.VHOST), status: 'APPROVED',
        displayOnDevportal: !!d.DISPLAY_ON_DEVPORTAL, deployedTime: iso(Number(d.DEPLOYED_TIME)), successDeployedTime: iso(Number(d.DEPLOYED_TIME)),
      })),
    }));
  }

  function publishEvent(type: 'DEPLOY_API_IN_GATEWAY' | 'REMOVE_API_FROM_GATEWAY', apiId: string, labels: string[]): void {
    hub.publish({ type, eventId: randomUUID(), apiId, labels, origin: config.nodeName });
  }

  // ---------------------------------------------------------------- devportal v3
  const devportal: Record<string, Operation> = {
    async 'GET /applications'({ claims }) {
      const list = (await rows(apimDb, 'SELECT * FROM AM_APPLICATION WHERE OWNER = ? ORDER BY CREATED_TIME', [claims.sub])).map(applicationOf);
      return json(200, { count: list.length, list, pagination: { offset: 0, limit: 25, total: list.length, next: '', previous: '' } });
    },
    async 'POST /applications'({ body, claims }) {
      const input = body as Record<string, string>;
      const id = randomUUID();
      try {
        await exec(apimDb, 'INSERT INTO AM_APPLICATION (UUID, NAME, OWNER, APPLICATION_TIER, DESCRIPTION, TOKEN_TYPE, CREATED_TIME) VALUES (?,?,?,?,?,?,?)',
          [id, input.name, claims.sub, input.throttlingPolicy, input.description ?? '', input.tokenType ?? 'JWT', Date.now()]);
      } catch (err) {
        if (isDuplicate(err)) return restError(409, 'Conflict', `A duplicate application already exists by the name - ${input.name}`);
        throw err;
      }
      const [row] = await rows(apimDb, 'SELECT * FROM AM_APPLICATION WHERE UUID = ?', [id]);
      return { status: 201, body: applicationOf(row), headers: { location: `/api/am/devportal/v3/applications/${id}` } };
    },
    async 'GET /subscriptions'({ req }) {
      const apiId = req.query.get('apiId');
      const appId = req.query.get('applicationId');
      const list = await rows(apimDb,
        `SELECT * FROM AM_SUBSCRIPTION WHERE (? IS NULL OR API_UUID = ?) AND (? IS NULL OR APPLICATION_UUID = ?) ORDER BY CREATED_TIME`,
        [apiId, apiId, appId, appId]);
      return json(200, { count: list.length, list: list.map(subscriptionOf), pagination: { offset: 0, limit: 25, total: list.length, next: '', previous: '' } });
    },
    async 'POST /subscriptions'({ body, claims }) {
      const input = body as Record<string, string>;
      const api = await apis.get(input.apiId);
      if (!api || !['PUBLISHED', 'PROTOTYPED'].includes(api.lifeCycleStatus)) return notFound('API', input.apiId);
      const [app] = await rows(apimDb, 'SELECT * FROM AM_APPLICATION WHERE UUID = ? AND OWNER = ?', [input.applicationId, claims.sub]);
      if (!app) return notFound('Application', input.applicationId);
      const id = randomUUID();
      try {
        await exec(apimDb, 'INSERT INTO AM_SUBSCRIPTION (UUID, API_UUID, APPLICATION_UUID, TIER_ID, SUB_STATUS, CREATED_TIME) VALUES (?,?,?,?,?,?)',
          [id, api.id, app.UUID, input.throttlingPolicy, 'UNBLOCKED', Date.now()]);
      } catch (err) {
        if (isDuplicate(err)) return restError(409, 'Conflict', `Subscription already exists for API ${api.name} and application ${app.NAME}`);
        throw err;
      }
      hub.publish({ type: 'SUBSCRIPTIONS_CREATE', eventId: randomUUID(), apiId: api.id, applicationId: String(app.UUID), labels: [], origin: config.nodeName });
      const [row] = await rows(apimDb, 'SELECT * FROM AM_SUBSCRIPTION WHERE UUID = ?', [id]);
      return { status: 201, body: subscriptionOf(row), headers: { location: `/api/am/devportal/v3/subscriptions/${id}` } };
    },
    async 'POST /applications/{applicationId}/generate-keys'({ match, body, claims }) {
      const input = body as { keyType: string; keyManager?: string; grantTypesToBeSupported: string[]; callbackUrl?: string; scopes?: string[] };
      const [app] = await rows(apimDb, 'SELECT * FROM AM_APPLICATION WHERE UUID = ? AND OWNER = ?', [match.params.applicationId, claims.sub]);
      if (!app) return notFound('Application', match.params.applicationId);
      const keyManager = input.keyManager ?? 'Resident Key Manager';
      const consumerKey = randomBytes(14).toString('base64url');
      const consumerSecret = randomBytes(21).toString('base64url');
      const mappingId = randomUUID();
      try {
        await exec(apimDb, 'INSERT INTO AM_APPLICATION_KEY_MAPPING (UUID, APPLICATION_UUID, CONSUMER_KEY, KEY_TYPE, KEY_MANAGER) VALUES (?,?,?,?,?)',
          [mappingId, app.UUID, consumerKey, input.keyType, keyManager]);
      } catch (err) {
        if (isDuplicate(err)) return restError(409, 'Conflict', `Key Mappings already exists for application ${app.NAME} with keyType ${input.keyType}`);
        throw err;
      }
      await exec(apimDb, 'INSERT INTO IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY, CONSUMER_SECRET, APP_NAME, USERNAME, GRANT_TYPES, CALLBACK_URL, APPLICATION_UUID, KEY_TYPE) VALUES (?,?,?,?,?,?,?,?)',
        [consumerKey, consumerSecret, `${claims.sub}_${app.NAME}_${input.keyType}`, claims.sub, input.grantTypesToBeSupported.join(' '), input.callbackUrl ?? '', app.UUID, input.keyType]);
      return json(200, {
        keyMappingId: mappingId, keyManager, consumerKey, consumerSecret, supportedGrantTypes: input.grantTypesToBeSupported,
        callbackUrl: input.callbackUrl ?? '', keyState: 'COMPLETED', keyType: input.keyType, mode: 'CREATED', groupId: '',
        token: { accessToken: '', tokenScopes: [], validityTime: 3600 }, additionalProperties: {},
      });
    },
    async 'POST /applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token'({ match, body, claims }) {
      const input = (body ?? {}) as { consumerSecret?: string; validityPeriod?: number; scopes?: string[] };
      const [mapping] = await rows(apimDb,
        `SELECT m.*, c.CONSUMER_SECRET, a.NAME AS APP_NAME FROM AM_APPLICATION_KEY_MAPPING m
         JOIN IDN_OAUTH_CONSUMER_APPS c ON c.CONSUMER_KEY = m.CONSUMER_KEY JOIN AM_APPLICATION a ON a.UUID = m.APPLICATION_UUID
         WHERE m.UUID = ? AND m.APPLICATION_UUID = ? AND a.OWNER = ?`, [match.params.keyMappingId, match.params.applicationId, claims.sub]);
      if (!mapping) return notFound('Key mapping', match.params.keyMappingId);
      if (input.consumerSecret !== undefined && input.consumerSecret !== mapping.CONSUMER_SECRET) return restError(400, 'Bad Request', 'Invalid consumer secret');
      const validity = input.validityPeriod && input.validityPeriod > 0 ? input.validityPeriod : 3600;
      const scopes = input.scopes?.length ? input.scopes : ['default'];
      const { token } = tokens.issue({
        sub: claims.sub, azp: String(mapping.CONSUMER_KEY), scope: scopes.join(' '),
        application: { uuid: String(mapping.APPLICATION_UUID), name: String(mapping.APP_NAME) }, keytype: String(mapping.KEY_TYPE),
      }, validity);
      return json(200, { accessToken: token, tokenScopes: scopes, validityTime: validity });
    },
  };

  // ---------------------------------------------------------------- admin v4
  const admin: Record<string, Operation> = {
    async 'GET /environments'() {
      const list = (await environments()).map((e) => ({
        id: (e as { id?: string }).id ?? e.name, name: e.name, displayName: (e as { displayName?: string }).displayName ?? e.name,
        description: e.description, provider: e.provider, gatewayType: 'Regular', isReadOnly: !(e as { id?: string }).id,
        vhosts: e.vhosts.map((v) => ({ host: v.host, httpContext: '', httpPort: v.httpPort, httpsPort: v.httpsPort, wsPort: v.wsPort, wssPort: v.wssPort })),
        endpointURIs: [], additionalProperties: [],
      }));
      return json(200, { count: list.length, list });
    },
    async 'POST /environments'({ body }) {
      const input = body as { name: string; displayName?: string; description?: string; provider?: string; vhosts: unknown[] };
      if ((await environments()).some((e) => e.name === input.name)) return restError(409, 'Conflict', `Gateway environment ${input.name} already exists`);
      const id = randomUUID();
      try {
        await exec(apimDb, 'INSERT INTO AM_GATEWAY_ENVIRONMENT (UUID, NAME, DISPLAY_NAME, DESCRIPTION, PROVIDER, VHOSTS) VALUES (?,?,?,?,?,?)',
          [id, input.name, input.displayName ?? input.name, input.description ?? '', input.provider ?? 'wso2', JSON.stringify(input.vhosts)]);
      } catch (err) {
        if (isDuplicate(err)) return restError(409, 'Conflict', `Gateway environment ${input.name} already exists`);
        throw err;
      }
      return json(201, { id, name: input.name, displayName: input.displayName ?? input.name, description: input.description ?? '', provider: input.provider ?? 'wso2', gatewayType: 'Regular', isReadOnly: false, vhosts: input.vhosts, endpointURIs: [], additionalProperties: [] });
    },
  };

  // ---------------------------------------------------------------- REST dispatch
  async function rest(api: RestApi, operations: Record<string, Operation>, req: Req): Promise<Res | undefined> {
    const match = api.match(req.method, req.path);
    if (!match) return api.hasPath(req.path) ? restError(405, 'Method Not Allowed', `${req.method} is not supported on ${req.path}`) : undefined;
    const token = bearerToken(req);
    const claims = token ? tokens.verify(token) : undefined;
    if (!claims) return restError(401, 'Unauthenticated', 'Authentication failed: a valid Bearer token is required (Authorization: Bearer <access token>)', 900902);
    const granted = claims.scope.split(' ');
    if (match.operation.scopes.length && !match.operation.scopes.some((s) => granted.includes(s))) {
      return restError(403, 'Forbidden', `The token lacks every scope this resource accepts: ${match.operation.scopes.join(', ')}`, 900910);
    }
    const parsed = parseJson(req);
    if (parsed === MALFORMED) return restError(400, 'Bad Request', 'Malformed request body: not valid JSON');
    const { body, problems } = api.bind(match, parsed, req.query, req.headers['content-type']);
    if (problems.length) return restError(400, 'Bad Request', problems.join('; '));
    const operation = operations[`${match.operation.method} ${match.operation.template}`];
    if (!operation) return restError(501, 'Not Implemented', `The carbon-labs stand-in does not implement ${match.operation.method} ${match.operation.template}`);
    return operation({ req, match, body, claims });
  }

  // ---------------------------------------------------------------- OAuth2 and DCR
  async function register(req: Req): Promise<Res> {
    const basic = basicCredentials(req);
    if (!basic || !(await authenticateUser(sharedDb, basic.user, basic.secret))) {
      return json(401, { error: 'invalid_client', error_description: 'Basic authentication of a user is required' });
    }
    const body = parseJson(req) as Record<string, unknown> | symbol | undefined;
    if (!body || typeof body === 'symbol' || typeof body.clientName !== 'string') {
      return json(400, { error: 'invalid_client_metadata', error_description: 'clientName is required' });
    }
    const owner = String(body.owner ?? basic.user);
    const [existing] = await rows(apimDb, 'SELECT * FROM IDN_OAUTH_CONSUMER_APPS WHERE APP_NAME = ? AND USERNAME = ?', [body.clientName, owner]);
    let row = existing;
    if (!row) {
      const key = randomBytes(14).toString('base64url');
      try {
        await exec(apimDb, 'INSERT INTO IDN_OAUTH_CONSUMER_APPS (CONSUMER_KEY, CONSUMER_SECRET, APP_NAME, USERNAME, GRANT_TYPES, CALLBACK_URL) VALUES (?,?,?,?,?,?)',
          [key, randomBytes(21).toString('base64url'), body.clientName, owner, String(body.grantType ?? 'client_credentials'), String(body.callbackUrl ?? '')]);
      } catch (err) {
        if (!isDuplicate(err)) throw err;
      }
      [row] = await rows(apimDb, 'SELECT * FROM IDN_OAUTH_CONSUMER_APPS WHERE APP_NAME = ? AND USERNAME = ?', [body.clientName, owner]);
    }
    return json(200, {
      clientId: row.CONSUMER_KEY, clientName: row.APP_NAME, callBackURL: row.CALLBACK_URL, clientSecret: row.CONSUMER_SECRET,
      isSaasApplication: body.saasApp !== false, appOwner: row.USERNAME,
      jsonString: JSON.stringify({ grant_types: row.GRANT_TYPES, redirect_uris: row.CALLBACK_URL, client_name: row.APP_NAME }),
      jsonAppAttribute: '{}', tokenType: null,
    });
  }

  async function token(req: Req): Promise<Res> {
    const basic = basicCredentials(req);
    const form = new URLSearchParams(req.rawBody);
    const clientId = basic?.user ?? form.get('client_id') ?? '';
    const clientSecret = basic?.secret ?? form.get('client_secret') ?? '';
    const [client] = await rows(apimDb, 'SELECT * FROM IDN_OAUTH_CONSUMER_APPS WHERE CONSUMER_KEY = ?', [clientId]);
    if (!client || client.CONSUMER_SECRET !== clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'A valid OAuth client could not be found for client_id' });
    }
    const grant = form.get('grant_type');
    const validity = Number(form.get('validity_period')) > 0 ? Number(form.get('validity_period')) : 3600;
    const requested = (form.get('scope') ?? 'default').split(/\s+/).filter(Boolean);
    let claims: Parameters<TokenIssuer['issue']>[0];
    if (grant === 'password') {
      const user = form.get('username') ?? '';
      if (!(await authenticateUser(sharedDb, user, form.get('password') ?? ''))) {
        return json(400, { error: 'invalid_grant', error_description: 'Authentication failed for the user' });
      }
      // The super admin holds every role, so every requested scope is granted.
      claims = { sub: user, azp: clientId, scope: requested.join(' ') };
    } else if (grant === 'client_credentials') {
      claims = client.APPLICATION_UUID
        ? { sub: String(client.USERNAME), azp: clientId, scope: requested.join(' '), application: { uuid: String(client.APPLICATION_UUID), name: String(client.APP_NAME) }, keytype: String(client.KEY_TYPE) }
        : { sub: String(client.USERNAME), azp: clientId, scope: requested.join(' ') };
    } else {
      return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant_type value: ${grant}` });
    }
    const issued = tokens.issue(claims, validity);
    return json(200, { access_token: issued.token, refresh_token: randomUUID(), scope: issued.claims.scope, token_type: 'Bearer', expires_in: validity });
  }

  // ---------------------------------------------------------------- internal data API for gateways
  async function internal(req: Req): Promise<Res> {
    const basic = basicCredentials(req);
    if (!basic || !(await authenticateUser(sharedDb, basic.user, basic.secret))) return restError(401, 'Unauthenticated', 'Basic authentication required');
    if (req.path === '/internal/data/v1/runtime-artifacts') {
      const label = req.query.get('gatewayLabel') ?? 'Default';
      const apiId = req.query.get('apiId');
      const deployed = await rows(apimDb,
        `SELECT d.API_UUID, d.REVISION_UUID, d.VHOST, r.API_DOC FROM AM_DEPLOYMENT_REVISION_MAPPING d
         JOIN AM_REVISION r ON r.REVISION_UUID = d.REVISION_UUID WHERE d.NAME = ? AND (? IS NULL OR d.API_UUID = ?)`, [label, apiId, apiId]);
      const list = [];
      for (const d of deployed) {
        // The API must still exist in this node's API store (a node that lost it cannot serve it).
        if (!(await apis.get(String(d.API_UUID)))) continue;
        const api = JSON.parse(String(d.API_DOC)) as ApiDoc;
        const subscribers = (await rows(apimDb, 'SELECT APPLICATION_UUID FROM AM_SUBSCRIPTION WHERE API_UUID = ?', [api.id])).map((s) => String(s.APPLICATION_UUID));
        list.push({ apiId: api.id, revisionId: d.REVISION_UUID, name: api.name, version: api.version, context: api.context, type: api.type ?? 'HTTP', vhost: d.VHOST, endpointConfig: api.endpointConfig, operations: api.operations ?? [], label, subscribers });
      }
      return json(200, { count: list.length, list });
    }
    if (req.path === '/internal/data/v1/subscriptions') {
      const list = await rows(apimDb, 'SELECT * FROM AM_SUBSCRIPTION WHERE API_UUID = ? AND APPLICATION_UUID = ?', [req.query.get('apiId'), req.query.get('applicationId')]);
      return json(200, { count: list.length, list: list.map(subscriptionOf) });
    }
    return NOT_DEPLOYED;
  }

  return async (req: Req): Promise<Res> => {
    if (req.method === 'POST' && req.path === '/client-registration/v0.17/register') return register(req);
    if (req.method === 'POST' && req.path === '/oauth2/token') return token(req);
    if (req.path.startsWith('/internal/data/v1/')) return internal(req);
    for (const [api, ops] of [[deps.publisher, publisher], [deps.devportal, devportal], [deps.admin, admin]] as const) {
      const res = await rest(api, ops, req);
      if (res) return res;
    }
    const portal = /^\/(publisher|devportal|admin|carbon)\/?/.exec(req.path)?.[1];
    if (req.method === 'GET' && portal) {
      return { status: 200, contentType: 'text/html', body: `<!doctype html><title>${portal} · carbon-labs stand-in</title><h1>${portal}</h1><p>${config.nodeName} (${config.profile}) of the carbon-labs stand-in for WSO2 API Manager 4.3.0.</p>` };
    }
    return NOT_DEPLOYED;
  };
}

function notFound(what: string, id: string): Res {
  return restError(404, 'Not Found', `Requested ${what} with Id '${id}' not found`);
}

function apiInfo(api: ApiDoc): Record<string, unknown> {
  return {
    id: api.id, name: api.name, description: api.description ?? '', context: api.context, version: api.version, provider: api.provider,
    type: api.type ?? 'HTTP', lifeCycleStatus: api.lifeCycleStatus, hasThumbnail: false, securityScheme: [], createdTime: api.createdTime,
    updatedTime: api.lastUpdatedTime, gatewayVendor: 'wso2', advertiseOnly: false, additionalProperties: [], additionalPropertiesMap: {},
  };
}

function applicationOf(row: Record<string, unknown>): Record<string, unknown> {
  return {
    applicationId: row.UUID, name: row.NAME, throttlingPolicy: row.APPLICATION_TIER, description: row.DESCRIPTION ?? '',
    tokenType: row.TOKEN_TYPE ?? 'JWT', status: 'APPROVED', groups: [], subscriptionCount: 0, keys: [], attributes: {},
    subscriptionScopes: [], owner: row.OWNER, hashEnabled: false,
  };
}

function subscriptionOf(row: Record<string, unknown>): Record<string, unknown> {
  return { subscriptionId: row.UUID, applicationId: row.APPLICATION_UUID, apiId: row.API_UUID, throttlingPolicy: row.TIER_ID, requestedThrottlingPolicy: row.TIER_ID, status: row.SUB_STATUS };
}
