import { randomUUID } from 'crypto';
import type { Pool } from 'mysql2/promise';
import { exec, Row, rows } from '../db';
import type { Req, Res } from '../http';
import { json, log } from '../http';
import { clientOf } from '../control-plane/oauth';
import type {
  ApplicationRepository,
  OAuthClientRepository,
  SubscriptionRepository,
  ThrottlePolicyRepository,
} from '../control-plane/repositories';
import type { ApiStore } from '../store';
import type { UserStore } from '../users';

/**
 * The key manager of a classic manager node (APIM 2.6.0, the default profile): opaque access
 * tokens kept in IDN_OAUTH2_ACCESS_TOKEN (2.6.0 issues UUID tokens, not JWTs), the token and
 * revocation endpoints, and `APIKeyValidationService.validateKey`, which gateways call for every
 * token they have not cached.
 */

/** An access token's row, as the key manager keeps it. */
export interface AccessToken {
  readonly token: string;
  readonly consumerKey: string;
  readonly user: string;
  readonly scope: string;
  readonly issuedAt: number;
  readonly validitySeconds: number;
  readonly state: 'ACTIVE' | 'REVOKED';
}

/** `APIConstants.KeyValidationStatus` of carbon-apimgt 6.4.50 (l.784-796), as the gateway's `APISecurityConstants` spell them. */
export const KEY_STATUS = { invalidCredentials: 900901, blocked: 900907, forbidden: 900908, inactive: 900909 } as const;

/** The answer of `validateKey` (`APIKeyValidationInfoDTO`), the fields a gateway reads. */
export interface KeyValidationInfo {
  readonly authorized: boolean;
  readonly validationStatus: number;
  readonly applicationId?: string;
  readonly applicationName?: string;
  readonly consumerKey?: string;
  readonly endUserName?: string;
  readonly subscriber?: string;
  readonly tier?: string;
  /** The application's throttling policy, and whether the subscription's stops at its quota (ThrottleHandler reads both). */
  readonly applicationTier?: string;
  readonly stopOnQuotaReach?: boolean;
  readonly apiName?: string;
  readonly issuedTime?: number;
  readonly validityPeriod?: number;
}

const toToken = (r: Row): AccessToken => ({
  token: String(r.ACCESS_TOKEN),
  consumerKey: String(r.CONSUMER_KEY),
  user: String(r.AUTHZ_USER),
  scope: String(r.TOKEN_SCOPE ?? ''),
  issuedAt: Number(r.TIME_CREATED),
  validitySeconds: Number(r.VALIDITY_PERIOD),
  state: String(r.TOKEN_STATE) === 'REVOKED' ? 'REVOKED' : 'ACTIVE',
});

export const isLive = (t: AccessToken, now = Date.now()): boolean => t.state === 'ACTIVE' && t.issuedAt + t.validitySeconds * 1000 > now;

/** IDN_OAUTH2_ACCESS_TOKEN, the columns the stand-in uses (the identity schema has more). */
export class AccessTokens {
  constructor(private readonly pool: Pool) {}

  /** In the lab's schema script; made here too for a database volume kept from an older carbon-labs (its script ran once). */
  async ensureTable(): Promise<void> {
    await exec(
      this.pool,
      `CREATE TABLE IF NOT EXISTS IDN_OAUTH2_ACCESS_TOKEN (
      ACCESS_TOKEN VARCHAR(255) NOT NULL, CONSUMER_KEY VARCHAR(255) NOT NULL, AUTHZ_USER VARCHAR(255) NOT NULL,
      TOKEN_SCOPE VARCHAR(2048), GRANT_TYPE VARCHAR(50), TIME_CREATED BIGINT NOT NULL, VALIDITY_PERIOD BIGINT NOT NULL,
      TOKEN_STATE VARCHAR(25) NOT NULL DEFAULT 'ACTIVE', PRIMARY KEY (ACCESS_TOKEN)) ENGINE INNODB`,
    );
  }

