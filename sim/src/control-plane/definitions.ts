import { load } from 'js-yaml';
import type { ApiDoc } from '../store';

/**
 * An API's OpenAPI definition as the publisher keeps it (`GET`/`PUT /apis/{apiId}/swagger`),
 * after carbon-apimgt 9.29.120 (`fb680d80`): `OASParserUtil.validateAPIDefinition` reads JSON, or
 * YAML when the text does not start with `{`; a definition neither OpenAPI 3 nor Swagger 2 accepts
 * ends in the Swagger 2 parser's answer (an OAS3 failure is retried as OAS2: `tryOAS2Validation`),
 * `INVALID_OAS2_FOUND` 900761; what cannot be read at all is `OPENAPI_PARSE_EXCEPTION` 900754. The
 * API's resources (URI templates) then come from the definition's paths and their verbs
 * (`PublisherCommonUtils.prepareForUpdateSwagger`); none is `NO_RESOURCES_FOUND`.
 */

/** An API resource as the publisher's `operations` list holds it. */
export interface ApiOperation {
  readonly target: string;
  readonly verb: string;
  readonly authType: string;
  readonly throttlingPolicy: string;
}

export type DefinitionResult =
  | { readonly ok: true; readonly definition: Record<string, unknown>; readonly operations: readonly ApiOperation[] }
  | { readonly ok: false; readonly code: number; readonly message: string; readonly problems: readonly string[] };

/** The HTTP verbs an OpenAPI path item can hold, as resources. */
const VERBS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads and checks a definition given as text; its resources, or why the product refuses it. */
export function readDefinition(text: string, existing: readonly ApiOperation[] = []): DefinitionResult {
  let doc: unknown;
  try {
    doc = text.trim().startsWith('{') ? JSON.parse(text) : load(text);
  } catch (err) {
    return { ok: false, code: 900754, message: 'Error while parsing OpenAPI definition', problems: [(err as Error).message.split('\n')[0]] };
  }
  if (!isObject(doc)) return { ok: false, code: 900754, message: 'Error while parsing OpenAPI definition', problems: ['the definition is not an object'] };
  const problems: string[] = [];
  const oas3 = typeof doc.openapi === 'string' && /^3\.\d+\.\d+$/.test(doc.openapi);
  const oas2 = doc.swagger === '2.0';
  if (!oas3 && !oas2) problems.push('attribute swagger is missing');
  const info = doc.info;
  if (!isObject(info)) problems.push('attribute info is missing');
  else {
    if (typeof info.title !== 'string') problems.push('attribute info.title is missing');
    if (typeof info.version !== 'string') problems.push('attribute info.version is missing');
  }
  if (!isObject(doc.paths)) problems.push('attribute paths is missing');
  if (problems.length) return { ok: false, code: 900761, message: 'Invalid OpenAPI V2 definition found', problems };
  const operations: ApiOperation[] = [];
  for (const [target, item] of Object.entries(doc.paths as Record<string, unknown>)) {
    if (!target.startsWith('/')) {
      problems.push(`paths.'${target}' does not start with /`);
      continue;
    }
    if (!isObject(item)) continue;
    for (const verb of VERBS) {
      const op = item[verb];
      if (!isObject(op)) continue;
      const kept = existing.find((o) => o.target === target && o.verb === verb.toUpperCase());
      operations.push({
        target, verb: verb.toUpperCase(),
        authType: typeof op['x-auth-type'] === 'string' ? op['x-auth-type'] : kept?.authType ?? 'Application & Application User',
        throttlingPolicy: typeof op['x-throttling-tier'] === 'string' ? op['x-throttling-tier'] : kept?.throttlingPolicy ?? 'Unlimited',
      });
    }
  }
  if (problems.length) return { ok: false, code: 900761, message: 'Invalid OpenAPI V2 definition found', problems };
  return { ok: true, definition: doc, operations };
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
    const given = isObject(stored?.paths) && isObject((stored!.paths as Record<string, unknown>)[o.target]) ? ((stored!.paths as Record<string, Record<string, unknown>>)[o.target][verb] as Record<string, unknown> | undefined) : undefined;
    paths[o.target] = {
      ...paths[o.target],
      [verb]: { ...(given ?? { parameters: [], responses: { 200: { description: 'OK' } } }), security: [{ default: [] }], 'x-auth-type': o.authType, 'x-throttling-tier': o.throttlingPolicy },
    };
  }
  const base = stored ?? { openapi: '3.0.1', info: { title: api.name, version: api.version }, servers: [{ url: '/' }] };
  // The security scheme the product marks every resource with: OAS3 `components`, Swagger 2 `securityDefinitions`.
  const security = base.swagger === '2.0'
    ? { securityDefinitions: { ...(isObject(base.securityDefinitions) ? base.securityDefinitions : {}), default: { type: 'oauth2', authorizationUrl: 'https://test.com', flow: 'implicit', scopes: {} } } }
    : { components: { ...(isObject(base.components) ? base.components : {}), securitySchemes: { default: { type: 'oauth2', flows: { implicit: { authorizationUrl: 'https://test.com', scopes: {} } } } } } };
  return { ...base, paths, ...security, 'x-wso2-basePath': `${api.context}/${api.version}` };
}

/** The API as the publisher shows it: the definition and policy clones it keeps beside it are not fields of the API DTO. */
export function shownApi(api: ApiDoc): ApiDoc {
  const { apiDefinition: _kept, operationPolicyClones: _clones, ...shown } = api;
  return shown as ApiDoc;
}
