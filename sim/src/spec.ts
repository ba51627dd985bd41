import { readFileSync } from 'fs';
import { load } from 'js-yaml';
import OpenAPIRequestValidator from 'openapi-request-validator';

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly regex: RegExp;
  readonly paramNames: readonly string[];
  readonly scopes: readonly string[];
  readonly definition: Record<string, unknown>;
}

export interface Match {
  readonly operation: Operation;
  readonly params: Record<string, string>;
}

type Spec = { paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, Record<string, unknown>> };

/**
 * One of the product's REST APIs as its official OpenAPI file describes it: routes, the OAuth2
 * scopes each operation accepts, and request validation. The stand-in serves only what it
 * implements; the spec decides paths, scopes and what a malformed body is.
 */
export class RestApi {
  private readonly operations: Operation[] = [];
  private readonly validators = new Map<Operation, OpenAPIRequestValidator>();
  readonly spec: Spec;

  constructor(file: string, readonly basePath: string) {
    this.spec = load(readFileSync(file, 'utf8')) as Spec;
    for (const [template, item] of Object.entries(this.spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const paramNames: string[] = [];
        const pattern = template.replace(/\{([^}]+)\}/g, (_, name: string) => { paramNames.push(name); return '([^/]+)'; });
        const security = (op.security as Record<string, string[]>[] | undefined)?.[0]?.OAuth2Security ?? [];
        this.operations.push({
          method: method.toUpperCase(), template, regex: new RegExp(`^${pattern}$`), paramNames, scopes: security,
          definition: { ...op, parameters: [...((item.parameters as unknown as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])] },
        });
      }
    }
    // Literal paths before templated ones (`/apis/change-lifecycle` before `/apis/{apiId}`).
    this.operations.sort((a, b) => a.paramNames.length - b.paramNames.length);
  }

  match(method: string, path: string): Match | undefined {
    if (!path.startsWith(this.basePath)) return undefined;
    const rest = path.slice(this.basePath.length) || '/';
    for (const operation of this.operations) {
      if (operation.method !== method) continue;
      const m = operation.regex.exec(rest);
      if (m) return { operation, params: Object.fromEntries(operation.paramNames.map((n, i) => [n, decodeURIComponent(m[i + 1])])) };
    }
    return undefined;
  }

  /** True when some operation has this path (so a wrong method is 405, not 404). */
  hasPath(path: string): boolean {
    if (!path.startsWith(this.basePath)) return false;
    const rest = path.slice(this.basePath.length) || '/';
    return this.operations.some((o) => o.regex.test(rest));
  }

  /** Messages of what in the request breaks the spec; empty when it is valid. */
  validate(match: Match, body: unknown, query: URLSearchParams, contentType: string | undefined): string[] {
    let validator = this.validators.get(match.operation);
    if (!validator) {
      const def = match.operation.definition;
      let requestBody = def.requestBody as Record<string, unknown> | undefined;
      const ref = requestBody?.$ref as string | undefined;
      if (ref) requestBody = this.spec.components.requestBodies[ref.split('/').pop()!] as Record<string, unknown>;
      const parameters = ((def.parameters as Record<string, unknown>[]) ?? []).map((p) =>
        p.$ref ? this.spec.components.parameters[String(p.$ref).split('/').pop()!] : p) as never[];
      validator = new OpenAPIRequestValidator({
        parameters: parameters.filter((p: Record<string, unknown>) => p.in !== 'header'),
        requestBody: requestBody as never,
        componentSchemas: this.spec.components.schemas as never,
      } as never);
      this.validators.set(match.operation, validator);
    }
    const errors = validator.validateRequest({
      headers: { 'content-type': contentType ?? 'application/json' },
      body: body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
      params: match.params,
      query: Object.fromEntries(query.entries()),
    });
    // The validator fills schema defaults in, then flags the read-only ones it added itself.
    const sent = (path?: string) => !!path && typeof body === 'object' && body !== null && path in body;
    return (errors?.errors ?? [])
      .filter((e: { path?: string; message: string }) => !(e.message === 'is read-only' && !sent(e.path)))
      .map((e: { path?: string; message: string }) => `${e.path ?? ''} ${e.message}`.trim());
  }
}