  async issue(t: { consumerKey: string; user: string; scope: string; validitySeconds: number; grantType: string }): Promise<AccessToken> {
    const token = randomUUID();
    const issuedAt = Date.now();
    await exec(
      this.pool,
      'INSERT INTO IDN_OAUTH2_ACCESS_TOKEN (ACCESS_TOKEN, CONSUMER_KEY, AUTHZ_USER, TOKEN_SCOPE, GRANT_TYPE, TIME_CREATED, VALIDITY_PERIOD, TOKEN_STATE) VALUES (?,?,?,?,?,?,?,?)',
      [token, t.consumerKey, t.user, t.scope, t.grantType, issuedAt, t.validitySeconds, 'ACTIVE'],
    );
    return {
      token,
      consumerKey: t.consumerKey,
      user: t.user,
      scope: t.scope,
      issuedAt,
      validitySeconds: t.validitySeconds,
      state: 'ACTIVE',
    };
  }

  async get(token: string): Promise<AccessToken | undefined> {
    const [row] = await rows(this.pool, 'SELECT * FROM IDN_OAUTH2_ACCESS_TOKEN WHERE ACCESS_TOKEN = ?', [token]);
    return row ? toToken(row) : undefined;
  }

  /** The active tokens of an application's keys. */
  async activeOfApplication(applicationId: string): Promise<string[]> {
    return (
      await rows(
        this.pool,
        `SELECT t.ACCESS_TOKEN FROM IDN_OAUTH2_ACCESS_TOKEN t JOIN IDN_OAUTH_CONSUMER_APPS c ON c.CONSUMER_KEY = t.CONSUMER_KEY
      WHERE t.TOKEN_STATE = 'ACTIVE' AND c.APPLICATION_UUID = ?`,
        [applicationId],
      )
    ).map((r) => String(r.ACCESS_TOKEN));
  }

  async revoke(token: string): Promise<void> {
    await exec(this.pool, "UPDATE IDN_OAUTH2_ACCESS_TOKEN SET TOKEN_STATE = 'REVOKED' WHERE ACCESS_TOKEN = ?", [token]);
  }
}

export interface KeyManagerDeps {
  readonly users: UserStore;
  readonly clients: OAuthClientRepository;
  readonly tokens: AccessTokens;
  readonly apis: ApiStore;
  readonly subscriptions: SubscriptionRepository;
}

/**
 * `POST /oauth2/token`: the password grant (the REST APIs' tokens, with the scopes asked for: the
 * super admin holds every role) and client credentials (an application's keys). 2.6.0's tokens
 * are opaque; the answer is the same shape as 4.x's.
 */
