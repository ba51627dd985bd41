import { randomBytes, randomUUID } from 'crypto';
import { readFileSync } from 'fs';
import { load } from 'js-yaml';
import type { Req, Res } from '../http';
import { bearerToken, json, log, parseJson, restError } from '../http';
import type {
  ApplicationRepository,
  OAuthClientRepository,
  SubscriptionRepository,
  ThrottlePolicyRepository,
} from '../control-plane/repositories';
import type { ApiDoc, ApiStore } from '../store';
import { Conflict } from '../store';
import type { AccessToken, AccessTokens } from './key-manager';
import { isLive } from './key-manager';

/**
 * The REST APIs v0.14 of a classic manager (APIM 2.6.0: carbon-apimgt 6.4.50 `publisher-api.yaml`
 * and `store-api.yaml`, swagger 2.0): routes and each operation's `x-scope` from the file, an
 * active opaque token, the body's required properties (`required`, through `allOf`), then the
 * operations the stand-in implements (501 for the others). A publish pushes the API's Synapse
 * file to every gateway environment through `APIGatewayAdmin`, as APIGatewayManager does.
 */

type Parameter = { in: string; name: string; required?: boolean; schema?: SchemaObject };
type Swagger = {
  basePath: string;
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, SchemaObject>;
  parameters?: Record<string, Parameter>;
};
type SwaggerOperation = { 'x-scope'?: string; parameters?: (Parameter | { $ref: string })[] };
type SchemaObject = { $ref?: string; required?: string[]; allOf?: SchemaObject[] };

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  names: string[];
  scope?: string;
  body?: { required: boolean; fields: string[] };
  query: string[];
}

/** One v0.14 REST API as its swagger file describes it. */
export class V014Api {
  readonly basePath: string;
  private readonly routes: Route[] = [];

