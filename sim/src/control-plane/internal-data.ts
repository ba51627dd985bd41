import { definitionOf } from './definitions';
import type { Req, Res } from '../http';
import { basicCredentials, json, log, NOT_DEPLOYED, restError } from '../http';
import type { KeyManagerDto } from '../key-managers';
import type { ApiDoc, ApiStore } from '../store';
import type { UserStore } from '../users';
import type {
  ApplicationRepository,
  DefaultVersionRepository,
  OAuthClientRepository,
  RevisionRepository,
  RevokedTokenRepository,
  SubscriptionRepository,
} from './repositories';
import { gatewayApplicationOf, gatewayKeyMappingOf, internalSubscriptionOf } from './views';

/** What the gateways' internal data API works on. */
export interface InternalDataDeps {
  /** The user store: gateways authenticate as a user. */
  readonly users: UserStore;
  readonly apis: ApiStore;
  readonly revisions: RevisionRepository;
  readonly subscriptions: SubscriptionRepository;
  readonly applications: ApplicationRepository;
  readonly clients: OAuthClientRepository;
  /** The key managers as this node builds them on every read. */
  readonly keyManagers: () => Promise<KeyManagerDto[]>;
  readonly revoked: RevokedTokenRepository;
  readonly defaults: DefaultVersionRepository;
}

/**
 * `/internal/data/v1/*`, what gateways pull from the event hub's `service_url`: the runtime
 * artifacts deployed to a gateway label (at startup and on a deploy event), subscriptions, and the
 * key managers (at startup).
 */
export async function internalData(deps: InternalDataDeps, req: Req): Promise<Res> {
  const basic = basicCredentials(req);
  if (!basic || !(await deps.users.authenticate(basic.user, basic.secret)))
    return restError(401, 'Unauthenticated', 'Basic authentication required');
  if (req.path === '/internal/data/v1/keymanagers') {
    try {
      return json(200, await deps.keyManagers());
    } catch (err) {
      // KeymanagersApiServiceImpl: RestApiUtil.handleInternalServerError.
      log('ERROR', 'KeymanagersApiServiceImpl', `Error while retrieving key manager configurations: ${(err as Error).message}`);
      return restError(500, 'Internal Server Error', 'Error while retrieving key manager configurations');
    }
  }
  if (req.path === '/internal/data/v1/runtime-artifacts') {
    const label = req.query.get('gatewayLabel') ?? 'Default';
    const deployed = await deps.revisions.deployedTo(label, req.query.get('apiId'));
    const list = [];
    for (const d of deployed) {
      // The API must still exist in this node's API store (a node that lost it cannot serve it).
      const current = await deps.apis.get(String(d.API_UUID));
      if (!current) continue;
      const api = JSON.parse(String(d.API_DOC)) as ApiDoc;
      const subscribers = await deps.subscriptions.subscribers(api.id);
      // Default on gateways: the published default version (SubscriptionValidationDAO, carbon-apimgt 9.29.120).
      const isDefaultVersion = (await deps.defaults.get(api.name, String(api.provider)))?.published === api.version;
      list.push({
        apiId: api.id,
        revisionId: d.REVISION_UUID,
        name: api.name,
        version: api.version,
        context: api.context,
        type: api.type ?? 'HTTP',
        vhost: d.VHOST,
        endpointConfig: api.endpointConfig,
        operations: api.operations ?? [],
        label,
        subscribers,
        isDefaultVersion,
        provider: current.provider,
        policy: current.apiThrottlingPolicy ?? null,
        status: current.lifeCycleStatus,
        apiPolicies: api.apiPolicies,
        // The revision's definition, which the product's gateway holds with the API (its schema validator reads it).
        ...(api.enableSchemaValidation === true ? { enableSchemaValidation: true, definition: definitionOf(api) } : {}),
      });
    }
    return json(200, { count: list.length, list });
  }
  // The unexpired revoked tokens a gateway pulls when it starts (`RevokedJWTDTO`: signature, expiry).
  if (req.path === '/internal/data/v1/revokedjwt') {
    return json(
      200,
      (await deps.revoked.unexpired()).map((r) => ({
        jwt_signature: String(r.SIGNATURE),
        expiry_time: Number(r.EXPIRY_TIMESTAMP),
        type: 'JWT',
      })),
    );
  }
  // What a gateway's subscription data store loads at startup: every application, key mapping and
  // subscription (or the subscriptions of one API and/or application), with their integer ids.
  if (req.path === '/internal/data/v1/subscriptions') {
    const list = await deps.subscriptions.withIds({ apiId: req.query.get('apiId'), applicationId: req.query.get('applicationId') });
    return json(200, { count: list.length, list: list.map(internalSubscriptionOf) });
  }
  if (req.path === '/internal/data/v1/applications') {
    const list = (await deps.applications.all()).map(gatewayApplicationOf);
    return json(200, { count: list.length, list });
  }
  if (req.path === '/internal/data/v1/application-key-mappings') {
    const list = (await deps.clients.allKeyMappings()).map(gatewayKeyMappingOf);
    return json(200, { count: list.length, list });
  }
  return NOT_DEPLOYED;
}