export async function token(deps: KeyManagerDeps, req: Req): Promise<Res> {
  const form = new URLSearchParams(req.rawBody);
  const authenticated = await clientOf(deps, req, form);
  if ('status' in authenticated) return authenticated;
  const { client, clientId } = authenticated;
  const grant = form.get('grant_type') ?? '';
  const validitySeconds = Number(form.get('validity_period')) > 0 ? Number(form.get('validity_period')) : 3600;
  const scope = (form.get('scope') ?? 'default').split(/\s+/).filter(Boolean).join(' ');
  let user: string;
  if (grant === 'password') {
    user = form.get('username') ?? '';
    if (!(await deps.users.authenticate(user, form.get('password') ?? '')))
      return json(400, { error: 'invalid_grant', error_description: 'Authentication failed for the user' });
  } else if (grant === 'client_credentials') {
    user = String(client.USERNAME);
  } else {
    return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant_type value: ${grant}` });
  }
  // A grant the client was not registered for (DCR's grantType, generate-keys' supportedGrantTypes).
  if (
    !String(client.GRANT_TYPES ?? '')
      .split(/\s+/)
      .includes(grant)
  ) {
    return json(400, {
      error: 'unauthorized_client',
      error_description: 'The authenticated client is not authorized to use this authorization grant type',
    });
  }
  const issued = await deps.tokens.issue({ consumerKey: clientId, user, scope, validitySeconds, grantType: grant });
  return json(200, { access_token: issued.token, refresh_token: randomUUID(), scope, token_type: 'Bearer', expires_in: validitySeconds });
}

/**
 * `POST /oauth2/revoke` (RFC 7009): 200 with no body, also for a token that is unknown or already
 * revoked; another client's token: 401. A revoked token is marked in the database, and the answer
 * names it in `RevokedAccessToken`: the key manager tells no gateway itself. A gateway clears its
 * cache only when the revocation passes through its `/revoke` API (APIManagerCacheExtensionHandler
 * reads that header), and its cache removal reaches the members of its clustering domain.
 */
export async function revoke(deps: KeyManagerDeps, req: Req): Promise<Res> {
  const form = new URLSearchParams(req.rawBody);
  const authenticated = await clientOf(deps, req, form);
  if ('status' in authenticated) return authenticated;
  const value = form.get('token');
  if (!value) return json(400, { error: 'invalid_request', error_description: 'Invalid revocation request' });
  const found = await deps.tokens.get(value);
  if (found && found.consumerKey !== authenticated.clientId)
    return json(401, { error: 'unauthorized_client', error_description: 'Client Authentication failed.' });
  if (found?.state === 'ACTIVE') {
    await deps.tokens.revoke(value);
    log('INFO', 'OAuth2Service', `access token of client ${authenticated.clientId} revoked`);
    return { status: 200, contentType: 'application/json', body: '', headers: { RevokedAccessToken: value } };
  }
  return { status: 200, contentType: 'application/json', body: '' };
}

/**
 * `APIKeyValidationService.validateKey` (DefaultKeyValidationHandler): the token must be active
 * and unexpired (else 900901 Invalid Credentials), and its application subscribed to the API of
 * that context and version (else 900908 Resource forbidden), the subscription neither blocked
 * (`BLOCKED`, or `PROD_ONLY_BLOCKED` for a production key: 900907) nor inactive (`ON_HOLD`,
 * `REJECTED`: 900909), as carbon-apimgt 6.4.50 `ApiMgtDAO.validateSubscriptionDetails` l.522-536, 596.
 */
export async function validateKey(
  deps: {
    tokens: Pick<AccessTokens, 'get'>;
    clients: Pick<OAuthClientRepository, 'byKey'>;
    apis: Pick<ApiStore, 'list'>;
    subscriptions: Pick<SubscriptionRepository, 'list'>;
    applications?: Pick<ApplicationRepository, 'get'>;
    policies?: Pick<ThrottlePolicyRepository, 'byName'>;
  },
  call: { context: string; version: string; accessToken: string },
): Promise<KeyValidationInfo> {
  const found = await deps.tokens.get(call.accessToken);
  if (!found || !isLive(found)) return { authorized: false, validationStatus: KEY_STATUS.invalidCredentials };
  const client = await deps.clients.byKey(found.consumerKey);
  const context = call.context.endsWith(`/${call.version}`) ? call.context.slice(0, -call.version.length - 1) : call.context;
  const api = (await deps.apis.list()).find((a) => a.context === context && a.version === call.version);
  const applicationId = client?.APPLICATION_UUID ? String(client.APPLICATION_UUID) : undefined;
  const [subscription] = api && applicationId ? await deps.subscriptions.list({ apiId: api.id, applicationId }) : [];
  if (!api || !subscription) return { authorized: false, validationStatus: KEY_STATUS.forbidden };
  const status = String(subscription.SUB_STATUS);
  if (status === 'BLOCKED' || (status === 'PROD_ONLY_BLOCKED' && String(client?.KEY_TYPE) !== 'SANDBOX'))
    return { authorized: false, validationStatus: KEY_STATUS.blocked };
  if (status === 'ON_HOLD' || status === 'REJECTED') return { authorized: false, validationStatus: KEY_STATUS.inactive };
  const tier = String(subscription.TIER_ID ?? 'Unlimited');
  // validateSubscriptionDetails (l.522-596) also reads the application's tier and the subscription
  // policy's STOP_ON_QUOTA_REACH (ThrottleHandler defaults it to true, l.182).
  const application = applicationId ? await deps.applications?.get(applicationId) : undefined;
  const policy = await deps.policies?.byName('subscription', tier);
  return {
    authorized: true,
    validationStatus: 0,
    applicationId,
    applicationName: String(client!.APP_NAME),
    consumerKey: found.consumerKey,
    endUserName: found.user,
    subscriber: String(client!.USERNAME),
    tier,
    applicationTier: application ? String(application.APPLICATION_TIER) : undefined,
    stopOnQuotaReach: policy ? !!policy.STOP_ON_QUOTA_REACH : true,
    apiName: api.name,
    issuedTime: found.issuedAt,
    validityPeriod: found.validitySeconds * 1000,
  };
}
