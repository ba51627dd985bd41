import { randomUUID } from 'crypto';
import type { Pool } from 'mysql2/promise';
import type { NodeConfig } from '../config';
import type { EventHub } from '../eventhub';
import type { Handler, Req, Res } from '../http';
import { json, NOT_DEPLOYED } from '../http';
import type { RestApi } from '../spec';
import type { ApiStore } from '../store';
import type { TokenIssuer } from '../tokens';
import type { TrustStore } from '../trust';
import type { UserStore } from '../users';
import { adminOperations } from './admin';
import { devportalOperations } from './devportal';
import { internalData } from './internal-data';
import { register, revoke, token } from './oauth';
import { publisherOperations } from './publisher';
import {
  ApplicationRepository,
  DefaultVersionRepository,
  EnvironmentRepository,
  KeyManagerRepository,
  OAuthClientRepository,
  RevisionRepository,
  RevokedTokenRepository,
  SubscriptionRepository,
  ThrottlePolicyRepository,
} from './repositories';
import { discoveryDocument, residentKeyManager } from './resident-key-manager';
import type { Operations } from './rest';
import { dispatch } from './rest';

/**
 * What a control plane serves from: its node's settings, its databases, user store, truststore,
 * event hub, token issuer and REST specs.
 */
export interface ControlPlaneDeps {
  readonly config: NodeConfig;
  /** WSO2AM_DB: APIs, revisions, applications, subscriptions, OAuth clients, environments, key managers. */
  readonly apimDb: Pool;
  /** The shared user store (WSO2_SHARED_DB). */
  readonly users: UserStore;
  /** The client truststore its own outbound calls (OIDC discovery) are verified against. */
  readonly trust: TrustStore;
  readonly apis: ApiStore;
  readonly hub: EventHub;
  readonly tokens: TokenIssuer;
  readonly publisher: RestApi;
  readonly devportal: RestApi;
  readonly admin: RestApi;
}

/**
 * The control-plane profile's webapps: DCR, the token endpoint, JWKS and OIDC discovery of the
 * resident key manager, the gateways' internal data API, the publisher v4, devportal v3 and admin
 * v4 REST APIs, and a placeholder page for each portal. Anything else is a webapp that is not deployed.
 */
export function controlPlane(deps: ControlPlaneDeps): Handler {
  const { config, apimDb, users, trust, apis, hub, tokens } = deps;
  const applications = new ApplicationRepository(apimDb);
  const subscriptions = new SubscriptionRepository(apimDb);
  const revisions = new RevisionRepository(apimDb);
  const clients = new OAuthClientRepository(apimDb);
  const environments = new EnvironmentRepository(apimDb, config.gatewayEnvironments);
  const keyManagerRows = new KeyManagerRepository(apimDb);
  const revoked = new RevokedTokenRepository(apimDb);
  const defaults = new DefaultVersionRepository(apimDb);
  // Whether a token is revoked, by jti, as this node last learned it: a token is looked up in the
  // database once, then answered from memory (the key manager's token cache), so a database outage
  // does not fail calls with a token already seen; one this node revokes is known at once. An
  // outage on a first sight lets the token through, as the product's cache would have it.
  const revokedSeen = new Map<string, boolean>();
  const isRevoked = async (jti: string): Promise<boolean> => {
    const known = revokedSeen.get(jti);
    if (known !== undefined) return known;
    const found = await revoked.isRevoked(jti).catch(() => undefined);
    if (found !== undefined) revokedSeen.set(jti, found);
    return found ?? false;
  };
  const oauth = {
    users,
    clients,
    tokens,
    revoked,
    announceRevocation: (jti: string, expiry: number) => {
      revokedSeen.set(jti, true);
      hub.publish({ type: 'TOKEN_REVOCATION', eventId: randomUUID(), apiId: '', jti, expiry, labels: [], origin: config.nodeName });
    },
  };
  const keyManagers = async () => [await residentKeyManager(config, trust, keyManagerRows)];
  const internal = { users, apis, revisions, subscriptions, applications, clients, keyManagers, revoked, defaults };
  const restApis: readonly (readonly [RestApi, Operations])[] = [
    [deps.publisher, publisherOperations({ nodeName: config.nodeName, apis, revisions, subscriptions, environments, defaults, hub })],
    [
      deps.devportal,
      devportalOperations({ nodeName: config.nodeName, apis, applications, subscriptions, clients, hub, tokens, keyManagers }),
    ],
    [deps.admin, adminOperations({ environments, policies: new ThrottlePolicyRepository(apimDb) })],
  ];

  return async (req: Req): Promise<Res> => {
    if (req.method === 'POST' && req.path === '/client-registration/v0.17/register') return register(oauth, req);
    if (req.method === 'POST' && req.path === '/oauth2/token') return token(oauth, req);
    if (req.method === 'POST' && req.path === '/oauth2/revoke') return revoke(oauth, req);
    if (req.method === 'GET' && req.path === '/oauth2/jwks') return json(200, tokens.jwks());
    if (req.method === 'GET' && req.path === '/oauth2/token/.well-known/openid-configuration')
      return json(200, discoveryDocument(config, tokens));
    if (req.path.startsWith('/internal/data/v1/')) return internalData(internal, req);
    for (const [api, operations] of restApis) {
      const res = await dispatch(api, operations, { verify: (t) => tokens.verify(t), isRevoked }, req);
      if (res) return res;
    }
    const portal = /^\/(publisher|devportal|admin|carbon)\/?/.exec(req.path)?.[1];
    if (req.method === 'GET' && portal) {
      return {
        status: 200,
        contentType: 'text/html',
        body: `<!doctype html><title>${portal} · carbon-labs stand-in</title><h1>${portal}</h1><p>${config.nodeName} (${config.profile}) of the carbon-labs stand-in for WSO2 API Manager 4.3.0.</p>`,
      };
    }
    return NOT_DEPLOYED;
  };
}
