import Ajv, { ValidateFunction } from 'ajv';

/**
 * A gateway's check of a request against its API's definition, for an API with
 * `enableSchemaValidation` (carbon-apimgt 9.29.120 `gateway/handlers/security/SchemaValidator`,
 * the last handler of the API's Synapse artifact: product-apim v4.3.0 `velocity_template.xml`
 * l.371-372). It runs Atlassian's swagger-request-validator with missing required properties at
 * INFO and additional properties ignored; an error refuses the request with the threat fault:
 * 400 `{"code":"400","message":"Bad Request","description":"Schema validation failed in the Request: …, "}`
 * (`GatewayUtils.handleThreat`, `_threat_fault_.xml`). The stand-in checks the JSON body of the
 * operation the request matched against its schema (OpenAPI 3 `requestBody`, Swagger 2 `in: body`),
 * with Ajv; its messages are Ajv's, not the Atlassian validator's.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the product's level resolver does not count as an error (`getOpenAPIValidator`). */
const NOT_ERRORS = new Set(['required', 'additionalProperties']);

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });

/** The operation's body schema and whether a body is required, in the definition's own terms. */
function bodyOf(definition: Json, target: string, verb: string): { schema?: unknown; required: boolean } {
  const item = isObject(definition.paths) ? (definition.paths as Json)[target] : undefined;
  const op = isObject(item) ? item[verb.toLowerCase()] : undefined;
  if (!isObject(op)) return { required: false };
  if (isObject(op.requestBody)) {
    const content = isObject(op.requestBody.content) ? op.requestBody.content : {};
    const json = Object.entries(content).find(([type]) => /json/i.test(type))?.[1];
    return { schema: isObject(json) ? json.schema : undefined, required: op.requestBody.required === true };
  }
  const param = Array.isArray(op.parameters) ? op.parameters.find((p) => isObject(p) && p.in === 'body') as Json | undefined : undefined;
  return { schema: param?.schema, required: param?.required === true };
}

/** Compiled once per deployed definition and operation (a redeploy brings a new definition). */
const compiled = new WeakMap<Json, Map<string, ValidateFunction>>();

function validatorOf(definition: Json, target: string, verb: string, schema: unknown): ValidateFunction {
  const byOperation = compiled.get(definition) ?? new Map<string, ValidateFunction>();
  compiled.set(definition, byOperation);
  const key = `${verb} ${target}`;
  let validate = byOperation.get(key);
  if (!validate) {
    // The body's schema under the definition's own, so that its $refs (#/components/schemas/…,
    // #/definitions/…) resolve against the definition.
    const root: Json = { allOf: [schema] };
    if (isObject(definition.components)) root.components = definition.components;
    if (isObject(definition.definitions)) root.definitions = definition.definitions;
    validate = ajv.compile(root);
    byOperation.set(key, validate);
  }
  return validate;
}

/** Why the request is refused, or nothing: each problem a message of the threat fault's description. */
export function requestProblems(definition: Json, target: string, verb: string, rawBody: string): string[] {
  const { schema, required } = bodyOf(definition, target, verb);
  if (!rawBody.trim()) return required ? ['A request body is required but none found.'] : [];
  if (!isObject(schema) && typeof schema !== 'boolean') return [];
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    return [`Unable to parse JSON - ${(err as Error).message}`];
  }
  const validate = validatorOf(definition, target, verb, schema);
  if (validate(body)) return [];
  return (validate.errors ?? []).filter((e) => !NOT_ERRORS.has(e.keyword)).map((e) => `[Path '${e.instancePath || '/'}'] ${e.message ?? 'is not valid'}`);
}
