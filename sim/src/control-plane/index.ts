import type { Pool } from 'mysql2/promise';
import type { NodeConfig } from '../config';
import type { EventHub } from '../eventhub';
import type { Handler, Req, Res } from '../http';
import { NOT_DEPLOYED } from '../http';
import type { RestApi } from '../spec';
import type { ApiStore } from '../store';
import type { TokenIssuer } from '../tokens';
import { adminOperations } from './admin';
import { devportalOperations } from './devportal';
import { internalData } from './internal-data';
import { register, token } from './oauth';
import { publisherOperations } from './publisher';
import { ApplicationRepository, EnvironmentRepository, OAuthClientRepository, RevisionRepository, SubscriptionRepository } from './repositories';
import type { Operations } from './rest';
import { dispatch } from './rest';

export { authenticateUser, ensureSuperAdmin, passwordHash } from './users';

/** What a control plane serves from: its node's settings, its databases, event hub, token issuer and REST specs. */
export interface ControlPlaneDeps {
  readonly config: NodeConfig;
  /** WSO2AM_DB: APIs, revisions, applications, subscriptions, OAuth clients, environments. */
  readonly apimDb: Pool;
  /** WSO2_SHARED_DB: the user store. */
  readonly sharedDb: Pool;
  readonly apis: ApiStore;
  readonly hub: EventHub;
  readonly tokens: TokenIssuer;
  readonly publisher: RestApi;
  readonly devportal: RestApi;
  readonly admin: RestApi;
}

/**
 * The control-plane profile's webapps: DCR and the token endpoint of the resident key manager,
 * the gateways' internal data API, the publisher v4, devportal v3 and admin v4 REST APIs, and a
 * placeholder page for each portal. Anything else is a webapp that is not deployed.
 */
export function controlPlane(deps: ControlPlaneDeps): Handler {
  const { config, apimDb, sharedDb, apis, hub, tokens } = deps;
  const applications = new ApplicationRepository(apimDb);
  const subscriptions = new SubscriptionRepository(apimDb);
  const revisions = new RevisionRepository(apimDb);
  const clients = new OAuthClientRepository(apimDb);
  const environments = new EnvironmentRepository(apimDb, config.gatewayEnvironments);
  const oauth = { sharedDb, clients, tokens };
  const restApis: readonly (readonly [RestApi, Operations])[] = [
    [deps.publisher, publisherOperations({ nodeName: config.nodeName, apis, revisions, subscriptions, environments, hub })],
    [deps.devportal, devportalOperations({ nodeName: config.nodeName, apis, applications, subscriptions, clients, hub, tokens })],
    [deps.admin, adminOperations({ environments })],
  ];

  return async (req: Req): Promise<Res> => {
    if (req.method === 'POST' && req.path === '/client-registration/v0.17/register') return register(oauth, req);
    if (req.method === 'POST' && req.path === '/oauth2/token') return token(oauth, req);
    if (req.path.startsWith('/internal/data/v1/')) return internalData({ sharedDb, apis, revisions, subscriptions }, req);
    for (const [api, operations] of restApis) {
      const res = await dispatch(api, operations, tokens, req);
      if (res) return res;
    }
    const portal = /^\/(publisher|devportal|admin|carbon)\/?/.exec(req.path)?.[1];
    if (req.method === 'GET' && portal) {
      return { status: 200, contentType: 'text/html', body: `<!doctype html><title>${portal} · carbon-labs stand-in</title><h1>${portal}</h1><p>${config.nodeName} (${config.profile}) of the carbon-labs stand-in for WSO2 API Manager 4.3.0.</p>` };
    }
    return NOT_DEPLOYED;
  };
}
