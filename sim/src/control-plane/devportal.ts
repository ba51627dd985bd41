import { randomBytes, randomUUID } from 'crypto';
import type { EventHub } from '../eventhub';
import { json, restError } from '../http';
import type { ApiStore } from '../store';
import type { TokenIssuer } from '../tokens';
import type { Operations } from './rest';
import type { ApplicationRepository, OAuthClientRepository, SubscriptionRepository } from './repositories';
import type { KeyManagerDto } from '../key-managers';
import { subscriptionIdsOf } from './repositories';
import {
  applicationOf,
  devportalApi,
  gatewayApplicationOf,
  gatewayKeyMappingOf,
  keyManagerInfo,
  notFound,
  paginated,
  subscriptionOf,
} from './views';

/** What the devportal's operations work on. */
export interface DevportalDeps {
  /** `[server] node_ip`: the origin of the events this node publishes. */
  readonly nodeName: string;
  readonly apis: ApiStore;
  readonly applications: ApplicationRepository;
  readonly subscriptions: SubscriptionRepository;
  readonly clients: OAuthClientRepository;
  readonly hub: EventHub;
  readonly tokens: TokenIssuer;
  /** The key managers of the organization, as gateways get them (the Resident Key Manager). */
  readonly keyManagers: () => Promise<readonly KeyManagerDto[]>;
}

/** Lifecycle states in which the devportal shows an API, so it can be subscribed to. */
const SUBSCRIBABLE = ['PUBLISHED', 'PROTOTYPED'];
/** Lifecycle states in which the devportal shows an API (carbon-apimgt 9.29.120 devportal ApisApiServiceImpl.getAPIByAPIId). */
const VISIBLE = [...SUBSCRIBABLE, 'DEPRECATED'];

