import { randomBytes, randomUUID } from 'crypto';
import type { EventHub } from '../eventhub';
import { json, restError } from '../http';
import type { ApiStore } from '../store';
import type { TokenIssuer } from '../tokens';
import type { Operations } from './rest';
import type { ApplicationRepository, OAuthClientRepository, SubscriptionRepository } from './repositories';
import { applicationOf, notFound, paginated, subscriptionOf } from './views';

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
}

/** Lifecycle states in which the devportal shows an API, so it can be subscribed to. */
const SUBSCRIBABLE = ['PUBLISHED', 'PROTOTYPED'];

/** The operations of the devportal REST API v3 that the stand-in implements. */
export function devportalOperations(deps: DevportalDeps): Operations {
  const { nodeName, apis, applications, subscriptions, clients, hub, tokens } = deps;
  return {
    async 'GET /applications'({ claims }) {
      return json(200, paginated((await applications.listOwnedBy(claims.sub)).map(applicationOf)));
    },
    async 'POST /applications'({ body, claims }) {
      const input = body as Record<string, string>;
      const id = randomUUID();
      const inserted = await applications.insert({
        id, name: input.name, owner: claims.sub, throttlingPolicy: input.throttlingPolicy,
        description: input.description ?? '', tokenType: input.tokenType ?? 'JWT',
      });
      if (!inserted) return restError(409, 'Conflict', `A duplicate application already exists by the name - ${input.name}`);
      const row = await applications.get(id);
      return { status: 201, body: applicationOf(row!), headers: { location: `/api/am/devportal/v3/applications/${id}` } };
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
        id, apiId: api.id, applicationId: String(app.UUID), throttlingPolicy: input.throttlingPolicy, status: 'UNBLOCKED',
      });
      if (!inserted) return restError(409, 'Conflict', `Subscription already exists for API ${api.name} and application ${app.NAME}`);
      hub.publish({ type: 'SUBSCRIPTIONS_CREATE', eventId: randomUUID(), apiId: api.id, applicationId: String(app.UUID), labels: [], origin: nodeName });
      const row = await subscriptions.get(id);
      return { status: 201, body: subscriptionOf(row!), headers: { location: `/api/am/devportal/v3/subscriptions/${id}` } };
    },
    async 'POST /applications/{applicationId}/generate-keys'({ match, body, claims }) {
      const input = body as { keyType: string; keyManager?: string; grantTypesToBeSupported: string[]; callbackUrl?: string; scopes?: string[] };
      const app = await applications.getOwned(match.params.applicationId, claims.sub);
      if (!app) return notFound('Application', match.params.applicationId);
      const keyManager = input.keyManager ?? 'Resident Key Manager';
      const consumerKey = randomBytes(14).toString('base64url');
      const consumerSecret = randomBytes(21).toString('base64url');
      const mappingId = randomUUID();
      const mapped = await clients.addKeyMapping({ id: mappingId, applicationId: String(app.UUID), consumerKey, keyType: input.keyType, keyManager });
      if (!mapped) return restError(409, 'Conflict', `Key Mappings already exists for application ${app.NAME} with keyType ${input.keyType}`);
      await clients.addForApplication({
        consumerKey, consumerSecret, appName: `${claims.sub}_${app.NAME}_${input.keyType}`, owner: claims.sub,
        grantTypes: input.grantTypesToBeSupported.join(' '), callbackUrl: input.callbackUrl ?? '', applicationId: String(app.UUID), keyType: input.keyType,
      });
      return json(200, {
        keyMappingId: mappingId, keyManager, consumerKey, consumerSecret, supportedGrantTypes: input.grantTypesToBeSupported,
        callbackUrl: input.callbackUrl ?? '', keyState: 'COMPLETED', keyType: input.keyType, mode: 'CREATED', groupId: '',
        token: { accessToken: '', tokenScopes: [], validityTime: 3600 }, additionalProperties: {},
      });
    },
    async 'POST /applications/{applicationId}/oauth-keys/{keyMappingId}/generate-token'({ match, body, claims }) {
      const input = (body ?? {}) as { consumerSecret?: string; validityPeriod?: number; scopes?: string[] };
      const mapping = await clients.keyMapping(match.params.keyMappingId, match.params.applicationId, claims.sub);
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
}
