import Ajv, { ValidateFunction } from 'ajv';

/**
 * A gateway's check of a call against its API's definition, for an API with
 * `enableSchemaValidation` (carbon-apimgt 9.29.120 `gateway/handlers/security/SchemaValidator`,
 * the last handler of the API's Synapse artifact: product-apim v4.3.0 `velocity_template.xml`
 * l.371-372). It runs Atlassian's swagger-request-validator on the request and on the response,
 * with missing required properties and a missing response body at INFO and additional properties
 * ignored (l.47-58). An error answers through the threat fault (`GatewayUtils.handleThreat`,
 * `_threat_fault_.xml`, always HTTP 400): `{"code":"400","message":"Bad Request","description":
 * "Schema validation failed in the Request: …, "}` for a request, code "500" and "Bad Response" for
 * a response. The stand-in checks the JSON request body of the operation the request matched, and of
 * the response its status (declared, or a `default`) and JSON body, with Ajv; its messages are its own.
 */

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the product's level resolver does not count as an error (`getOpenAPIValidator`). */
const NOT_ERRORS = new Set(['required', 'additionalProperties']);

/**
 * Per deployed definition (a redeploy brings a new one, and the old goes with its Ajv and its
 * compiled schemas): each schema compiled once, or `null` when Ajv cannot compile it (a draft-4
 * keyword that OpenAPI 3.0 allows): that part is then not checked, as the stand-in cannot, and said once.
 */
const compiled = new WeakMap<Json, { ajv: Ajv; schemas: Map<string, ValidateFunction | null> }>();

function validatorOf(definition: Json, key: string, schema: unknown, warn: (line: string) => void): ValidateFunction | null {
  let entry = compiled.get(definition);
  if (!entry) {
    entry = { ajv: new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false }), schemas: new Map() };
    compiled.set(definition, entry);
  }
  if (entry.schemas.has(key)) return entry.schemas.get(key)!;
  // The schema under the definition's own, so that its $refs (#/components/schemas/…,
  // #/definitions/…) resolve against the definition.
  const root: Json = { allOf: [schema] };
  if (isObject(definition.components)) root.components = definition.components;
  if (isObject(definition.definitions)) root.definitions = definition.definitions;
  let validate: ValidateFunction | null;
  try {
    validate = entry.ajv.compile(root);
  } catch (err) {
    warn(`the schema of ${key} is not checked: ${(err as Error).message}`);
    validate = null;
  }
  entry.schemas.set(key, validate);
  return validate;
}

/** `#/components/requestBodies/X`, `#/parameters/X` and the like, within the definition. */
function deref(definition: Json, value: unknown): unknown {
  const ref = isObject(value) && typeof value.$ref === 'string' ? value.$ref : undefined;
  if (!ref?.startsWith('#/')) return value;
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>((at, part) => (isObject(at) ? at[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), definition);
}

function operationOf(definition: Json, target: string, verb: string): { item?: Json; op?: Json } {
  const item = isObject(definition.paths) ? (definition.paths as Json)[target] : undefined;
  const op = isObject(item) ? item[verb.toLowerCase()] : undefined;
  return { item: isObject(item) ? item : undefined, op: isObject(op) ? op : undefined };
}

/** The operation's body schema and whether a body is required, in the definition's own terms. */
function bodyOf(definition: Json, target: string, verb: string): { schema?: unknown; required: boolean } {
  const { item, op } = operationOf(definition, target, verb);
  if (!op) return { required: false };
  const requestBody = deref(definition, op.requestBody);
  if (isObject(requestBody)) {
    const content = isObject(requestBody.content) ? requestBody.content : {};
    const json = Object.entries(content).find(([type]) => /json/i.test(type))?.[1];
    return { schema: isObject(json) ? json.schema : undefined, required: requestBody.required === true };
  }
  // Swagger 2: a body parameter of the operation, or of its path.
  const parameters = [
    ...(Array.isArray(item?.parameters) ? item!.parameters : []),
    ...(Array.isArray(op.parameters) ? op.parameters : []),
  ].map((p) => deref(definition, p));
  const param = parameters.find((p) => isObject(p) && p.in === 'body') as Json | undefined;
  return { schema: param?.schema, required: param?.required === true };
}

const problemsOf = (validate: ValidateFunction, value: unknown): string[] =>
  validate(value)
    ? []
    : (validate.errors ?? [])
        .filter((e) => !NOT_ERRORS.has(e.keyword))
        .map((e) => `[Path '${e.instancePath || '/'}'] ${e.message ?? 'is not valid'}`);

/** Why the request is refused, or nothing: each problem a message of the threat fault's description. */
export function requestProblems(
  definition: Json,
  target: string,
  verb: string,
  rawBody: string,
  warn: (line: string) => void = () => undefined,
): string[] {
  const { schema, required } = bodyOf(definition, target, verb);
  if (!rawBody.trim()) return required ? ['A request body is required but none found.'] : [];
  if (!isObject(schema) && typeof schema !== 'boolean') return [];
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    return [`Unable to parse JSON - ${(err as Error).message}`];
  }
  const validate = validatorOf(definition, `request ${verb} ${target}`, schema, warn);
  return validate ? problemsOf(validate, body) : [];
}

/**
 * Why the backend's answer is refused, or nothing: a status the operation does not declare (and no
 * `default`), or a JSON body that does not fit the declared schema. A missing body is INFO.
 */
export function responseProblems(
  definition: Json,
  target: string,
  verb: string,
  status: number,
  rawBody: string,
  warn: (line: string) => void = () => undefined,
): string[] {
  const { op } = operationOf(definition, target, verb);
  if (!op || !isObject(op.responses)) return [];
  const declared = op.responses[String(status)] ?? op.responses.default;
  if (declared === undefined) return [`Response status ${status} not defined for operation '${verb} ${target}'.`];
  const response = deref(definition, declared);
  const content = isObject(response) && isObject(response.content) ? response.content : undefined;
  const json = content ? Object.entries(content).find(([type]) => /json/i.test(type))?.[1] : undefined;
  // OpenAPI 3 `content.<json>.schema`, or Swagger 2's `schema` on the response.
  const schema = isObject(json) ? json.schema : isObject(response) ? response.schema : undefined;
  if (!rawBody.trim() || (!isObject(schema) && typeof schema !== 'boolean')) return [];
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch (err) {
    return [`Unable to parse JSON - ${(err as Error).message}`];
  }
  const validate = validatorOf(definition, `response ${status} ${verb} ${target}`, schema, warn);
  return validate ? problemsOf(validate, body) : [];
}
