import { definitionOf, readDefinition, shownApi } from '../../sim/src/control-plane/definitions';
import type { ApiDoc } from '../../sim/src/store';

const oas3 = {
  openapi: '3.0.1',
  info: { title: 'Menu', version: '1.0.0' },
  paths: {
    '/menu': {
      get: { responses: { 200: { description: 'OK' } } },
      post: {
        'x-throttling-tier': 'Gold',
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Item' } } } },
        responses: { 201: { description: 'Created' } },
      },
    },
    '/menu/{id}': { parameters: [], delete: { responses: { 200: { description: 'OK' } } } },
  },
  components: { schemas: { Item: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
};

describe('an API definition put through the publisher (readDefinition)', () => {
  test("its paths and verbs become the API's resources, with the tiers it names and the authType a kept resource had", () => {
    const read = readDefinition(JSON.stringify(oas3), [{ target: '/menu', verb: 'GET', authType: 'None', throttlingPolicy: 'Bronze' }]);
    expect(read.ok && read.operations).toEqual([
      { target: '/menu', verb: 'GET', authType: 'None', throttlingPolicy: 'Bronze' },
      { target: '/menu', verb: 'POST', authType: 'Application & Application User', throttlingPolicy: 'Gold' },
      { target: '/menu/{id}', verb: 'DELETE', authType: 'Application & Application User', throttlingPolicy: 'Unlimited' },
    ]);
  });
  test('YAML is read when the text does not start with {, and Swagger 2.0 is accepted', () => {
    const read = readDefinition(
      'swagger: "2.0"\ninfo:\n  title: Menu\n  version: 1.0.0\npaths:\n  /orders:\n    put:\n      responses:\n        "200":\n          description: OK\n',
    );
    expect(read.ok && read.operations.map((o) => `${o.verb} ${o.target}`)).toEqual(['PUT /orders']);
  });
  test("JSON Gson cannot read is one 900754 item; YAML that cannot be read is the operation's 500", () => {
    expect(readDefinition('{"openapi": "3.0.1",')).toEqual({
      ok: false,
      items: [
        expect.objectContaining({
          code: 900754,
          message: 'Error while parsing OpenAPI definition',
          description: expect.stringMatching(/^com\.google\.gson\.JsonSyntaxException: /),
        }),
      ],
    });
    expect(readDefinition('openapi: [3.0.1')).toEqual({ ok: false, failure: 'Error while reading API definition yaml' });
  });
  test("an OpenAPI 3 definition without info: the OAS3 parser's message, a 900754 item, and no retry as Swagger 2", () => {
    const { info: _info, ...noInfo } = oas3;
    expect(readDefinition(JSON.stringify(noInfo))).toEqual({
      ok: false,
      items: [{ code: 900754, message: 'Error while parsing OpenAPI definition', description: 'attribute info is missing' }],
    });
  });
  test('neither openapi nor swagger: retried as Swagger 2, whose messages come back, "swagger is missing" followed by 900761', () => {
    expect(readDefinition(JSON.stringify({ ...oas3, openapi: undefined, info: { title: 'x' } }))).toEqual({
      ok: false,
      items: [
        expect.objectContaining({ code: 900754, description: 'attribute swagger is missing' }),
        { code: 900761, message: 'Invalid OpenAPI V2 definition found', description: 'Invalid OpenAPI V2 definition found' },
        expect.objectContaining({ code: 900754, description: 'attribute info.version is missing' }),
      ],
    });
  });
  test('paths with no operation are NO_RESOURCES_FOUND, which the product answers with its 500', () => {
    expect(readDefinition(JSON.stringify({ ...oas3, paths: {} }))).toEqual({
      ok: false,
      failure: '900763:No resources found::API must have at least one resource defined',
    });
  });
});

describe('the definition the publisher shows (definitionOf)', () => {
  const api: ApiDoc = {
    id: 'a1',
    name: 'Menu',
    version: '1.0.0',
    context: '/menu',
    lifeCycleStatus: 'CREATED',
    operations: [{ target: '/*', verb: 'GET', authType: 'Application & Application User', throttlingPolicy: 'Unlimited' }],
  };
  test('an API never given one: built from its resources, with the default security scheme', () => {
    const shown = definitionOf(api);
    expect(shown).toEqual(
      expect.objectContaining({ openapi: '3.0.1', info: { title: 'Menu', version: '1.0.0' }, 'x-wso2-basePath': '/menu/1.0.0' }),
    );
    expect(shown.paths).toEqual({
      '/*': {
        get: expect.objectContaining({
          'x-auth-type': 'Application & Application User',
          'x-throttling-tier': 'Unlimited',
          security: [{ default: [] }],
        }),
      },
    });
    expect((shown.components as { securitySchemes: object }).securitySchemes).toEqual({
      default: expect.objectContaining({ type: 'oauth2' }),
    });
  });
  test('one put before: its schemas and operation bodies kept, its resources as the API now has them', () => {
    const read = readDefinition(JSON.stringify(oas3));
    if (!read.ok) throw new Error('the definition should be valid');
    const shown = definitionOf({ ...api, operations: read.operations, apiDefinition: read.definition });
    expect((shown.components as { schemas: object }).schemas).toEqual(oas3.components.schemas);
    expect(Object.keys(shown.paths as object)).toEqual(['/menu', '/menu/{id}']);
    expect((shown.paths as Record<string, Record<string, { requestBody?: unknown }>>)['/menu'].post.requestBody).toEqual(
      oas3.paths['/menu'].post.requestBody,
    );
  });
  test('the API as shown carries no definition field (not in the API DTO)', () => {
    expect(shownApi({ ...api, apiDefinition: oas3 })).toEqual(api);
  });
});
