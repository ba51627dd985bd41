/**
 * How the product turns a JSON request body into the DTO its REST resources receive, and what it
 * then answers 400 to. A JSON Schema validator is stricter in some ways and looser in others:
 *
 * - A default `JacksonJsonProvider` (Jackson 2.16, default `ObjectMapper`) binds the body, so
 *   scalars are coerced to the Java type of the field (3600 → "3600" for a String, "3600" → 3600
 *   for an Integer, "true" → true for a Boolean), a property the DTO lacks is an error, and an
 *   object or array where a scalar belongs is an error.
 * - The DTOs are generated from the same OpenAPI files. Their enums' `@JsonCreator fromValue`
 *   returns null for a value it does not know (exact, case-sensitive match), and every list or map
 *   field starts as an empty one, so a required list the client leaves out is not null.
 * - Bean Validation then checks the body DTO (not the elements of a list body): `@NotNull` for
 *   `required`, `@Size`, `@Pattern`, `@Min`, `@Max`, cascading into nested DTOs.
 *
 * Jackson stops at the first binding error; Bean Validation reports every violation.
 * @see docs/real-product.md, "REST binding", for the sources.
 */

/** An OpenAPI schema object as the spec files hold it. */
export type Schema = { readonly [keyword: string]: unknown };
/** Looks up `#/components/schemas/...`. */
export type ResolveRef = (ref: string) => Schema;

export interface BoundBody {
  /** The body as the product's DTO holds it; undefined when binding failed. */
  readonly body: unknown;
  /** What the product answers 400 for, in its words; empty when the body binds and validates. */
  readonly problems: readonly string[];
}

type JavaType =
  | { readonly kind: 'any' }
  | { readonly kind: 'string' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'integer'; readonly java: 'Integer' | 'Long' }
  | { readonly kind: 'number' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'list'; readonly items: Schema }
  | { readonly kind: 'map'; readonly values?: Schema }
  | Bean;

interface Bean {
  readonly kind: 'bean';
  readonly name: string;
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required: readonly string[];
}

/** A Jackson `JsonMappingException`: the product answers 400 with this description. */
class BindingError extends Error {}

const DISALLOWED = 'One or more request body parameters contain disallowed values';
const INT_RANGE = { Integer: [-(2n ** 31n), 2n ** 31n - 1n], Long: [-(2n ** 63n), 2n ** 63n - 1n] } as const;

/** Binds `body` to the DTO `schema` describes, then runs the DTO's bean validation. */
export function bindBody(body: unknown, schema: Schema, resolve: ResolveRef): BoundBody {
  let bound: unknown;
  try {
    bound = bindValue(body, schema, '', resolve);
  } catch (err) {
    if (err instanceof BindingError) return { body: undefined, problems: [err.message] };
    throw err;
  }
  const type = javaType(schema, resolve);
  const problems: string[] = [];
  // A list body is a `List<XxxDTO>` parameter: nothing cascades into its elements.
  if (type.kind === 'bean' && isObject(bound)) validateBean(bound, type, '', resolve, problems);
  return { body: bound, problems };
}

/**
 * Query values as CXF hands them to the resource: an integer parameter through `new Integer(String)`
 * (one that does not parse stays text, so the spec check still rejects it), a boolean one through
 * `new Boolean(String)` (anything but "true", in any case, is false).
 */
export function bindQuery(
  query: Readonly<Record<string, string>>,
  parameters: readonly Schema[],
  resolve: ResolveRef,
): Record<string, unknown> {
  const bound: Record<string, unknown> = { ...query };
  for (const parameter of parameters) {
    const name = String(parameter.name);
    if (parameter.in !== 'query' || !Object.hasOwn(query, name)) continue;
    const type = javaType((parameter.schema ?? {}) as Schema, resolve);
    const text = query[name];
    if (type.kind === 'boolean') bound[name] = text.toLowerCase() === 'true';
    else if (type.kind === 'integer' && /^[+-]?\d+$/.test(text) && inRange(BigInt(text), type.java)) bound[name] = Number(text);
  }
  return bound;
}

