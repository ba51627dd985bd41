import { formFields } from '../multipart';
import type { Req, Res } from '../http';
import { bearerToken, parseJson, restError } from '../http';
import type { Match, RestApi } from '../spec';
import type { TokenClaims, TokenIssuer } from '../tokens';

/** What `parseJson` (sim/src/http.ts) returns for a body that is not JSON. */
const MALFORMED = Symbol.for('malformed');

/** A request to one operation, authenticated, authorized and bound to the operation's DTO. */
export interface Ctx {
  readonly req: Req;
  readonly match: Match;
  /** The body as the product's resource method receives it (see `RestApi.bind`). */
  readonly body: unknown;
  readonly claims: TokenClaims;
}

/** The stand-in's implementation of one REST operation. */
export type Operation = (ctx: Ctx) => Promise<Res>;

/** Implementations of a REST API's operations, by `METHOD /template` of its OpenAPI file. */
export type Operations = Readonly<Record<string, Operation>>;

/**
 * Serves a request to one of the product's REST APIs the way its JAX-RS webapp does: the route of
 * the OpenAPI file (405 for a path that exists under another method), a valid Bearer token, not revoked (401),
 * one of the operation's scopes (403), a JSON body bound to the operation's DTO (400), then the
 * operation (501 when the stand-in does not implement it). Undefined when no path of the API
 * matches, so the next API can try.
 */
export async function dispatch(
  api: RestApi,
  operations: Operations,
  tokens: Pick<TokenIssuer, 'verify'> & { isRevoked(jti: string): Promise<boolean> },
  req: Req,
): Promise<Res | undefined> {
  const match = api.match(req.method, req.path);
  if (!match)
    return api.hasPath(req.path) ? restError(405, 'Method Not Allowed', `${req.method} is not supported on ${req.path}`) : undefined;
  const token = bearerToken(req);
  const verified = token ? tokens.verify(token) : undefined;
  const claims = verified && !(await tokens.isRevoked(verified.jti)) ? verified : undefined;
  if (!claims)
    return restError(
      401,
      'Unauthenticated',
      'Authentication failed: a valid Bearer token is required (Authorization: Bearer <access token>)',
      900902,
    );
  const granted = claims.scope.split(' ');
  if (match.operation.scopes.length && !match.operation.scopes.some((s) => granted.includes(s))) {
    return restError(403, 'Forbidden', `The token lacks every scope this resource accepts: ${match.operation.scopes.join(', ')}`, 900910);
  }
  const contentType = req.headers['content-type'] ?? '';
  let parsed: unknown;
  if (/^multipart\/form-data/i.test(contentType)) {
    try {
      parsed = await formFields(contentType, req.rawBody);
    } catch (err) {
      return restError(400, 'Bad Request', `Malformed multipart/form-data body: ${(err as Error).message}`);
    }
  } else {
    parsed = parseJson(req);
    if (parsed === MALFORMED) return restError(400, 'Bad Request', 'Malformed request body: not valid JSON');
  }
  const { body, problems } = api.bind(match, parsed, req.query, req.headers['content-type']);
  if (problems.length) return restError(400, 'Bad Request', problems.join('; '));
  const operation = operations[`${match.operation.method} ${match.operation.template}`];
  if (!operation)
    return restError(
      501,
      'Not Implemented',
      `The carbon-labs stand-in does not implement ${match.operation.method} ${match.operation.template}`,
    );
  return operation({ req, match, body, claims });
}
