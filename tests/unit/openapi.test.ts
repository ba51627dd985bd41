import { ContractValidator } from '../../harness/openapi';
import type { Exchange } from '../../harness/http';

const exchange = (method: string, path: string, status: number, body: unknown): Exchange => ({
  method,
  url: `https://127.0.0.1:9443${path}`,
  status,
  body,
  ms: 1,
  headers: {},
});

describe('the OpenAPI contract of the 4.3.0 REST APIs', () => {
  const contract = new ContractValidator();

  test('an operation whose answer has no content (`content: {}`) conforms with no body, and not with one', () => {
    expect(contract.validate(exchange('DELETE', '/api/am/devportal/v3/subscriptions/abc', 200, ''))).toEqual([]);
    expect(contract.validate(exchange('DELETE', '/api/am/devportal/v3/subscriptions/abc', 200, { deleted: true }))).not.toEqual([]);
  });

  test('an answer with a schema is judged against it: an empty body is not an error body', () => {
    const error = { code: 404, message: 'Not Found', description: 'Requested Subscription with id abc not found', moreInfo: '', error: [] };
    expect(contract.validate(exchange('DELETE', '/api/am/devportal/v3/subscriptions/abc', 404, error))).toEqual([]);
    expect(contract.validate(exchange('DELETE', '/api/am/devportal/v3/subscriptions/abc', 404, ''))).not.toEqual([]);
  });

  test('a 500 conforms as the error every operation may answer (listed or not), with the error body only', () => {
    const error = {
      code: 500,
      message: 'Internal server error',
      description: 'Error while updating the API : a1 - Selected policy x is not found.',
      moreInfo: '',
      error: [],
    };
    expect(contract.validate(exchange('PUT', '/api/am/publisher/v4/apis/a1', 500, error))).toEqual([]);
    expect(contract.validate(exchange('PUT', '/api/am/publisher/v4/apis/a1', 500, { id: 'a1' }))).not.toEqual([]);
  });

  test("an applied operation policy's parameters may be strings and booleans (the product's Map<String, Object>), though the file types them as objects", () => {
    const api = {
      id: 'a1',
      name: 'P',
      context: '/p',
      version: '1.0.0',
      lifeCycleStatus: 'CREATED',
      operations: [
        {
          target: '/*',
          verb: 'GET',
          operationPolicies: {
            request: [
              { policyName: 'rewriteResourcePath', policyVersion: 'v3', parameters: { newResourcePath: '/x', includeQueryParams: true } },
            ],
            response: [],
            fault: [],
          },
        },
      ],
    };
    expect(contract.validate(exchange('GET', '/api/am/publisher/v4/apis/a1', 200, api))).toEqual([]);
    expect(
      contract.validate(
        exchange('GET', '/api/am/publisher/v4/apis/a1', 200, {
          ...api,
          operations: [{ target: '/*', verb: 'GET', operationPolicies: { request: [{ parameters: {} }] } }],
        }),
      ),
    ).not.toEqual([]);
  });
});