function bindValue(value: unknown, schema: Schema, path: string, resolve: ResolveRef): unknown {
  if (value === null) return null;
  const type = javaType(schema, resolve);
  switch (type.kind) {
    case 'any':
      return value;
    case 'string':
      return asString(value, path);
    case 'enum': {
      const text = asString(value, path);
      return type.values.includes(text) ? text : null;
    }
    case 'integer':
      return asInteger(value, type.java, path);
    case 'number':
      return asNumber(value, path);
    case 'boolean':
      return asBoolean(value, path);
    case 'list':
      if (!Array.isArray(value)) throw mismatch(path, value, 'a List');
      return value.map((item, i) => bindValue(item, type.items, `${path}[${i}]`, resolve));
    case 'map':
      if (!isObject(value)) throw mismatch(path, value, 'a Map');
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, type.values ? bindValue(item, type.values, `${path}[${key}]`, resolve) : item]),
      );
    case 'bean': {
      if (!isObject(value)) throw mismatch(path, value, type.name);
      const bean = Object.fromEntries(
        Object.entries(value).map(([key, item]) => {
          if (!Object.hasOwn(type.properties, key)) throw new BindingError(`Unrecognized property '${key}'`);
          return [key, bindValue(item, type.properties[key], member(path, key), resolve)];
        }),
      );
      // A required property the client left out still holds the DTO's initial value (an empty list or
      // map, or the spec default), so it passes @NotNull and the handler must see it too. Optional ones
      // stay out: the handlers' own defaults stand in for the product's mapping code.
      for (const name of type.required) {
        const absent = !Object.hasOwn(bean, name) && Object.hasOwn(type.properties, name);
        const initial = absent ? initialValue(type.properties[name], resolve) : undefined;
        if (initial !== undefined) bean[name] = initial;
      }
      return bean;
    }
  }
}

/** Jackson's `StringDeserializer`: any scalar becomes its text. */
function asString(value: unknown, path: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw mismatch(path, value, 'a String');
}

/** `_parseInteger` / `_parseLong`: a fraction is truncated, "" and "null" are null, other text must be whole. */
function asInteger(value: unknown, java: 'Integer' | 'Long', path: string): number | null {
  if (typeof value === 'number') {
    const whole = Math.trunc(value);
    if (!inRange(BigInt(whole), java)) throw mismatch(path, value, `an ${java}`);
    return whole;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '' || text === 'null') return null;
    if (!/^[+-]?\d+$/.test(text) || !inRange(BigInt(text), java)) throw mismatch(path, value, `an ${java}`);
    return Number(text);
  }
  throw mismatch(path, value, `an ${java}`);
}

/** `BigDecimalDeserializer`: numbers and numeric text. */
function asNumber(value: unknown, path: string): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '' || text === 'null') return null;
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  }
  throw mismatch(path, value, 'a BigDecimal');
}

/** `_parseBoolean`: whole numbers (0 is false), and true/True/TRUE, false/False/FALSE as text. */
function asBoolean(value: unknown, path: string): boolean | null {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return value !== 0;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '' || text === 'null') return null;
    if (['true', 'True', 'TRUE'].includes(text)) return true;
    if (['false', 'False', 'FALSE'].includes(text)) return false;
  }
  throw mismatch(path, value, 'a Boolean');
}

function validateBean(bean: Record<string, unknown>, type: Bean, path: string, resolve: ResolveRef, problems: string[]): void {
  for (const [name, propertySchema] of Object.entries(type.properties)) {
    const at = member(path, name);
    const schema = deref(propertySchema, resolve).schema;
    const value = Object.hasOwn(bean, name) ? bean[name] : initialValue(propertySchema, resolve);
    if (value === null || value === undefined) {
      if (type.required.includes(name)) problems.push(`${at}: must not be null`);
      continue;
    }
    const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
    const [min, max] = typeof value === 'string' ? [schema.minLength, schema.maxLength] : [schema.minItems, schema.maxItems];
    if (
      length !== undefined &&
      (min !== undefined || max !== undefined) &&
      (length < Number(min ?? 0) || length > Number(max ?? 2147483647))
    ) {
      problems.push(`${at}: size must be between ${min ?? 0} and ${max ?? 2147483647}`);
    }
    if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(`^(?:${schema.pattern})$`).test(value)) {
      problems.push(`${at}: must match "${schema.pattern}"`);
    }
    if (typeof value === 'number' && schema.minimum !== undefined && value < Number(schema.minimum)) {
      problems.push(`${at}: must be greater than or equal to ${schema.minimum}`);
    }
    if (typeof value === 'number' && schema.maximum !== undefined && value > Number(schema.maximum)) {
      problems.push(`${at}: must be less than or equal to ${schema.maximum}`);
    }
    cascade(value, propertySchema, at, resolve, problems);
  }
}

