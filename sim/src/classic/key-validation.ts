import type { Req, Res } from '../http';
import { log } from '../http';
import type { TrustStore } from '../trust';
import type { KeyValidationInfo } from './key-manager';
import { KEY_STATUS } from './key-manager';
import { adminCall, escapeXml, soapText } from './soap';

/**
 * A classic gateway's `APIAuthenticationHandler` (carbon-apimgt 6.4.50, OAuthAuthenticator and
 * APIKeyValidator): a Bearer token is looked up in the gateway's key cache, and on a miss
 * validated by the key manager's `APIKeyValidationService` at `<APIKeyValidator><ServerURL>`
 * (WSClient); every answer but 900901 (which goes to the invalid-token cache) is cached until the
 * cache's sweep removes it past `TokenCacheExpiry`, or the token ends. The cache is a Carbon cache: an entry
 * removed on one member of a clustering domain is removed on every other, and only there (a
 * Hazelcast distributed map with carbon.xml's `ForceLocalCache` false, as the lab's; a
 * `ClusterCacheInvalidationRequest` with it true; one message here).
 */

/** The Carbon cache a gateway keeps validated tokens in (carbon-apimgt 6.4.50 `APIConstants`), as cluster messages name it. */
export const GATEWAY_TOKEN_CACHE = 'GATEWAY_TOKEN_CACHE';

/**
 * Carbon's cache sweep (carbon-kernel v4.4.35): `CacheManagerFactoryImpl` l.166 runs
 * `CacheImpl.runCacheExpiry` with a fixed delay of 30 s, the first 30 s after the cache manager
 * starts; it removes an entry whose age since its put (MODIFIED) or its last access (ACCESSED)
 * reached the cache's expiry. `get` (l.220-242) reads no expiry: an expired entry is served until
 * the next sweep removes it.
 */
export const CACHE_SWEEP_MS = 30_000;

/**
 * The gateway's caches of carbon-apimgt 6.4.50 `APIKeyValidator`: `GATEWAY_TOKEN_CACHE` and
 * `gatewayKeyCache` (validation results by token and resource: one map here, since both are put
 * together, with one expiry), and `GATEWAY_INVALID_TOKEN_CACHE`, checked on a miss before the key
 * manager is asked. Each is a Carbon cache whose expiry is `TokenCacheExpiry` (put and access
 * alike: the put bounds it), removed by the sweep ({@link CACHE_SWEEP_MS}), whose phase is the
 * node's start.
 */
export class GatewayKeyCache {
  private readonly entries = new Map<string, Map<string, { info: KeyValidationInfo; putAt: number; tokenEnds: number }>>();
  private readonly invalid = new Map<string, number>();

  constructor(
    readonly enabled: boolean,
    readonly expirySeconds: number,
    /** When the cache manager started: the sweeps run at this + n × 30 s. */
    readonly startedAt = Date.now(),
  ) {}

  /** Whether an entry put at `putAt` was removed by a sweep before `now`. */
  private swept(putAt: number, now: number): boolean {
    const sweeps = Math.floor((now - this.startedAt) / CACHE_SWEEP_MS);
    return sweeps >= 1 && this.startedAt + sweeps * CACHE_SWEEP_MS - putAt >= this.expirySeconds * 1000;
  }

  /** Whether the token is in the invalid-token cache (a revocation this gateway passed on). */
  isInvalid(token: string, now = Date.now()): boolean {
    const putAt = this.invalid.get(token);
    if (putAt === undefined) return false;
    if (!this.swept(putAt, now)) return true;
    this.invalid.delete(token);
    return false;
  }

  get(token: string, resource: string, now = Date.now()): KeyValidationInfo | undefined {
    const byResource = this.entries.get(token);
    const entry = byResource?.get(resource);
    if (!entry) return undefined;
    // A cached answer of an expired token is dropped on its read (APIKeyValidator: isAccessTokenExpired), not kept to the sweep.
    if (entry.tokenEnds > now && !this.swept(entry.putAt, now)) return entry.info;
    byResource!.delete(resource);
    return undefined;
  }

