import { readFileSync } from 'fs';
// js-yaml, not `yaml`: WSO2's OpenAPI files continue single-quoted scalars on lines indented less
// than their key, which YAML 1.2 parsers (`yaml`) refuse and js-yaml reads as the product does.
import { load } from 'js-yaml';
import OpenAPIRequestValidator from 'openapi-request-validator';
import { bindBody, bindQuery, BoundBody, ResolveRef, Schema } from './binding';

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

/** What checks a request to one operation: the spec's own validators, and the schema its JSON body binds to. */
interface Checks {
  /** Parameters and body, for a body that is not JSON or is missing (made on first use). */
  readonly request: () => OpenAPIRequestValidator;
  /** Parameters only; a JSON body is bound instead (made on first use). */
  readonly parameters: () => OpenAPIRequestValidator;
  readonly parameterSchemas: readonly Schema[];
  readonly jsonBody?: Schema;
}

const JSON_MEDIA = /^application\/(?:[\w.+-]+\+)?json\b/i;

type Spec = { paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, Record<string, unknown>> };

/**
 * One of the product's REST APIs as its official OpenAPI file describes it: routes, the OAuth2
 * scopes each operation accepts, and request binding. The stand-in serves only what it
 * implements; the spec decides paths and scopes, the spec's DTOs as the product binds them decide
 * what a malformed body is.
 */
export class RestApi {
  private readonly operations: Operation[] = [];
  private readonly checks = new Map<Operation, Checks>();
  readonly spec: Spec;

  constructor(
    file: string,
    readonly basePath: string,
  ) {
    this.spec = load(readFileSync(file, 'utf8')) as Spec;
    for (const [template, item] of Object.entries(this.spec.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const paramNames: string[] = [];
        const pattern = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
          paramNames.push(name);
          return '([^/]+)';
        });
        const security = (op.security as Record<string, string[]>[] | undefined)?.[0]?.OAuth2Security ?? [];
        this.operations.push({
          method: method.toUpperCase(),
          template,
          regex: new RegExp(`^${pattern}$`),
          paramNames,
          scopes: security,
          definition: {
            ...op,
            parameters: [...((item.parameters as unknown as unknown[]) ?? []), ...((op.parameters as unknown[]) ?? [])],
          },
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

  /**
   * The request as the product's resource method receives it: a JSON body bound to its DTO the way
   * Jackson and Bean Validation do it (sim/src/binding.ts), parameters checked against the spec.
   * `problems` holds why the product answers 400; empty when the request is valid, and then `body`
   * is what the handler must use (coerced scalars, required lists filled in).
   */
  bind(match: Match, body: unknown, query: URLSearchParams, contentType: string | undefined): BoundBody {
    const checks = this.checksFor(match.operation);
    // A missing (or null) body, or one that is not JSON, keeps the spec's own check of the body.
    const dto = body !== undefined && body !== null && JSON_MEDIA.test(contentType ?? 'application/json') ? checks.jsonBody : undefined;
    const errors = (dto ? checks.parameters : checks.request)().validateRequest({
      headers: { 'content-type': contentType ?? 'application/json' },
      body: dto || body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
      params: match.params,
      query: bindQuery(Object.fromEntries(query.entries()), checks.parameterSchemas, this.resolve),
    });
    // The validator fills schema defaults in, then flags the read-only ones it added itself.
    const sent = (path?: string) => !!path && typeof body === 'object' && body !== null && path in body;
    const problems = ((errors?.errors ?? []) as { path?: string; message: string }[])
      .filter((e) => !(e.message === 'is read-only' && !sent(e.path)))
      .map((e) => `${e.path ?? ''} ${e.message}`.trim());
    if (!dto) return { body, problems };
    const bound = bindBody(body, dto, this.resolve);
    return { body: bound.body, problems: [...problems, ...bound.problems] };
  }

  private readonly resolve: ResolveRef = (ref) => {
    const schema = this.spec.components.schemas[ref.split('/').pop()!];
    if (!schema) throw new Error(`schema ${ref} is not in components.schemas of the spec`);
    return schema as Schema;
  };

  private checksFor(operation: Operation): Checks {
    let checks = this.checks.get(operation);
    if (checks) return checks;
    const def = operation.definition;
    let requestBody = def.requestBody as Record<string, unknown> | undefined;
    const ref = requestBody?.$ref as string | undefined;
    if (ref) requestBody = this.spec.components.requestBodies[ref.split('/').pop()!] as Record<string, unknown>;
    const parameterSchemas = ((def.parameters as Record<string, unknown>[]) ?? []).map((p) =>
      p.$ref ? this.spec.components.parameters[String(p.$ref).split('/').pop()!] : p,
    ) as Schema[];
    requestBody = withoutUndefinedRequired(requestBody);
    const parameters = parameterSchemas.filter((p) => p.in !== 'header');
    const validator = (withBody: boolean) => {
      let made: OpenAPIRequestValidator | undefined;
      return () =>
        (made ??= new OpenAPIRequestValidator({
          parameters,
          requestBody: withBody ? requestBody : undefined,
          componentSchemas: reachableSchemas(this.spec.components.schemas, withBody ? [parameters, requestBody] : [parameters]),
        } as never));
    };
    const content = requestBody?.content as Record<string, { schema?: Schema }> | undefined;
    checks = { request: validator(true), parameters: validator(false), parameterSchemas, jsonBody: content?.['application/json']?.schema };
    this.checks.set(operation, checks);
    return checks;
  }
}

const SCHEMA_REF = '#/components/schemas/';

/**
 * The component schemas a validator can reach from its parameters and body through `$ref`s, and
 * no others. The validator adds every schema it is given (and each of their properties) to a new
 * Ajv of its own; given all of them, each operation's first request cost 30–150 ms of CPU here
 * (the publisher's 168 operations 4.6 s), which a passive manager paid on the requests of a
 * fail-over, several operations at once on a busy machine: seconds no product spends. Schemas no
 * `$ref` reaches never take part in a validation, so the result is the same.
 */
export function reachableSchemas(all: Record<string, unknown>, roots: readonly unknown[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith(SCHEMA_REF)) {
          const name = value.slice(SCHEMA_REF.length).split('/')[0];
          if (!(name in picked) && name in all) {
            picked[name] = all[name];
            visit(all[name]);
          }
        } else visit(value);
      }
    }
  };
  roots.forEach(visit);
  return picked;
}

/**
 * A form body's schema without the names its `required` list gives but its properties do not define:
 * the publisher file's `POST /apis/{apiId}/operation-policies` requires a `type` it has no property
 * for, and the product binds form parts by name (its generated interface marks every part
 * `required=false`, carbon-apimgt 9.29.120 ApisApi.java l.179), so nothing is refused for it.
 */
function withoutUndefinedRequired(requestBody: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  const content = requestBody?.content as
    Record<string, { schema?: { required?: string[]; properties?: Record<string, unknown> } }> | undefined;
  const form = content?.['multipart/form-data']?.schema;
  if (!form?.required || !form.properties) return requestBody;
  const required = form.required.filter((name) => name in form.properties!);
  return {
    ...requestBody,
    content: { ...content, 'multipart/form-data': { ...content!['multipart/form-data'], schema: { ...form, required } } },
  };
}