/** The operations of the devportal REST API v3 that the stand-in implements. */
export function devportalOperations(deps: DevportalDeps): Operations {
  const { nodeName, apis, applications, subscriptions, clients, hub, tokens, keyManagers } = deps;
  return {
    async 'GET /apis/{apiId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      // An API in another state exists but is not shown: 403, not 404.
      return VISIBLE.includes(api.lifeCycleStatus)
        ? json(200, devportalApi(api))
        : restError(403, 'Forbidden', `You don't have permission to access the API with Id ${api.id}`);
    },
    async 'GET /key-managers'() {
      const list = (await keyManagers()).map(keyManagerInfo);
      return json(200, { count: list.length, list });
    },
    async 'GET /applications/{applicationId}'({ match, claims }) {
      const app = await applications.getOwned(match.params.applicationId, claims.sub);
      return app ? json(200, applicationOf(app)) : notFound('Application', match.params.applicationId);
    },
    async 'PUT /applications/{applicationId}'({ match, body, claims }) {
      const app = await applications.getOwned(match.params.applicationId, claims.sub);
      if (!app) return notFound('Application', match.params.applicationId);
      const input = body as Record<string, string>;
      const updated = await applications.update(String(app.UUID), {
        name: input.name,
        throttlingPolicy: input.throttlingPolicy,
        description: input.description ?? '',
        tokenType: input.tokenType ?? String(app.TOKEN_TYPE ?? 'JWT'),
      });
      // 409 as the product answers it (a code the OpenAPI file does not list for PUT).
      if (!updated) return restError(409, 'Resource Already Exists', `An application already exists with name ${input.name}`);
      const row = (await applications.get(String(app.UUID)))!;
      hub.publish({
        type: 'APPLICATION_UPDATE',
        eventId: randomUUID(),
        apiId: '',
        applicationId: String(app.UUID),
        application: gatewayApplicationOf(row),
        labels: [],
        origin: nodeName,
      });
      return json(200, applicationOf(row));
    },
    // Its subscriptions, keys and OAuth clients go with it; gateways hear that it is gone.
    async 'DELETE /applications/{applicationId}'({ match, claims }) {
      const app = await applications.getOwned(match.params.applicationId, claims.sub);
      if (!app) return notFound('Application', match.params.applicationId);
      await applications.delete(String(app.UUID));
      hub.publish({
        type: 'APPLICATION_DELETE',
        eventId: randomUUID(),
        apiId: '',
        applicationId: String(app.UUID),
        labels: [],
        origin: nodeName,
      });
      return json(200);
    },
    async 'GET /applications'({ claims }) {
      return json(200, paginated((await applications.listOwnedBy(claims.sub)).map(applicationOf)));
    },
    async 'POST /applications'({ body, claims }) {
      const input = body as Record<string, string>;
      const id = randomUUID();
      const inserted = await applications.insert({
        id,
        name: input.name,
        owner: claims.sub,
        throttlingPolicy: input.throttlingPolicy,
        description: input.description ?? '',
        tokenType: input.tokenType ?? 'JWT',
      });
      if (!inserted) return restError(409, 'Conflict', `A duplicate application already exists by the name - ${input.name}`);
      const row = (await applications.get(id))!;
      // Gateways keep every application (their REST API lists them), not only subscribed ones.
      hub.publish({
        type: 'APPLICATION_CREATE',
        eventId: randomUUID(),
        apiId: '',
        applicationId: id,
        application: gatewayApplicationOf(row),
        labels: [],
        origin: nodeName,
      });
      return { status: 201, body: applicationOf(row), headers: { location: `/api/am/devportal/v3/applications/${id}` } };
    },
    async 'GET /subscriptions'({ req }) {
      const list = await subscriptions.list({ apiId: req.query.get('apiId'), applicationId: req.query.get('applicationId') });
      return json(200, paginated(list.map(subscriptionOf)));
    },
    async 'POST /subscriptions'({ body, claims }) {
      const input = body as Record<string, string>;
      const api = await apis.get(input.apiId);
      if (!api || !SUBSCRIBABLE.includes(api.lifeCycleStatus)) return notFound('API', input.apiId);
      const app = await applications.getOwned(input.applicationId, claims.sub);
      if (!app) return notFound('Application', input.applicationId);
      const id = randomUUID();
      const inserted = await subscriptions.insert({
        id,
        apiId: api.id,
        applicationId: String(app.UUID),
        throttlingPolicy: input.throttlingPolicy,
        status: 'UNBLOCKED',
      });
      if (!inserted) return restError(409, 'Conflict', `Subscription already exists for API ${api.name} and application ${app.NAME}`);
      const row = (await subscriptions.get(id))!;
      hub.publish({
        type: 'SUBSCRIPTIONS_CREATE',
        eventId: randomUUID(),
        apiId: api.id,
        applicationId: String(app.UUID),
        status: 'UNBLOCKED',
        policy: String(input.throttlingPolicy ?? 'Unlimited'),
        subscriptionIds: subscriptionIdsOf(row),
        labels: [],
        origin: nodeName,
      });
      return { status: 201, body: subscriptionOf(row), headers: { location: `/api/am/devportal/v3/subscriptions/${id}` } };
    },
    // As the product removes one with workflows off (carbon-apimgt 9.29.120 devportal
    // SubscriptionsApiServiceImpl.subscriptionsSubscriptionIdDelete, APIConsumerImpl.removeSubscription):
    // 404 unknown, 403 another's application; the row goes, and gateways hear SUBSCRIPTIONS_DELETE.
    async 'DELETE /subscriptions/{subscriptionId}'({ match, claims }) {
      const sub = await subscriptions.get(match.params.subscriptionId);
      if (!sub) return notFound('Subscription', match.params.subscriptionId);
      if (!(await applications.getOwned(String(sub.APPLICATION_UUID), claims.sub))) {
        return restError(403, 'Forbidden', `You don't have permission to access the subscription with Id ${match.params.subscriptionId}`);
      }
      await subscriptions.delete(String(sub.UUID));
      hub.publish({
        type: 'SUBSCRIPTIONS_DELETE',
        eventId: randomUUID(),
        apiId: String(sub.API_UUID),
        applicationId: String(sub.APPLICATION_UUID),
        status: String(sub.SUB_STATUS),
        policy: String(sub.TIER_ID ?? 'Unlimited'),
        subscriptionIds: subscriptionIdsOf(sub),
        labels: [],
        origin: nodeName,
      });
      return json(200);
    },
    async 'POST /applications/{applicationId}/generate-keys'({ match, body, claims }) {
      const input = body as {
        keyType: string;
        keyManager?: string;
        grantTypesToBeSupported: string[];
        callbackUrl?: string;
        scopes?: string[];
      };
      const app = await applications.getOwned(match.params.applicationId, claims.sub);
      if (!app) return notFound('Application', match.params.applicationId);
      const keyManager = input.keyManager ?? 'Resident Key Manager';
      const consumerKey = randomBytes(14).toString('base64url');
      const consumerSecret = randomBytes(21).toString('base64url');
      const mappingId = randomUUID();
      const mapped = await clients.addKeyMapping({
        id: mappingId,
        applicationId: String(app.UUID),
        consumerKey,
        keyType: input.keyType,
        keyManager,
      });
      if (!mapped)
        return restError(409, 'Conflict', `Key Mappings already exists for application ${app.NAME} with keyType ${input.keyType}`);
      await clients.addForApplication({
        consumerKey,
        consumerSecret,
        appName: `${claims.sub}_${app.NAME}_${input.keyType}`,
        owner: claims.sub,
        grantTypes: input.grantTypesToBeSupported.join(' '),
        callbackUrl: input.callbackUrl ?? '',
        applicationId: String(app.UUID),
        keyType: input.keyType,
      });
      const mapping = await clients.keyMappingOf(String(app.UUID), input.keyType, keyManager);
      if (mapping)
        hub.publish({
          type: 'APPLICATION_REGISTRATION_CREATE',
          eventId: randomUUID(),
          apiId: '',
          applicationId: String(app.UUID),
          keyMapping: gatewayKeyMappingOf(mapping),
          labels: [],
          origin: nodeName,
        });
      return json(200, {
        keyMappingId: mappingId,
        keyManager,
        consumerKey,
        consumerSecret,
        supportedGrantTypes: input.grantTypesToBeSupported,
        callbackUrl: input.callbackUrl ?? '',
        keyState: 'COMPLETED',
        keyType: input.keyType,
        mode: 'CREATED',
        groupId: '',
        token: { accessToken: '', tokenScopes: [], validityTime: 3600 },
        additionalProperties: {},
      });
    },
    async 'POST /applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token'({ match, body, claims }) {
      const input = (body ?? {}) as { consumerSecret?: string; validityPeriod?: number; scopes?: string[] };
      const mapping = await clients.keyMapping(match.params.keyMappingId, match.params.applicationId, claims.sub);
      if (!mapping) return notFound('Key mapping', match.params.keyMappingId);
      if (input.consumerSecret !== undefined && input.consumerSecret !== mapping.CONSUMER_SECRET)
        return restError(400, 'Bad Request', 'Invalid consumer secret');
      const validity = input.validityPeriod && input.validityPeriod > 0 ? input.validityPeriod : 3600;
      const scopes = input.scopes?.length ? input.scopes : ['default'];
      const { token } = tokens.issue(
        {
          sub: claims.sub,
          azp: String(mapping.CONSUMER_KEY),
          scope: scopes.join(' '),
          application: { uuid: String(mapping.APPLICATION_UUID), name: String(mapping.APP_NAME) },
          keytype: String(mapping.KEY_TYPE),
        },
        validity,
      );
      return json(200, { accessToken: token, tokenScopes: scopes, validityTime: validity });
    },
  };
}
