import { ContractValidator } from '../../harness/openapi';
import type { Exchange } from '../../harness/http';

const exchange = (method: string, path: string, status: number, body: unknown): Exchange =>
  ({ method, url: `https://127.0.0.1:9443${path}`, status, body, ms: 1, headers: {} });

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
});