  put(token: string, resource: string, info: KeyValidationInfo, now = Date.now()): void {
    if (!this.enabled) return;
    const tokenEnds = info.issuedTime !== undefined && info.validityPeriod !== undefined ? info.issuedTime + info.validityPeriod : Infinity;
    let byResource = this.entries.get(token);
    if (!byResource) this.entries.set(token, (byResource = new Map()));
    byResource.set(resource, { info, putAt: now, tokenEnds });
  }

  /** Puts a token in the invalid-token cache. */
  markInvalid(token: string, now = Date.now()): void {
    if (this.enabled) this.invalid.set(token, now);
  }

  /** Removes every entry of these tokens (and marks them invalid, for a revocation seen here); how many were cached here. */
  invalidate(tokens: readonly string[], markInvalid = false, now = Date.now()): number {
    let n = 0;
    for (const t of tokens) {
      if (this.entries.delete(t)) n++;
      if (markInvalid) this.markInvalid(t, now);
    }
    return n;
  }
}

/**
 * The security fault of `_auth_failure_handler_`, as the gateway answers it; a 401 carries the
 * handler's challenge (`handleAuthFailure` l.254-263, its error description whatever the code).
 */
export function authFault(status: number, code: number, message: string, description: string): Res {
  return {
    status,
    contentType: 'application/xml',
    ...(status === 401
      ? {
          headers: {
            'WWW-Authenticate': 'OAuth2 realm="WSO2 API Manager", error="invalid token", error_description="The access token expired"',
          },
        }
      : {}),
    body: `<ams:fault xmlns:ams="http://wso2.org/apimanager/security"><ams:code>${code}</ams:code><ams:message>${message}</ams:message><ams:description>${description}</ams:description></ams:fault>`,
  };
}

/** Status and message per code: 403 for 900906, 900908, 900910 only, else 401 (`handleAuthFailure` l.250-263; `APISecurityConstants`). */
const MESSAGES: Record<number, [number, string]> = {
  [KEY_STATUS.invalidCredentials]: [401, 'Invalid Credentials'],
  [KEY_STATUS.blocked]: [401, 'The requested API is temporarily blocked'],
  [KEY_STATUS.forbidden]: [403, 'Resource forbidden'],
  // The message of 900909 was not read in the sources (*inferred*); no check depends on it.
  [KEY_STATUS.inactive]: [401, 'The subscription to the API is inactive'],
};

/** `validateKey` over SOAP, as the gateway's `WSAPIKeyDataStore` calls it, with the configured user. */
export class KeyValidatorClient {
  constructor(
    private readonly serverUrl: string,
    readonly user: string,
    readonly password: string,
    private readonly trust: TrustStore,
  ) {}

  async validate(call: {
    context: string;
    version: string;
    accessToken: string;
    resource: string;
    verb: string;
  }): Promise<KeyValidationInfo | { failure: string }> {
    const params =
      `<xsd:context>${escapeXml(call.context)}</xsd:context><xsd:version>${escapeXml(call.version)}</xsd:version><xsd:accessToken>${escapeXml(call.accessToken)}</xsd:accessToken>` +
      `<xsd:requiredAuthenticationLevel>Any</xsd:requiredAuthenticationLevel><xsd:clientDomain></xsd:clientDomain>` +
      `<xsd:matchingResource>${escapeXml(call.resource)}</xsd:matchingResource><xsd:httpVerb>${escapeXml(call.verb)}</xsd:httpVerb>`;
    const { url, res } = await adminCall(this.serverUrl, this, this.trust, {
      service: 'APIKeyValidationService',
      operation: 'validateKey',
      ns: 'http://org.apache.axis2/xsd',
      params,
    });
    if (res.failure) return { failure: res.failure };
    if (res.status !== 200) return { failure: `${url} answered ${res.status}: ${String(res.body).slice(0, 200)}` };
    return parseValidationResponse(String(res.body));
  }
}

