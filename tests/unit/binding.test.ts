import { join } from 'path';
import { reachableSchemas, RestApi } from '../../sim/src/spec';

/**
 * The stand-in binds request bodies as the product does (Jackson's default coercion into the DTOs
 * generated from the same OpenAPI files, then Bean Validation), on the real 4.3.0 spec files.
 * Every case here is one the product answers differently from a plain JSON Schema check.
 */
const SPECS = join(__dirname, '..', '..', 'spec', 'apim-4.3.0', 'openapi');
const publisher = new RestApi(join(SPECS, 'publisher-api.yaml'), '/api/am/publisher/v4');
const devportal = new RestApi(join(SPECS, 'devportal-api.yaml'), '/api/am/devportal/v3');
const admin = new RestApi(join(SPECS, 'admin-api.yaml'), '/api/am/admin/v4');

function bind(api: RestApi, method: string, path: string, body: unknown, query = '') {
  const match = api.match(method, `${api.basePath}${path}`);
  if (!match) throw new Error(`${method} ${api.basePath}${path} matches no operation of the spec`);
  return api.bind(match, body, new URLSearchParams(query), 'application/json');
}

const generateKeys = (body: unknown) => bind(devportal, 'POST', '/applications/app-1/generate-keys', body);
const createApi = (fields: Record<string, unknown>) =>
  bind(publisher, 'POST', '/apis', { name: 'PizzaShack', context: '/pizza', version: '1.0.0', ...fields });
const KEYS = { keyType: 'PRODUCTION', grantTypesToBeSupported: ['client_credentials'] };

describe('scalars the product coerces are accepted, and the handler gets the coerced value', () => {
  test('generate-keys with a numeric validityTime binds it as the String the DTO holds', () => {
    expect(generateKeys({ ...KEYS, validityTime: 3600 })).toEqual({ body: { ...KEYS, validityTime: '3600' }, problems: [] });
  });

  test('an API with a numeric version, a boolean as text and an integer as text', () => {
    const { body, problems } = createApi({ version: 2, isDefaultVersion: 'true', cacheTimeout: '300', description: false });
    expect(problems).toEqual([]);
    expect(body).toMatchObject({ version: '2', isDefaultVersion: true, cacheTimeout: 300, description: 'false' });
  });

  test('Boolean fields take whole numbers and True/FALSE; "" and "null" are null', () => {
    const { body, problems } = createApi({
      responseCachingEnabled: 0,
      isDefaultVersion: 'TRUE',
      enableSchemaValidation: 'False',
      hasThumbnail: '',
    });
    expect(problems).toEqual([]);
    expect(body).toMatchObject({
      responseCachingEnabled: false,
      isDefaultVersion: true,
      enableSchemaValidation: false,
      hasThumbnail: null,
    });
  });

  test('a fraction in an Integer field is truncated, as ACCEPT_FLOAT_AS_INT does', () => {
    expect(createApi({ cacheTimeout: 3.7 }).body).toMatchObject({ cacheTimeout: 3 });
  });

  test('elements of a list body are bound too (deploy-revision)', () => {
    const result = bind(
      publisher,
      'POST',
      '/apis/api-1/deploy-revision',
      [{ name: 'Default', vhost: 'localhost', displayOnDevportal: 'true' }],
      'revisionId=r-1',
    );
    expect(result).toEqual({ body: [{ name: 'Default', vhost: 'localhost', displayOnDevportal: true }], problems: [] });
  });

  test("a required list left out is the DTO's empty list: no 400, and the handler sees []", () => {
    expect(generateKeys({ keyType: 'SANDBOX' })).toEqual({ body: { keyType: 'SANDBOX', grantTypesToBeSupported: [] }, problems: [] });
  });

  test('an unknown value of an optional enum binds to null (fromValue returns null), not a 400', () => {
    expect(createApi({ type: 'SOAPISH' })).toMatchObject({ body: { type: null }, problems: [] });
  });

  test('read-only properties bind (the DTO has setters for them)', () => {
    expect(generateKeys({ ...KEYS, clientId: 'abc', clientSecret: 'def' }).problems).toEqual([]);
  });

  test('an integer query parameter is not rejected for being text', () => {
    expect(bind(publisher, 'GET', '/apis', undefined, 'limit=10&offset=0').problems).toEqual([]);
  });
});