/** `@Valid` on every non-scalar DTO getter: into nested DTOs, list elements and map values. */
function cascade(value: unknown, schema: Schema, path: string, resolve: ResolveRef, problems: string[]): void {
  const type = javaType(schema, resolve);
  if (type.kind === 'bean' && isObject(value)) validateBean(value, type, path, resolve, problems);
  if (type.kind === 'list' && Array.isArray(value))
    value.forEach((item, i) => cascade(item, type.items, `${path}[${i}]`, resolve, problems));
  if (type.kind === 'map' && type.values && isObject(value)) {
    for (const [key, item] of Object.entries(value)) cascade(item, type.values, `${path}[${key}]`, resolve, problems);
  }
}

/** What a generated DTO field holds before Jackson sets it: the spec default, an empty list or map, or null. */
function initialValue(schema: Schema, resolve: ResolveRef): unknown {
  const resolved = deref(schema, resolve).schema;
  if (resolved.default !== undefined) return resolved.default;
  const type = javaType(schema, resolve);
  if (type.kind === 'list') return [];
  if (type.kind === 'map') return {};
  return undefined;
}

/** The Java type openapi-generator gives a schema. */
function javaType(schema: Schema, resolve: ResolveRef): JavaType {
  const { schema: s, name } = deref(schema, resolve);
  if (Array.isArray(s.allOf)) {
    // allOf is one DTO (flattened, or extending its parent) with the union of the properties.
    const parts = (s.allOf as Schema[]).map((part) => javaType(part, resolve));
    const beans = parts.filter((p): p is Bean => p.kind === 'bean');
    return {
      // `allOf: [$ref]` alone only wraps the referenced DTO (to attach x- extensions).
      kind: 'bean',
      name: beans.length === 1 && schema === s ? beans[0].name : name,
      properties: Object.assign({}, ...beans.map((b) => b.properties)),
      required: beans.flatMap((b) => b.required),
    };
  }
  switch (s.type) {
    case 'string':
      return Array.isArray(s.enum) ? { kind: 'enum', values: s.enum.map(String) } : { kind: 'string' };
    case 'integer':
      return { kind: 'integer', java: s.format === 'int64' ? 'Long' : 'Integer' };
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'array':
      return { kind: 'list', items: (s.items ?? {}) as Schema };
  }
  const properties = (s.properties ?? {}) as Record<string, Schema>;
  if (Object.keys(properties).length) {
    return { kind: 'bean', name, properties, required: (s.required as string[] | undefined) ?? [] };
  }
  if (s.additionalProperties === true) return { kind: 'map' };
  if (isObject(s.additionalProperties)) return { kind: 'map', values: s.additionalProperties };
  // A free-form object (or no type at all) is a java.lang.Object: any JSON value binds.
  return { kind: 'any' };
}

function deref(schema: Schema, resolve: ResolveRef): { schema: Schema; name: string } {
  let s = schema;
  let name = 'an inline DTO';
  for (let hops = 0; typeof s.$ref === 'string'; hops++) {
    if (hops > 32) throw new Error(`schema $ref ${s.$ref} does not resolve to a schema (a cycle of $refs)`);
    name = `${s.$ref.split('/').pop()}DTO`;
    s = resolve(s.$ref);
  }
  return { schema: s, name };
}

function inRange(n: bigint, java: 'Integer' | 'Long'): boolean {
  const [min, max] = INT_RANGE[java];
  return n >= min && n <= max;
}

function mismatch(path: string, value: unknown, javaName: string): BindingError {
  const what = Array.isArray(value) ? 'an array' : isObject(value) ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
  return new BindingError(`${DISALLOWED} (${path || 'the body'}: ${what} does not bind to ${javaName})`);
}

function member(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