  constructor(file: string) {
    const spec = load(readFileSync(file, 'utf8')) as Swagger;
    this.basePath = spec.basePath;
    const requiredOf = (schema: SchemaObject | undefined): string[] => {
      if (!schema) return [];
      const own = schema.required ?? [];
      const target = schema.$ref ? spec.definitions[schema.$ref.replace('#/definitions/', '')] : undefined;
      return [...own, ...requiredOf(target), ...(schema.allOf ?? []).flatMap(requiredOf)];
    };
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!op || typeof op !== 'object' || !['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
        const names: string[] = [];
        const pattern = template.replace(/\{([^}]+)\}/g, (_, n: string) => {
          names.push(n);
          return '([^/]+)';
        });
        // Shared parameters (`$ref: '#/parameters/apiId-Q'`) are the file's own.
        const params = (op.parameters ?? [])
          .map((p) => ('$ref' in p ? spec.parameters?.[p.$ref.replace('#/parameters/', '')] : p))
          .filter((p): p is Parameter => !!p);
        const body = params.find((p) => p.in === 'body');
        this.routes.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${pattern}$`),
          names,
          scope: op['x-scope'],
          body: body ? { required: !!body.required, fields: [...new Set(requiredOf(body.schema))] } : undefined,
          query: params.filter((p) => p.in === 'query' && p.required).map((p) => p.name),
        });
      }
    }
    this.routes.sort((a, b) => a.names.length - b.names.length);
  }

  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'other-method' | undefined {
    if (!path.startsWith(this.basePath)) return undefined;
    const rest = path.slice(this.basePath.length) || '/';
    let other = false;
    for (const route of this.routes) {
      const m = route.regex.exec(rest);
      if (!m) continue;
      if (route.method !== method) {
        other = true;
        continue;
      }
      return { route, params: Object.fromEntries(route.names.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return other ? 'other-method' : undefined;
  }
}

export interface V014Call {
  readonly req: Req;
  readonly params: Record<string, string>;
  readonly body: Record<string, unknown>;
  readonly token: AccessToken;
}
export type V014Operations = Readonly<Record<string, (call: V014Call) => Promise<Res>>>;

/** Serves a request to one v0.14 API, or undefined when none of its paths matches. */
export async function dispatchV014(api: V014Api, operations: V014Operations, tokens: AccessTokens, req: Req): Promise<Res | undefined> {
  const found = api.match(req.method, req.path);
  if (!found) return undefined;
  if (found === 'other-method') return restError(405, 'Method Not Allowed', `${req.method} is not supported on ${req.path}`);
  const { route, params } = found;
  const value = bearerToken(req);
  const token = value ? await tokens.get(value) : undefined;
  if (!token || !isLive(token))
    return restError(
      401,
      'Unauthenticated',
      'Invalid Credentials. Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN"',
      900901,
    );
  if (route.scope && !token.scope.split(' ').includes(route.scope))
    return restError(
      401,
      'Unauthenticated',
      `You are not authorized to access this resource: the token lacks the scope ${route.scope}`,
      900910,
    );
  const missingQuery = route.query.filter((q) => !req.query.get(q));
  if (missingQuery.length) return restError(400, 'Bad Request', `Missing required query parameter(s): ${missingQuery.join(', ')}`);
  let body: Record<string, unknown> = {};
  if (route.body) {
    const parsed = parseJson(req);
    if (typeof parsed === 'symbol') return restError(400, 'Bad Request', 'Malformed request body: not valid JSON');
    if (parsed === undefined && route.body.required) return restError(400, 'Bad Request', 'The request body is required');
    if (parsed !== undefined && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)))
      return restError(400, 'Bad Request', 'The request body must be a JSON object');
    body = (parsed ?? {}) as Record<string, unknown>;
    const missing = route.body.fields.filter((f) => body[f] === undefined || body[f] === null);
    if (missing.length) return restError(400, 'Bad Request', missing.map((f) => `${f} may not be null`).join('; '));
  }
  const operation = operations[`${route.method} ${route.template}`];
  if (!operation)
    return restError(
      501,
      'Not Implemented',
      `The carbon-labs stand-in does not implement ${route.method} ${route.template} of ${api.basePath}`,
    );
  return operation({ req, params, body, token });
}

/** What a publish does beyond the state: push the API to every gateway environment (APIGatewayManager); the failures. */
export interface Publisher {
  push(api: ApiDoc): Promise<string[]>;
}

/** The API's production endpoint URL, from its `endpointConfig` (a JSON string in v0.14). */
export function endpointOf(api: Record<string, unknown>): string | undefined {
  try {
    const config = JSON.parse(String(api.endpointConfig)) as { production_endpoints?: { url?: string } };
    return config.production_endpoints?.url;
  } catch {
    return undefined;
  }
}

const apiDto = (api: ApiDoc) => {
  const { lifeCycleStatus, ...rest } = api;
  return { ...rest, status: lifeCycleStatus };
};

/** A subscription as publisher and store v0.14 show it (`SubscriptionMappingUtil.fromSubscriptionToDTO`). */
async function subscriptionDto(apis: ApiStore, sub: Record<string, unknown>) {
  const api = await apis.get(String(sub.API_UUID));
  return {
    subscriptionId: String(sub.UUID),
    applicationId: String(sub.APPLICATION_UUID),
    tier: String(sub.TIER_ID ?? 'Unlimited'),
    status: String(sub.SUB_STATUS),
    apiIdentifier: api ? `${String(api.provider)}-${api.name}-${api.version}` : String(sub.API_UUID),
  };
}

/**
 * The publisher v0.14 operations the stand-in implements: create, list, get and publish APIs;
 * block and unblock a subscription (SubscriptionsApiServiceImpl l.110-171: the status written,
 * nothing told to any gateway, `APIProviderImpl.updateSubscription` l.2772-2774).
 */
export function publisherV014(deps: { apis: ApiStore; publisher: Publisher; subscriptions: SubscriptionRepository }): V014Operations {
  const setStatus = async (req: Req, status: string): Promise<Res> => {
    const id = req.query.get('subscriptionId')!;
    const sub = await deps.subscriptions.get(id);
    if (!sub) return restError(404, 'Not Found', `Requested subscription with Id '${id}' not found`);
    await deps.subscriptions.setStatus(id, status);
    return json(200, await subscriptionDto(deps.apis, { ...sub, SUB_STATUS: status }));
  };
  return {
    'POST /subscriptions/block-subscription': async ({ req }) => {
      const state = req.query.get('blockState')!;
      // The product writes any value it is given (and then fails to show it); the stand-in refuses what the file's enum does not list.
      if (!['BLOCKED', 'PROD_ONLY_BLOCKED'].includes(state))
        return restError(400, 'Bad Request', `blockState must be BLOCKED or PROD_ONLY_BLOCKED (got ${state})`);
      return setStatus(req, state);
    },
    'POST /subscriptions/unblock-subscription': async ({ req }) => setStatus(req, 'UNBLOCKED'),
    'POST /apis': async ({ body, token }) => {
      const context = `/${String(body.context).replace(/^\/+|\/+$/g, '')}`;
      if (!endpointOf(body)) return restError(400, 'Bad Request', 'endpointConfig has no production_endpoints url');
      const api: ApiDoc = {
        ...body,
        id: randomUUID(),
        name: String(body.name),
        context,
        version: String(body.version),
        provider: String(body.provider ?? token.user),
        lifeCycleStatus: 'CREATED',
      };
      delete (api as Record<string, unknown>).status;
      try {
        await deps.apis.insert(api);
      } catch (err) {
        if (err instanceof Conflict) return restError(409, 'Conflict', err.message);
        throw err;
      }
      return { ...json(201, apiDto(api)), headers: { location: `/api/am/publisher/v0.14/apis/${api.id}` } };
    },
    'GET /apis': async ({ req }) => {
      const limit = Number(req.query.get('limit') ?? 25);
      const offset = Number(req.query.get('offset') ?? 0);
      const all = await deps.apis.list();
      const list = all.slice(offset, offset + limit).map((a) => ({
        id: a.id,
        name: a.name,
        description: a.description ?? null,
        context: a.context,
        version: a.version,
        provider: a.provider,
        status: a.lifeCycleStatus,
        thumbnailUri: null,
      }));
      return json(200, { count: list.length, next: '', previous: '', list, pagination: { offset, limit, total: all.length } });
    },
    'GET /apis/{apiId}': async ({ params }) => {
      const api = await deps.apis.get(params.apiId);
      return api ? json(200, apiDto(api)) : restError(404, 'Not Found', `Requested API with Id '${params.apiId}' not found`);
    },
    // ApisApiServiceImpl.apisApiIdPut: the API as given (its tiers among what changes), its id,
    // provider and state kept; a published API goes to the gateways again (APIProviderImpl.updateAPI).
    'PUT /apis/{apiId}': async ({ params, body }) => {
      const api = await deps.apis.get(params.apiId);
      if (!api) return restError(404, 'Not Found', `Requested API with Id '${params.apiId}' not found`);
      if (body.context !== undefined && `/${String(body.context).replace(/^\/+|\/+$/g, '')}` !== api.context)
        return restError(400, 'Bad Request', 'The context of an API cannot be changed');
      const updated: ApiDoc = {
        ...api,
        ...body,
        id: api.id,
        name: api.name,
        context: api.context,
        version: api.version,
        provider: api.provider,
        lifeCycleStatus: api.lifeCycleStatus,
      };
      delete (updated as Record<string, unknown>).status;
      await deps.apis.update(updated);
      if (api.lifeCycleStatus === 'PUBLISHED') {
        const failed = await deps.publisher.push(updated);
        if (failed.length)
          return restError(500, 'Internal Server Error', `Error while updating the API in the gateway: ${failed.join('; ')}`);
      }
      return json(200, apiDto(updated));
    },
    'POST /apis/change-lifecycle': async ({ req }) => {
      const id = req.query.get('apiId')!;
      const action = req.query.get('action')!;
      const api = await deps.apis.get(id);
      if (!api) return restError(404, 'Not Found', `Requested API with Id '${id}' not found`);
      if (action !== 'Publish')
        return restError(501, 'Not Implemented', `The carbon-labs stand-in implements the Publish action only (asked: ${action})`);
      // ApisApiServiceImpl l.345-348: an action the API's state does not offer is a 400 (Publish is
      // offered from CREATED and PROTOTYPED; a PUBLISHED API offers Block, Deprecate, Demote...).
      if (!['CREATED', 'PROTOTYPED'].includes(api.lifeCycleStatus))
        return restError(400, 'Bad Request', `Action '${action}' is not allowed for an API in state ${api.lifeCycleStatus}`);
      const failed = await deps.publisher.push(api);
      // APIProviderImpl: gateway failures leave the state changed and surface as FaultGatewaysException, a 500.
      await deps.apis.update({ ...api, lifeCycleStatus: 'PUBLISHED' });
      if (failed.length) return restError(500, 'Internal Server Error', `Error while publishing to the gateway: ${failed.join('; ')}`);
      log('INFO', 'APIProviderImpl', `API ${api.name}:${api.version} published`);
      return { status: 200 };
    },
  };
}

/**
 * The store v0.14 operations the stand-in implements: applications, their keys, subscriptions. A
 * new subscription clears the application's tokens from every gateway environment's cache
 * (`tokensChanged`: APIConsumerImpl.addSubscription l.2341 → CacheInvalidator, asynchronously).
 */
export function storeV014(deps: {
  apis: ApiStore;
  applications: ApplicationRepository;
  subscriptions: SubscriptionRepository;
  clients: OAuthClientRepository;
  tokens: AccessTokens;
  tokensChanged: (applicationId: string) => void;
}): V014Operations {
  const ownApplication = async (id: string, user: string) => deps.applications.getOwned(id, user);
  return {
    'POST /applications': async ({ body, token }) => {
      const id = randomUUID();
      const app = {
        id,
        name: String(body.name),
        owner: token.user,
        throttlingPolicy: String(body.throttlingTier),
        description: String(body.description ?? ''),
        tokenType: 'OAUTH',
      };
      if (!(await deps.applications.insert(app))) return restError(409, 'Conflict', `An application with name ${app.name} already exists`);
      return {
        ...json(201, {
          applicationId: id,
          name: app.name,
          subscriber: app.owner,
          throttlingTier: app.throttlingPolicy,
          description: app.description,
          status: 'APPROVED',
          groupId: '',
          tokenType: 'OAUTH',
          keys: [],
        }),
        headers: { location: `/api/am/store/v0.14/applications/${id}` },
      };
    },
    'POST /applications/generate-keys': async ({ req, body, token }) => {
      const applicationId = req.query.get('applicationId')!;
      const app = await ownApplication(applicationId, token.user);
      if (!app) return restError(404, 'Not Found', `Requested application with Id '${applicationId}' not found`);
      const keyType = String(body.keyType);
      if (await deps.clients.keyMappingOf(applicationId, keyType, 'Default'))
        return restError(409, 'Conflict', `Application ${app.NAME} is already registered for ${keyType} keys`);
      const consumerKey = randomBytes(14).toString('base64url');
      const consumerSecret = randomBytes(14).toString('base64url');
      const grants = Array.isArray(body.supportedGrantTypes)
        ? (body.supportedGrantTypes as string[])
        : ['client_credentials', 'password', 'refresh_token'];
      await deps.clients.addForApplication({
        consumerKey,
        consumerSecret,
        appName: `${token.user}_${app.NAME}_${keyType}`,
        owner: token.user,
        grantTypes: grants.join(' '),
        callbackUrl: String(body.callbackUrl ?? ''),
        applicationId,
        keyType,
      });
      await deps.clients.addKeyMapping({ id: randomUUID(), applicationId, consumerKey, keyType, keyManager: 'Default' });
      const validitySeconds = Number(body.validityTime) > 0 ? Number(body.validityTime) : 3600;
      const scopes = Array.isArray(body.scopes) && body.scopes.length ? (body.scopes as string[]) : ['am_application_scope', 'default'];
      const issued = await deps.tokens.issue({
        consumerKey,
        user: token.user,
        scope: scopes.join(' '),
        validitySeconds,
        grantType: 'client_credentials',
      });
      return json(200, {
        consumerKey,
        consumerSecret,
        supportedGrantTypes: grants,
        callbackUrl: body.callbackUrl ?? null,
        keyState: 'APPROVED',
        keyType,
        groupId: null,
        token: { accessToken: issued.token, tokenScopes: scopes, validityTime: validitySeconds },
      });
    },
    'POST /subscriptions': async ({ body, token }) => {
      const app = await ownApplication(String(body.applicationId), token.user);
      if (!app) return restError(404, 'Not Found', `Requested application with Id '${String(body.applicationId)}' not found`);
      const identifier = String(body.apiIdentifier);
      const api = (await deps.apis.list()).find(
        (a) => a.id === identifier || `${String(a.provider)}-${a.name}-${a.version}` === identifier,
      );
      if (!api || api.lifeCycleStatus !== 'PUBLISHED')
        return restError(404, 'Not Found', `Requested API with Id '${identifier}' not found`);
      const id = randomUUID();
      if (
        !(await deps.subscriptions.insert({
          id,
          apiId: api.id,
          applicationId: String(body.applicationId),
          throttlingPolicy: String(body.tier),
          status: 'UNBLOCKED',
        }))
      ) {
        return restError(409, 'Conflict', `Application ${app.NAME} is already subscribed to API ${api.name}:${api.version}`);
      }
      deps.tokensChanged(String(body.applicationId));
      return {
        ...json(201, {
          subscriptionId: id,
          applicationId: body.applicationId,
          apiIdentifier: identifier,
          tier: body.tier,
          status: 'UNBLOCKED',
        }),
        headers: { location: `/api/am/store/v0.14/subscriptions/${id}` },
      };
    },
  };
}

/**
 * The admin v0.14 operations the stand-in implements: adding subscription and application
 * throttling policies of a request count (carbon-apimgt 6.4.50 `admin-api.yaml` l.105-320, 682-899:
 * `defaultLimit` flat, `{type: RequestCountLimit, timeUnit, unitTime, requestCount}`; a name taken:
 * 409, ThrottlingApiServiceImpl l.465-501). A policy is deployed to the traffic managers when it is
 * added (APIProviderImpl.addPolicy l.4594-4672): here every manager's traffic manager reads it from
 * WSO2AM_DB.
 */
export function adminV014(deps: { policies: ThrottlePolicyRepository }): V014Operations {
  const add =
    (level: 'subscription' | 'application') =>
    async ({ body }: V014Call): Promise<Res> => {
      const limit = body.defaultLimit as { type?: unknown; timeUnit?: unknown; unitTime?: unknown; requestCount?: unknown };
      if (limit.type !== 'RequestCountLimit')
        return restError(400, 'Bad Request', `The carbon-labs stand-in adds RequestCountLimit policies only (got ${String(limit.type)})`);
      if (
        !['sec', 'min', 'hour', 'day'].includes(String(limit.timeUnit)) ||
        !Number.isInteger(limit.unitTime) ||
        !Number.isInteger(limit.requestCount)
      )
        return restError(
          400,
          'Bad Request',
          'defaultLimit needs timeUnit (sec, min, hour or day), a whole unitTime and a whole requestCount',
        );
      const id = randomUUID();
      const name = String(body.policyName);
      const added = await deps.policies.add(level, {
        id,
        name,
        displayName: String(body.displayName ?? name),
        description: String(body.description ?? ''),
        requestCount: Number(limit.requestCount),
        unitTime: Number(limit.unitTime),
        timeUnit: String(limit.timeUnit),
        stopOnQuotaReach: body.stopOnQuotaReach === true,
      });
      if (!added)
        return restError(
          409,
          'Conflict',
          `${level === 'application' ? 'Application' : 'Subscription'} Policy with name ${name} already exists`,
        );
      log(
        'INFO',
        'APIProviderImpl',
        `${level} policy ${name} added and deployed (${String(limit.requestCount)} per ${String(limit.unitTime)} ${String(limit.timeUnit)})`,
      );
      return {
        ...json(201, { ...body, policyId: id, displayName: String(body.displayName ?? name), isDeployed: true }),
        headers: { location: `/api/am/admin/v0.14/throttling/policies/${level}/${id}` },
      };
    };
  return {
    'POST /throttling/policies/subscription': add('subscription'),
    'POST /throttling/policies/application': add('application'),
  };
}
