import { load } from 'js-yaml';
import type { ApiDoc } from '../store';

/**
 * An API's OpenAPI definition as the publisher keeps it (`GET`/`PUT /apis/{apiId}/swagger`), after
 * carbon-apimgt 9.29.120 (`fb680d80`) `OASParserUtil.validateAPIDefinition` (l.1090-1119): JSON, or
 * YAML when the text does not start with `{` (unreadable YAML throws: the operation's generic 500);
 * JSON that Gson cannot read is one `OPENAPI_PARSE_EXCEPTION` (900754) item with the exception. The
 * OpenAPI 3 parser's messages become 900754 items (`addErrorToValidationResponse` l.1176-1184); only
 * "openapi is missing" adds `INVALID_OAS3_FOUND` and sends the text to the Swagger 2 parser instead
 * (`OAS3Parser` l.789-799, `tryOAS2Validation`), whose messages are 900754 items too, "swagger is
 * missing" adding `INVALID_OAS2_FOUND` 900761 (`OAS2Parser` l.657-680). The stand-in gives the
 * messages swagger-parser gives for a missing attribute (`attribute info is missing`, …), not its
 * other checks. The API's resources then come from the paths and their verbs
 * (`PublisherCommonUtils.prepareForUpdateSwagger`); none is `NO_RESOURCES_FOUND`, which the
 * operation's catch makes a 500.
 */

/** An API resource as the publisher's `operations` list holds it. */
export interface ApiOperation {
  readonly target: string;
  readonly verb: string;
  readonly authType: string;
  readonly throttlingPolicy: string;
}

/** An error item of the validation, as `RestApiUtil.getErrorDTO` lays them out (the first is the body). */
export interface DefinitionError {
  readonly code: number;
  readonly message: string;
  readonly description: string;
}

export type DefinitionResult =
  | { readonly ok: true; readonly definition: Record<string, unknown>; readonly operations: readonly ApiOperation[] }
  /** 400: the validation's error items. */
  | { readonly ok: false; readonly items: readonly DefinitionError[] }
  /** 500: what the product throws instead of answering the validation. */
  | { readonly ok: false; readonly failure: string };

/** The HTTP verbs an OpenAPI path item can hold, as resources. */
const VERBS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const PARSE = { code: 900754, message: 'Error while parsing OpenAPI definition' };
const parseItem = (description: string): DefinitionError => ({ ...PARSE, description });

/** The missing attributes swagger-parser reports for a document of its version, in its order. */
function missing(doc: Record<string, unknown>, version: 'openapi' | 'swagger'): string[] {
  const out: string[] = [];
  if (version === 'openapi' ? typeof doc.openapi !== 'string' : doc.swagger !== '2.0') out.push(`attribute ${version} is missing`);
  if (!isObject(doc.info)) out.push('attribute info is missing');
  else {
    if (typeof doc.info.title !== 'string') out.push('attribute info.title is missing');
    if (typeof doc.info.version !== 'string') out.push('attribute info.version is missing');
  }
  if (!isObject(doc.paths)) out.push('attribute paths is missing');
  return out;
}

/** Reads and checks a definition given as text; its resources, or why the product refuses it. */
export function readDefinition(text: string, existing: readonly ApiOperation[] = []): DefinitionResult {
  let doc: unknown;
  if (text.trim().startsWith('{')) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { ok: false, items: [parseItem(`com.google.gson.JsonSyntaxException: ${(err as Error).message}`)] };
    }
  } else {
    try {
      doc = load(text);
    } catch {
      return { ok: false, failure: 'Error while reading API definition yaml' };
    }
  }
  const object = isObject(doc) ? doc : {};
  const v3 = missing(object, 'openapi');
  if (v3.length) {
    if (!v3.includes('attribute openapi is missing')) return { ok: false, items: v3.map(parseItem) };
    const v2 = missing(object, 'swagger');
    if (v2.length) {
      return {
        ok: false,
        items: v2.flatMap((m) =>
          m === 'attribute swagger is missing'
            ? [
                parseItem(m),
                { code: 900761, message: 'Invalid OpenAPI V2 definition found', description: 'Invalid OpenAPI V2 definition found' },
              ]
            : [parseItem(m)],
        ),
      };
    }
  }
  const operations: ApiOperation[] = [];
  for (const [target, item] of Object.entries(object.paths as Record<string, unknown>)) {
    if (!isObject(item)) continue;
    for (const verb of VERBS) {
      const op = item[verb];
      if (!isObject(op)) continue;
      const kept = existing.find((o) => o.target === target && o.verb === verb.toUpperCase());
      operations.push({
        target,
        verb: verb.toUpperCase(),
        authType: typeof op['x-auth-type'] === 'string' ? op['x-auth-type'] : (kept?.authType ?? 'Application & Application User'),
        throttlingPolicy: typeof op['x-throttling-tier'] === 'string' ? op['x-throttling-tier'] : (kept?.throttlingPolicy ?? 'Unlimited'),
      });
    }
  }
  if (!operations.length) return { ok: false, failure: '900763:No resources found::API must have at least one resource defined' };
  return { ok: true, definition: object, operations };
}

/**
 * The definition the publisher shows for an API: the one last put, with its resources as the API
 * now has them; else one built from its resources (the product generates one when an API is made
 * from its DTO: `OASParserUtil.generateAPIDefinition`), with the extensions it marks resources with.
 */
export function definitionOf(api: ApiDoc): Record<string, unknown> {
  const operations = (api.operations ?? []) as ApiOperation[];
  const stored = isObject(api.apiDefinition) ? api.apiDefinition : undefined;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const o of operations) {
    const verb = o.verb.toLowerCase();
    if (!(VERBS as readonly string[]).includes(verb)) continue;
    const given =
      isObject(stored?.paths) && isObject((stored!.paths as Record<string, unknown>)[o.target])
        ? ((stored!.paths as Record<string, Record<string, unknown>>)[o.target][verb] as Record<string, unknown> | undefined)
        : undefined;
    paths[o.target] = {
      ...paths[o.target],
      [verb]: {
        ...(given ?? { parameters: [], responses: { 200: { description: 'OK' } } }),
        security: [{ default: [] }],
        'x-auth-type': o.authType,
        'x-throttling-tier': o.throttlingPolicy,
      },
    };
  }
  const base = stored ?? { openapi: '3.0.1', info: { title: api.name, version: api.version }, servers: [{ url: '/' }] };
  // The security scheme the product marks every resource with: OAS3 `components`, Swagger 2 `securityDefinitions`.
  const security =
    base.swagger === '2.0'
      ? {
          securityDefinitions: {
            ...(isObject(base.securityDefinitions) ? base.securityDefinitions : {}),
            default: { type: 'oauth2', authorizationUrl: 'https://test.com', flow: 'implicit', scopes: {} },
          },
        }
      : {
          components: {
            ...(isObject(base.components) ? base.components : {}),
            securitySchemes: { default: { type: 'oauth2', flows: { implicit: { authorizationUrl: 'https://test.com', scopes: {} } } } },
          },
        };
  return { ...base, paths, ...security, 'x-wso2-basePath': `${api.context}/${api.version}` };
}

/** The API as the publisher shows it: the definition and policy clones it keeps beside it are not fields of the API DTO. */
export function shownApi(api: ApiDoc): ApiDoc {
  const { apiDefinition: _kept, operationPolicyClones: _clones, ...shown } = api;
  return shown as ApiDoc;
}
