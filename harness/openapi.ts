import { readFileSync } from 'fs';
// js-yaml, not `yaml`: WSO2's OpenAPI files continue single-quoted scalars on lines indented less
// than their key, which YAML 1.2 parsers (`yaml`) refuse and js-yaml reads as the product does.
import { load } from 'js-yaml';
import { join } from 'path';
import OpenAPIResponseValidator from 'openapi-response-validator';
import { PROJECT_ROOT } from '../generator/paths';
import type { Exchange } from './http';

/** An OpenAPI 3 file (`components`), or a Swagger 2 one (`definitions`, `responses`: the gateway's). */
type Spec = {
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
  components: Record<string, Record<string, unknown>>;
  swagger?: string;
  definitions?: Record<string, unknown>;
  responses?: Record<string, unknown>;
};

const SPECS: Record<string, string> = {
  '/api/am/publisher/v4': 'publisher-api.yaml',
  '/api/am/devportal/v3': 'devportal-api.yaml',
  '/api/am/admin/v4': 'admin-api.yaml',
  '/api/am/gateway/v2': 'gateway-api.yaml',
};

/**
 * Where the product answers differently from its own spec, the product wins (fidelity), and the
 * body is checked against what the spec gives for the status it should have listed.
 */
const PRODUCT_STATUS: Record<string, Record<number, string>> = {
  'POST /apis/{apiId}/deploy-revision': { 201: '200' }, // APIRevisionTestCase asserts 201
  'POST /apis': { 409: '#Conflict' }, // duplicate name/context: the product answers 409
};

const GLOBAL_ERRORS: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 500: 'InternalServerError' };

/** Validates REST responses against the official APIM 4.3.0 OpenAPI files with a real validator. */
export class ContractValidator {
  private readonly specs = new Map<string, Spec>();

  private spec(base: string): Spec {
    if (!this.specs.has(base)) {
      const spec = load(readFileSync(join(PROJECT_ROOT, 'spec', 'apim-4.3.0', 'openapi', SPECS[base]), 'utf8')) as Spec;
      // The publisher file types an applied operation policy's parameters as objects
      // (`additionalProperties: {type: object}`); the product's DTO is a Map<String, Object>
      // (carbon-apimgt 9.29.120 OperationPolicyDTO) and answers the strings and booleans it was given.
      const parameters = (
        spec.components?.schemas as Record<string, { properties?: Record<string, { additionalProperties?: unknown }> }> | undefined
      )?.OperationPolicy?.properties?.parameters;
      if (parameters) parameters.additionalProperties = {};
      // Swagger 2's shared responses live at the top; the lookups below read them from `components`.
      this.specs.set(base, spec.swagger ? { ...spec, components: { responses: spec.responses ?? {} } } : spec);
    }
    return this.specs.get(base)!;
  }

  /** Problems with the response of `exchange`; empty when it conforms. Throws for an unknown path. */
  validate(exchange: Exchange): string[] {
    const url = new URL(exchange.url);
    const base = Object.keys(SPECS).find((b) => url.pathname.startsWith(b));
    if (!base) throw new Error(`${url.pathname} is not under a REST API with a spec`);
    const spec = this.spec(base);
    const rest = url.pathname.slice(base.length);
    const method = exchange.method.toLowerCase();
    const candidates = Object.keys(spec.paths)
      .filter((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(rest) && spec.paths[t][method])
      .sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
    const template = candidates[0];
    if (!template) return [`${exchange.method} ${rest}: no such operation in ${SPECS[base]}`];
    const responses = this.resolve(spec, spec.paths[template][method].responses);
    const mapped = PRODUCT_STATUS[`${exchange.method} ${template}`]?.[exchange.status];
    if (mapped?.startsWith('#')) responses[String(exchange.status)] = spec.components.responses[mapped.slice(1)];
    else if (mapped) responses[String(exchange.status)] = responses[mapped];
    // Every REST API of the product answers 401/403 from its security interceptor and 500 from its
    // error handling (RestApiUtil.handleInternalServerError), listed or not.
    const global = GLOBAL_ERRORS[exchange.status];
    if (!responses[String(exchange.status)] && global && spec.components.responses[global])
      responses[String(exchange.status)] = spec.components.responses[global];
    const validator = new OpenAPIResponseValidator(
      spec.swagger
        ? { responses: responses as never, definitions: spec.definitions as never }
        : { responses: responses as never, components: spec.components as never },
    );
    // No body at all (HTTP's empty entity, which the client reads as '') is what `content: {}` describes.
    const result = validator.validateResponse(exchange.status, exchange.body === '' ? null : exchange.body);
    return (result?.errors ?? []).map(
      (e: { path?: string; message: string }) => `${exchange.method} ${template} ${exchange.status}: ${e.path ?? ''} ${e.message}`,
    );
  }

  private resolve(spec: Spec, responses: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(responses).map(([status, r]) => {
        const ref = (r as { $ref?: string }).$ref;
        return [status, ref ? spec.components.responses[ref.split('/').pop()!] : r];
      }),
    );
  }
}
