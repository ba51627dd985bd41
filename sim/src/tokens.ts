import { createHash, createPublicKey, randomUUID, sign, verify } from 'crypto';
import type { JsonWebKey, KeyObject, X509Certificate } from 'crypto';

/** Claims of the stand-in's JWT access tokens (the product issues JWTs by default in 4.x). */
export interface TokenClaims {
  readonly sub: string;
  readonly azp: string;
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly iss: string;
  /** Present on application tokens: the gateway checks the application's subscriptions. */
  readonly application?: { readonly uuid: string; readonly name: string };
  readonly keytype?: string;
}

/** The JOSE header of a JWT access token: the signing algorithm and the key it names. */
export interface JwtHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
}

/** A signing key as a JWKS lists it (RFC 7517): an RSA key, its `kid` and its certificate. */
export type Jwk = JsonWebKey & { readonly kid: string; readonly alg: string; readonly use: string; readonly x5c: readonly string[] };

/** A compact JWS taken apart; its signature not yet checked. */
export interface ParsedJwt {
  readonly header: JwtHeader;
  readonly claims: TokenClaims;
  readonly signingInput: string;
  readonly signature: Buffer;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * The `kid` of the product's tokens and JWKS for a signing certificate: base64url of the hex
 * SHA-256 thumbprint, then `_RS256` (identity-inbound-auth-oauth v6.13.27
 * `DefaultKeyIDProviderImpl.getKeyId` line 39; `OAuth2Util.getThumbPrint` and `hexify`, lines 3022-3146).
 */
export function keyIdOf(cert: X509Certificate): string {
  return `${b64url(createHash('sha256').update(cert.raw).digest('hex'))}_RS256`;
}

/** The header and claims of a compact JWS, or undefined for what is not one. */
export function parseJwt(token: string): ParsedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as JwtHeader;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    if (typeof header !== 'object' || typeof claims !== 'object' || !header || !claims) return undefined;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** Whether an RS256 JWT is signed by this key. */
export function signedBy(jwt: ParsedJwt, key: KeyObject): boolean {
  return jwt.header.alg === 'RS256' && verify('sha256', Buffer.from(jwt.signingInput), key, jwt.signature);
}

/** Whether the token's `exp` has passed (the product allows no skew by default). */
export const expired = (claims: TokenClaims): boolean => !(Number(claims.exp) > Date.now() / 1000);

/**
 * The resident key manager's token issuer: RS256 JWT access tokens signed with the node's key
 * (repository/resources/security/server.key, the same on every node of an image, as the stock
 * wso2carbon.jks is), each naming its key by `kid`, and the JWKS (`GET /oauth2/jwks`) that
 * publishes the key, with its certificate.
 */
export class TokenIssuer {
  readonly kid: string;
  private readonly publicKey: KeyObject;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly cert: X509Certificate,
    readonly issuer: string,
  ) {
    this.kid = keyIdOf(cert);
    this.publicKey = createPublicKey(privateKey);
  }

  issue(claims: Omit<TokenClaims, 'iat' | 'exp' | 'jti' | 'iss'>, validitySeconds: number): { token: string; claims: TokenClaims } {
    const now = Math.floor(Date.now() / 1000);
    const full: TokenClaims = { ...claims, iat: now, exp: now + validitySeconds, jti: randomUUID(), iss: this.issuer };
    const header: JwtHeader = { alg: 'RS256', typ: 'at+jwt', kid: this.kid };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(full))}`;
    return { token: `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), this.privateKey))}`, claims: full };
  }

  /** The JWKS of `GET /oauth2/jwks`. */
  jwks(): { keys: Jwk[] } {
    return {
      keys: [
        { ...this.publicKey.export({ format: 'jwk' }), kid: this.kid, alg: 'RS256', use: 'sig', x5c: [this.cert.raw.toString('base64')] },
      ],
    };
  }

  /** The claims of an unexpired token this issuer signed: how a control plane authenticates calls to its own REST APIs. */
  verify(token: string): TokenClaims | undefined {
    const jwt = parseJwt(token);
    return jwt && signedBy(jwt, this.publicKey) && !expired(jwt.claims) ? jwt.claims : undefined;
  }
}
