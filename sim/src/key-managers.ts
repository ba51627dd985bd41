import { createPublicKey } from 'crypto';
import type { Res } from './http';
import { json, log } from './http';
import { send } from './outbound';
import type { Jwk, ParsedJwt, TokenClaims } from './tokens';
import { expired, parseJwt, signedBy } from './tokens';
import type { TrustStore } from './trust';

/**
 * A key manager as `/internal/data/v1/keymanagers` lists it (carbon-apimgt 9.31.86 internal data
 * API `KeyManagerDTO`): `additionalProperties` name its token `issuer` and where its signing keys
 * are (`certificate_type` `JWKS`, `certificate_value` the JWKS URL).
 */
export interface KeyManagerDto {
  readonly uuid: string;
  readonly name: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly organization: string;
  readonly tokenType: string;
  readonly additionalProperties: Readonly<Record<string, unknown>>;
}

/**
 * The gateway's refusals of a token (carbon-apimgt `APISecurityConstants`, rendered by the
 * gateway's `_auth_failure_handler_`): 900900 is answered 500, the others 401
 * (`APIAuthenticationHandler.handleAuthFailure`, carbon-apimgt 9.29.120 lines 686-702: only
 * 900908 and resource or scope refusals are 403, so a blocked subscription's 900907 is a 401).
 */
const AUTH_FAILURES = {
  general: { code: '900900', message: 'Unclassified Authentication Failure', description: 'Unclassified Authentication Failure' },
  invalid: {
    code: '900901',
    message: 'Invalid Credentials',
    description: 'Invalid Credentials. Make sure you have provided the correct security credentials',
  },
  /** A revoked JWT (`JWTValidator`: the revoked map holds its jti). */
  revoked: {
    code: '900901',
    message: 'Invalid Credentials',
    description: 'Invalid JWT token. Make sure you have provided the correct security credentials',
  },
  /** A subscription BLOCKED, or PROD_ONLY_BLOCKED for a production key (`SubscriptionValidationUtils`). */
  blocked: {
    code: '900907',
    message: 'The requested API is temporarily blocked',
    description: 'User is NOT authorized to access the Resource. API Subscription validation failed.',
  },
  /** A subscription ON_HOLD or REJECTED. */
  inactive: {
    code: '900909',
    message: 'The subscription to the API is inactive',
    description: 'User is NOT authorized to access the Resource. API Subscription validation failed.',
  },
  missing: {
    code: '900902',
    message: 'Missing Credentials',
    description:
      "Invalid Credentials. Make sure your API invocation call has a header: 'Authorization : Bearer ACCESS_TOKEN' or 'Authorization : Basic ACCESS_TOKEN'",
  },
} as const;

export function authFailure(kind: keyof typeof AUTH_FAILURES): Res {
  if (kind === 'general') return json(500, AUTH_FAILURES.general);
  return {
    ...json(401, AUTH_FAILURES[kind]),
    headers: {
      'www-authenticate': 'OAuth2 realm="WSO2 API Manager", error="invalid_token", error_description="The provided token is invalid"',
    },
  };
}

/** The JWKS could not be had: the product's `APIManagementException` out of `validateSignature`. */
class JwksUnavailable extends Error {}

/**
 * One key manager's JWT validator (carbon-apimgt 9.31.86 `JWTValidatorImpl.validateSignature`,
 * lines 134-184): the key a token's `kid` names, from the JWKS at `certificate_value`, fetched
 * over HTTPS with the node's truststore when none is held or the `kid` is not in it, and kept
 * with no expiry (the validator's `jwkSet` field) until the gateway restarts.
 */
class JwtValidator {
  private jwks?: readonly Jwk[];

  constructor(
    readonly keyManager: string,
    readonly issuer: string,
    private readonly jwksUrl: string,
    private readonly trust: TrustStore,
  ) {}

