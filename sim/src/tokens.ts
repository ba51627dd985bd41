import { createHmac, randomUUID, timingSafeEqual } from 'crypto';

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

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** HS256 with a key every node derives from the same keystore settings, like a shared wso2carbon.jks. */
export class TokenIssuer {
  constructor(private readonly secret: string, private readonly issuer: string) {}

  issue(claims: Omit<TokenClaims, 'iat' | 'exp' | 'jti' | 'iss'>, validitySeconds: number): { token: string; claims: TokenClaims } {
    const now = Math.floor(Date.now() / 1000);
    const full: TokenClaims = { ...claims, iat: now, exp: now + validitySeconds, jti: randomUUID(), iss: this.issuer };
    const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'at+jwt' }));
    const body = b64url(JSON.stringify(full));
    return { token: `${head}.${body}.${this.sign(`${head}.${body}`)}`, claims: full };
  }

  /** The claims of a valid, unexpired token, or undefined. */
  verify(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    const expected = Buffer.from(this.sign(`${parts[0]}.${parts[1]}`));
    const given = Buffer.from(parts[2]);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
    return claims.exp > Date.now() / 1000 ? claims : undefined;
  }

  private sign(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url');
  }
}