describe('what the product answers 400 to stays a 400', () => {
  test.each([
    [
      'an object where a String belongs',
      { ...KEYS, validityTime: { seconds: 3600 } },
      /disallowed values \(validityTime: an object does not bind to a String\)/,
    ],
    [
      'an array where a String belongs',
      { ...KEYS, callbackUrl: ['https://a', 'https://b'] },
      /callbackUrl: an array does not bind to a String/,
    ],
    ['a String where a List belongs', { ...KEYS, scopes: 'default' }, /scopes: string "default" does not bind to a List/],
    ['an object in a List of String', { ...KEYS, scopes: [{ name: 'default' }] }, /scopes\[0\]: an object does not bind to a String/],
    ['a property the DTO lacks', { ...KEYS, validity: 3600 }, /^Unrecognized property 'validity'$/],
    ['a required enum with an unknown value (null, then @NotNull)', { ...KEYS, keyType: 'STAGING' }, /^keyType: must not be null$/],
    ['a required enum in the wrong case', { ...KEYS, keyType: 'production' }, /^keyType: must not be null$/],
  ])('generate-keys: %s', (_, body, problem) => {
    const { problems } = generateKeys(body);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  test.each([
    ['text that is not a whole number in an Integer', { cacheTimeout: '3.5' }, /cacheTimeout: string "3.5" does not bind to an Integer/],
    ['an Integer out of range', { cacheTimeout: 2147483648 }, /cacheTimeout: number 2147483648 does not bind to an Integer/],
    ['a boolean in an Integer', { cacheTimeout: true }, /cacheTimeout: boolean true does not bind to an Integer/],
    ['text other than true/false in a Boolean', { isDefaultVersion: 'yes' }, /isDefaultVersion: string "yes" does not bind to a Boolean/],
    ['a fraction in a Boolean', { isDefaultVersion: 0.5 }, /isDefaultVersion: number 0.5 does not bind to a Boolean/],
    [
      'a String where a DTO belongs',
      { businessInformation: 'owner' },
      /businessInformation: string "owner" does not bind to APIBusinessInformationDTO/,
    ],
    [
      'a property a nested DTO lacks',
      { operations: [{ target: '/menu', verb: 'GET', method: 'GET' }] },
      /^Unrecognized property 'method'$/,
    ],
  ])('create API: %s', (_, fields, problem) => {
    const { body, problems } = createApi(fields);
    expect(body).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(problem);
  });

  test('Jackson stops at the first binding error, in document order', () => {
    expect(generateKeys({ ...KEYS, unknownA: 1, validityTime: {} }).problems).toEqual(["Unrecognized property 'unknownA'"]);
  });

  test('bean validation reports every violation of the DTO', () => {
    const { problems } = bind(publisher, 'POST', '/apis', { name: '', version: 'v 1' });
    expect(problems).toEqual(expect.arrayContaining(['context: must not be null', 'name: size must be between 1 and 60']));
    expect(problems.some((p) => p.startsWith('version: must match'))).toBe(true);
  });

  test('a required list left out still fails its @Size (admin environment without vhosts)', () => {
    expect(bind(admin, 'POST', '/environments', { name: 'edge', displayName: 'Edge' }).problems).toEqual([
      'vhosts: size must be between 1 and 2147483647',
    ]);
  });

  test('violations inside nested DTOs carry their path', () => {
    const { problems } = bind(admin, 'POST', '/environments', { name: 'edge', vhosts: [{ httpPort: 80 }] });
    expect(problems).toEqual(['vhosts[0].host: must not be null']);
  });

  test('a list body is bound but its elements are not bean-validated (a List parameter has no @Valid)', () => {
    expect(bind(publisher, 'POST', '/apis/api-1/deploy-revision', [{ vhost: 'localhost' }], 'revisionId=r-1').problems).toEqual([]);
    expect(bind(publisher, 'POST', '/apis/api-1/deploy-revision', [{ name: 'Default', label: 'x' }], 'revisionId=r-1').problems).toEqual([
      "Unrecognized property 'label'",
    ]);
  });

  test('an integer query parameter that is not a number is still rejected', () => {
    expect(bind(publisher, 'GET', '/apis', undefined, 'limit=ten').problems).toEqual(['limit must be integer']);
  });
});

describe('each operation is checked against the schemas it reaches (reachableSchemas)', () => {
  const spec = publisher.spec as unknown as { components: { schemas: Record<string, unknown> }; paths: Record<string, unknown> };
  const refsIn = (node: unknown, out = new Set<string>()): Set<string> => {
    if (Array.isArray(node)) node.forEach((n) => refsIn(n, out));
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node))
        if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) out.add(v.split('/')[3]);
        else refsIn(v, out);
    return out;
  };

  test('follows $refs through the schemas, cycles included, and leaves out what nothing refers to', () => {
    const all = {
      A: { properties: { b: { $ref: '#/components/schemas/B' } } },
      B: { items: { $ref: '#/components/schemas/A' } },
      C: { type: 'string' },
    };
    expect(Object.keys(reachableSchemas(all, [{ schema: { $ref: '#/components/schemas/B' } }])).sort()).toEqual(['A', 'B']);
    expect(reachableSchemas(all, [[{ name: 'limit', schema: { type: 'integer' } }]])).toEqual({});
  });

  test('on the publisher spec, every operation gets a closed set: each $ref in it resolves in it', () => {
    let checked = 0;
    for (const item of Object.values(spec.paths) as Record<string, unknown>[])
      for (const op of Object.values(item)) {
        const picked = reachableSchemas(spec.components.schemas, [op]);
        for (const name of refsIn(Object.values(picked))) expect(Object.keys(picked)).toContain(name);
        for (const name of refsIn(op)) expect(Object.keys(picked)).toContain(name);
        checked++;
      }
    expect(checked).toBeGreaterThan(150);
    // POST /apis reaches APIDTO and what it holds, not the whole file.
    const post = (spec.paths['/apis'] as Record<string, unknown>).post;
    const forPost = Object.keys(reachableSchemas(spec.components.schemas, [post]));
    expect(forPost).toContain('API');
    expect(forPost.length).toBeLessThan(Object.keys(spec.components.schemas).length / 2);
  });

  test('a body that is not bound as JSON is still checked against the whole body schema', () => {
    expect(bind(publisher, 'POST', '/apis', undefined).problems.length).toBeGreaterThan(0);
  });
});