  /** Whether the key the token names signed it; throws JwksUnavailable when the JWKS cannot be fetched. */
  async verify(jwt: ParsedJwt): Promise<boolean> {
    const kid = jwt.header.kid;
    // The product checks a token with no kid against the truststore's gateway_certificate_alias;
    // every token the stand-in issues has one, and it refuses those that have none.
    if (!kid) return false;
    if (!this.jwks?.some((k) => k.kid === kid)) this.jwks = await this.fetch();
    const key = this.jwks.find((k) => k.kid === kid);
    if (!key || key.kty !== 'RSA') return false;
    return signedBy(jwt, createPublicKey({ key: { kty: key.kty, n: key.n, e: key.e }, format: 'jwk' }));
  }

  /** `JWTUtil.retrieveJWKSConfiguration` then `JWKSet.parse`, with the product's log lines. */
  private async fetch(): Promise<readonly Jwk[]> {
    const res = await send(this.jwksUrl, { method: 'GET', headers: { accept: 'application/json' }, rawBody: '' }, 5000, this.trust);
    if (res.failure) {
      log(
        'ERROR',
        'JWTValidatorImpl',
        `Error while connecting to JWKS endpoint ${this.jwksUrl} (key manager ${this.keyManager}): ${res.failure}`,
      );
      throw new JwksUnavailable(res.failure);
    }
    if (res.status !== 200) {
      log(
        'ERROR',
        'JWTValidatorImpl',
        `Error while retrieving JWKS information: Invalid JWKS endpoint. ${this.jwksUrl} answered ${res.status}`,
      );
      throw new JwksUnavailable(`${this.jwksUrl} answered ${res.status}`);
    }
    try {
      const keys = (JSON.parse(String(res.body)) as { keys?: Jwk[] }).keys;
      if (!Array.isArray(keys)) throw new Error('no "keys" array');
      return keys;
    } catch (err) {
      log('ERROR', 'JWTValidatorImpl', `Error while parsing JWKS information from ${this.jwksUrl}: ${(err as Error).message}`);
      throw new JwksUnavailable((err as Error).message);
    }
  }
}

/**
 * The key managers a gateway knows (carbon-apimgt `KeyManagerHolder`), each with its JWT
 * validator, and how it authenticates an API call's token with them (`OAuthAuthenticator`,
 * `JWTValidator`): a JWT is one whose `iss` is a key manager's issuer; the key its `kid` names
 * must have signed it and it must not have expired, or the call gets 401 900901; a JWKS that
 * cannot be fetched makes it 500 900900. The gateway verifies no token with a key of its own.
 */
export class KeyManagerHolder {
  private validators: readonly JwtValidator[] = [];

  constructor(private readonly trust: TrustStore) {}

  /** Takes the key managers of a pull: the enabled ones whose tokens are self-validated from a JWKS. */
  load(list: readonly KeyManagerDto[]): void {
    this.validators = list
      .filter((km) => km.enabled)
      .flatMap((km) => {
        const p = km.additionalProperties;
        if (p.certificate_type !== 'JWKS' || typeof p.certificate_value !== 'string' || typeof p.issuer !== 'string') {
          log(
            'WARN',
            'KeyManagerConfigurationDataRetriever',
            `key manager ${km.name}: certificate_type ${String(p.certificate_type)} is not modelled by the carbon-labs stand-in; its tokens are refused`,
          );
          return [];
        }
        log('INFO', 'KeyManagerConfigurationDataRetriever', `key manager ${km.name}: issuer ${p.issuer}, JWKS ${p.certificate_value}`);
        return [new JwtValidator(km.name, p.issuer, p.certificate_value, this.trust)];
      });
  }

  /** The claims of an API call's token, or the refusal to answer it with. */
  async authenticate(token: string | undefined): Promise<TokenClaims | Res> {
    if (!token) return authFailure('missing');
    const jwt = parseJwt(token);
    // What is no JWT of a known issuer the product takes for an opaque token, which no key
    // manager of a lab knows (inferred): Invalid Credentials.
    const validator = jwt && this.validators.find((v) => v.issuer === jwt.claims.iss);
    if (!jwt || !validator) return authFailure('invalid');
    try {
      if (!(await validator.verify(jwt)) || expired(jwt.claims)) return authFailure('invalid');
    } catch (err) {
      if (err instanceof JwksUnavailable) return authFailure('general');
      throw err;
    }
    return jwt.claims;
  }
}
