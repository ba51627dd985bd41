import { randomBytes, randomUUID } from 'crypto';
import type { Req, Res } from '../http';
import { basicCredentials, json, log, parseJson } from '../http';
import type { TokenIssuer } from '../tokens';
import type { UserStore } from '../users';
import type { OAuthClientRepository, RevokedTokenRepository } from './repositories';

/** What the resident key manager's endpoints work on. */
export interface OAuthDeps {
  readonly users: UserStore;
  readonly clients: OAuthClientRepository;
  readonly tokens: TokenIssuer;
  readonly revoked: RevokedTokenRepository;
  /** Tells the gateways that a token is revoked (the event hub's token revocation notification). */
  readonly announceRevocation: (jti: string, expiry: number) => void;
}

/** The claims a grant yields, before the issuer stamps them. */
type GrantedClaims = Parameters<TokenIssuer['issue']>[0];

/**
 * `POST /client-registration/v0.17/register`: the DCR endpoint the portals and apictl use. A user
 * registering a client name they already own gets that client back, as the product does.
 */
export async function register(deps: Pick<OAuthDeps, 'users' | 'clients'>, req: Req): Promise<Res> {
  const basic = basicCredentials(req);
  if (!basic || !(await deps.users.authenticate(basic.user, basic.secret))) {
    return json(401, { error: 'invalid_client', error_description: 'Basic authentication of a user is required' });
  }
  const body = parseJson(req) as Record<string, unknown> | symbol | undefined;
  if (!body || typeof body === 'symbol' || typeof body.clientName !== 'string') {
    return json(400, { error: 'invalid_client_metadata', error_description: 'clientName is required' });
  }
  const owner = String(body.owner ?? basic.user);
  let row = await deps.clients.byName(body.clientName, owner);
  if (!row) {
    // A concurrent registration of the same name wins; its client is the one returned.
    await deps.clients.register({
      consumerKey: randomBytes(14).toString('base64url'),
      consumerSecret: randomBytes(21).toString('base64url'),
      appName: body.clientName,
      owner,
      grantTypes: String(body.grantType ?? 'client_credentials'),
      callbackUrl: String(body.callbackUrl ?? ''),
    });
    row = await deps.clients.byName(body.clientName, owner);
  }
  // Found, or just inserted under this name and owner.
  const client = row!;
  return json(200, {
    clientId: client.CONSUMER_KEY,
    clientName: client.APP_NAME,
    callBackURL: client.CALLBACK_URL,
    clientSecret: client.CONSUMER_SECRET,
    isSaasApplication: body.saasApp !== false,
    appOwner: client.USERNAME,
    jsonString: JSON.stringify({ grant_types: client.GRANT_TYPES, redirect_uris: client.CALLBACK_URL, client_name: client.APP_NAME }),
    jsonAppAttribute: '{}',
    tokenType: null,
  });
}

/**
 * `POST /oauth2/token`: the password and client_credentials grants. A client generated for an
 * application's keys issues application tokens, which the gateway checks subscriptions against.
 */
/** The OAuth client a request authenticates as (Basic, or client_id and client_secret in the form), or the refusal. */
export async function clientOf(deps: Pick<OAuthDeps, 'clients'>, req: Req, form: URLSearchParams) {
  const basic = basicCredentials(req);
  const clientId = basic?.user ?? form.get('client_id') ?? '';
  const clientSecret = basic?.secret ?? form.get('client_secret') ?? '';
  const client = await deps.clients.byKey(clientId);
  return client && client.CONSUMER_SECRET === clientSecret
    ? { client, clientId }
    : json(401, { error: 'invalid_client', error_description: 'A valid OAuth client could not be found for client_id' });
}

/**
 * `POST /oauth2/revoke` (RFC 7009), as identity-inbound-auth-oauth v6.13.16 `OAuthRevocationEndpoint`
 * answers it: 200 with no body, also for a token that is unknown, expired or already revoked; no
 * `token`: 400 invalid_request; another client's token: 401 unauthorized_client. A revoked JWT is
 * recorded by its `jti` (AM_REVOKED_JWT) and announced to the gateways, which refuse it from then on.
 */
export async function revoke(deps: OAuthDeps, req: Req): Promise<Res> {
  const form = new URLSearchParams(req.rawBody);
  const authenticated = await clientOf(deps, req, form);
  if ('status' in authenticated) return authenticated;
  const token = form.get('token');
  if (!token) return json(400, { error: 'invalid_request', error_description: 'Invalid revocation request' });
  const claims = deps.tokens.verify(token);
  if (claims && claims.azp !== authenticated.clientId)
    return json(401, { error: 'unauthorized_client', error_description: 'Client Authentication failed.' });
  if (claims) {
    await deps.revoked.add(claims.jti, Number(claims.exp));
    log('INFO', 'OAuth2Service', `access token ${claims.jti} of client ${authenticated.clientId} revoked`);
    deps.announceRevocation(claims.jti, Number(claims.exp));
  }
  return { status: 200, contentType: 'application/json', body: '' };
}

export async function token(deps: OAuthDeps, req: Req): Promise<Res> {
  const form = new URLSearchParams(req.rawBody);
  const authenticated = await clientOf(deps, req, form);
  if ('status' in authenticated) return authenticated;
  const { client, clientId } = authenticated;
  const grant = form.get('grant_type');
  const validity = Number(form.get('validity_period')) > 0 ? Number(form.get('validity_period')) : 3600;
  const requested = (form.get('scope') ?? 'default').split(/\s+/).filter(Boolean);
  let claims: GrantedClaims;
  if (grant === 'password') {
    const user = form.get('username') ?? '';
    if (!(await deps.users.authenticate(user, form.get('password') ?? ''))) {
      return json(400, { error: 'invalid_grant', error_description: 'Authentication failed for the user' });
    }
    // The super admin holds every role, so every requested scope is granted.
    claims = { sub: user, azp: clientId, scope: requested.join(' ') };
  } else if (grant === 'client_credentials') {
    claims = client.APPLICATION_UUID
      ? {
          sub: String(client.USERNAME),
          azp: clientId,
          scope: requested.join(' '),
          application: { uuid: String(client.APPLICATION_UUID), name: String(client.APP_NAME) },
          keytype: String(client.KEY_TYPE),
        }
      : { sub: String(client.USERNAME), azp: clientId, scope: requested.join(' ') };
  } else {
    return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant_type value: ${grant}` });
  }
  const issued = deps.tokens.issue(claims, validity);
  return json(200, {
    access_token: issued.token,
    refresh_token: randomUUID(),
    scope: issued.claims.scope,
    token_type: 'Bearer',
    expires_in: validity,
  });
}