/** An `APIKeyValidationInfoDTO` as the gateway reads it; a field the answer lacks stays undefined (a refusal has no token times). */
export function parseValidationResponse(text: string): KeyValidationInfo {
  const number = (name: string) => {
    const v = soapText(text, name);
    return v === undefined ? undefined : Number(v);
  };
  return {
    authorized: soapText(text, 'authorized') === 'true',
    validationStatus: number('validationStatus') ?? 0,
    applicationId: soapText(text, 'applicationId'),
    applicationName: soapText(text, 'applicationName'),
    consumerKey: soapText(text, 'consumerKey'),
    endUserName: soapText(text, 'endUserName'),
    subscriber: soapText(text, 'subscriber'),
    tier: soapText(text, 'tier'),
    applicationTier: soapText(text, 'applicationTier'),
    stopOnQuotaReach: soapText(text, 'stopOnQuotaReach') === undefined ? undefined : soapText(text, 'stopOnQuotaReach') === 'true',
    apiName: soapText(text, 'apiName'),
    issuedTime: number('issuedTime'),
    validityPeriod: number('validityPeriod'),
  };
}

/** `validateKey`'s answer, as `APIKeyValidationService` writes an `APIKeyValidationInfoDTO`. */
export function validationResponse(info: KeyValidationInfo): string {
  const fields = Object.entries(info)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<ax:${k}>${escapeXml(String(v))}</ax:${k}>`)
    .join('');
  return `<ns:validateKeyResponse xmlns:ns="http://org.apache.axis2/xsd"><ns:return xmlns:ax="http://dto.impl.apimgt.carbon.wso2.org/xsd">${fields}</ns:return></ns:validateKeyResponse>`;
}

/** What the handler needs: the cache, the key manager client. */
export interface Authenticator {
  readonly cache: GatewayKeyCache;
  readonly validator: Pick<KeyValidatorClient, 'validate'>;
}

/**
 * The handler's decision on one request to an API with `APIAuthenticationHandler`: undefined to
 * let it through, else the security fault. `context` is the API's (with its version).
 */
export async function authenticate(
  auth: Authenticator,
  req: Req,
  api: { name: string; context: string; version: string },
): Promise<Res | undefined> {
  const decided = await authorize(auth, req, api);
  return 'refused' in decided ? decided.refused : undefined;
}

/** {@link authenticate}, with what the key manager said of a request it let through (the handlers after it read it). */
export async function authorize(
  auth: Authenticator,
  req: Req,
  api: { name: string; context: string; version: string },
): Promise<{ readonly refused: Res } | { readonly info: KeyValidationInfo }> {
  const refused = (res: Res) => ({ refused: res });
  const token = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
  // getFailureMessageDetailDescription (l.123-145) adds a hint to some codes only.
  const failure = (code: number, message: string, status: number) =>
    authFault(
      status,
      code,
      message,
      `Access failure for API: ${api.context}, version: ${api.version} status: (${code}) - ${message}${code === KEY_STATUS.invalidCredentials ? '. Make sure you have given the correct access token' : ''}`,
    );
  if (!token)
    return refused(
      authFault(
        401,
        900902,
        'Missing Credentials',
        'Required OAuth credentials not provided. Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN"',
      ),
    );
  // The stand-in's resources are `/*` under the context; the verb is the request's.
  const resource = `/*:${req.method}`;
  if (auth.cache.isInvalid(token)) return refused(failure(KEY_STATUS.invalidCredentials, 'Invalid Credentials', 401));
  let info = auth.cache.get(token, resource);
  if (!info) {
    const answer = await auth.validator.validate({
      context: api.context,
      version: api.version,
      accessToken: token,
      resource: '/*',
      verb: req.method,
    });
    if ('failure' in answer) {
      log('ERROR', 'APIKeyValidator', `Error while accessing backend services for API key validation: ${answer.failure}`);
      return refused(
        authFault(500, 900900, 'Unclassified Authentication Failure', 'Error while accessing backend services for API key validation'),
      );
    }
    info = answer;
    // APIKeyValidator l.262-269: a 900901 goes to the invalid-token cache; every other answer,
    // authorized or not (a blocked subscription's 900907 too), to the token and key caches.
    if (info.validationStatus === KEY_STATUS.invalidCredentials && !info.authorized) auth.cache.markInvalid(token);
    else auth.cache.put(token, resource, info);
  }
  if (info.authorized) return { info };
  // Codes the stand-in's key manager never gives: the status handleAuthFailure would.
  const [status, message] = MESSAGES[info.validationStatus] ?? [
    [900906, 900910].includes(info.validationStatus) ? 403 : 401,
    'Unclassified Authentication Failure',
  ];
  return refused(failure(info.validationStatus || KEY_STATUS.invalidCredentials, message, status));
}
