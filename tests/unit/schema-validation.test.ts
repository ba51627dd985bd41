import { requestProblems, responseProblems } from '../../sim/src/schema-validation';

const oas3 = {
  openapi: '3.0.1',
  info: { title: 'Orders', version: '1.0.0' },
  paths: {
    '/orders': {
      post: {
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } },
        responses: { 201: { description: 'Created' } },
      },
    },
    '/notes': { post: { requestBody: { content: { 'application/json': { schema: { type: 'string' } } } } } },
    '/menu': { get: { responses: { 200: { description: 'OK' } } } },
  },
  components: {
    schemas: {
      Order: {
        type: 'object',
        required: ['item'],
        properties: { item: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
        additionalProperties: false,
      },
    },
  },
};

describe("a gateway's schema validation of a request (SchemaValidator, as the product's levels have it)", () => {
  test('a body that fits the referenced schema passes', () => {
    expect(requestProblems(oas3, '/orders', 'POST', '{"item":"tea","count":2}')).toEqual([]);
  });
  test('a wrong type or a value out of range is an error, named by its path', () => {
    expect(requestProblems(oas3, '/orders', 'POST', '{"item":"tea","count":"two"}')).toEqual(["[Path '/count'] must be integer"]);
    expect(requestProblems(oas3, '/orders', 'POST', '{"item":"tea","count":0}')).toEqual(["[Path '/count'] must be >= 1"]);
  });
  test("a missing required property and an additional one are not errors (INFO and IGNORE in the product's level resolver)", () => {
    expect(requestProblems(oas3, '/orders', 'POST', '{"count":2,"note":"x"}')).toEqual([]);
  });
  test('a required body that is missing, or a body that is not JSON, is an error', () => {
    expect(requestProblems(oas3, '/orders', 'POST', '')).toEqual(['A request body is required but none found.']);
    expect(requestProblems(oas3, '/orders', 'POST', '{"item":')[0]).toMatch(/^Unable to parse JSON - /);
  });
  test('an operation with no body schema, or an optional body left out, checks nothing', () => {
    expect(requestProblems(oas3, '/menu', 'GET', '')).toEqual([]);
    expect(requestProblems(oas3, '/notes', 'POST', '')).toEqual([]);
    expect(requestProblems(oas3, '/notes', 'POST', '42')).toEqual(["[Path '/'] must be string"]);
  });
  test("Swagger 2.0: the body parameter's schema, its $refs in definitions", () => {
    const oas2 = {
      swagger: '2.0',
      info: { title: 'Orders', version: '1.0.0' },
      paths: {
        '/orders': { post: { parameters: [{ in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/Order' } }] } },
      },
      definitions: { Order: { type: 'object', properties: { count: { type: 'integer' } } } },
    };
    expect(requestProblems(oas2, '/orders', 'POST', '{"count":1.5}')).toEqual(["[Path '/count'] must be integer"]);
    expect(requestProblems(oas2, '/orders', 'POST', '')).toEqual(['A request body is required but none found.']);
  });

  test('a request body given by $ref to components/requestBodies is checked as well', () => {
    const byRef = {
      ...oas3,
      paths: { '/orders': { post: { requestBody: { $ref: '#/components/requestBodies/Order' } } } },
      components: {
        ...oas3.components,
        requestBodies: { Order: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' } } } } },
      },
    };
    expect(requestProblems(byRef, '/orders', 'POST', '{"count":"x"}')).toEqual(["[Path '/count'] must be integer"]);
    expect(requestProblems(byRef, '/orders', 'POST', '')).toEqual(['A request body is required but none found.']);
  });
  test('a schema Ajv cannot compile (a draft-4 boolean exclusiveMinimum) is not checked, said once, instead of failing every call', () => {
    const warned: string[] = [];
    const draft4 = {
      ...oas3,
      paths: {
        '/n': {
          post: { requestBody: { content: { 'application/json': { schema: { type: 'integer', minimum: 1, exclusiveMinimum: true } } } } },
        },
      },
    };
    expect(requestProblems(draft4, '/n', 'POST', '5', (l) => warned.push(l))).toEqual([]);
    expect(requestProblems(draft4, '/n', 'POST', '6', (l) => warned.push(l))).toEqual([]);
    expect(warned).toHaveLength(1);
  });
});

describe("a gateway's schema validation of the backend's answer", () => {
  const def = {
    openapi: '3.0.1',
    info: { title: 'x', version: '1' },
    paths: {
      '/menu': {
        get: {
          responses: {
            200: {
              description: 'OK',
              content: {
                'application/json': { schema: { type: 'object', required: ['items'], properties: { items: { type: 'array' } } } },
              },
            },
          },
        },
      },
      '/legacy': { get: { responses: { 201: { description: 'Created' } } } },
      '/any': { get: { responses: { default: { description: 'anything' } } } },
    },
  };
  test('a status the operation does not declare (and no default) is an error', () => {
    expect(responseProblems(def, '/legacy', 'GET', 200, '{}')).toEqual(["Response status 200 not defined for operation 'GET /legacy'."]);
    expect(responseProblems(def, '/any', 'GET', 503, '{}')).toEqual([]);
  });
  test('a JSON body is checked against the declared schema (missing required properties let through); no body is INFO', () => {
    expect(responseProblems(def, '/menu', 'GET', 200, '{"items":"none"}')).toEqual(["[Path '/items'] must be array"]);
    expect(responseProblems(def, '/menu', 'GET', 200, '{}')).toEqual([]);
    expect(responseProblems(def, '/menu', 'GET', 200, '')).toEqual([]);
  });
});
