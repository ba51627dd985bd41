import {
  applyRequestFlow,
  applyResponseFlow,
  COMMON_POLICIES,
  commonPolicyId,
  hasPolicies,
  resolveAppliedPolicies,
} from '../../sim/src/operation-policies';

const addHeaderId = commonPolicyId({ name: 'addHeader', version: 'v2' });
let n = 0;
const newId = () => `clone-${++n}`;

describe('policies applied to an API, checked and given ids as the product does (resolveAppliedPolicies)', () => {
  beforeEach(() => {
    n = 0;
  });
  test("a common policy applied by name and version is cloned into the API once: every use shows the clone's id", () => {
    const applied = { request: [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X-A', headerValue: '1' } }] };
    const r = resolveAppliedPolicies(
      [
        applied,
        applied,
        {
          response: [
            { policyName: 'addHeader', policyVersion: 'v2', policyId: addHeaderId, parameters: { headerName: 'X-B', headerValue: '2' } },
          ],
        },
      ],
      'HTTP',
      [],
      newId,
    );
    expect(r.ok && r.groups.map((g) => [...(g.request ?? []), ...(g.response ?? [])].map((p) => p.policyId))).toEqual([
      ['clone-1'],
      ['clone-1'],
      ['clone-1'],
    ]);
    expect(r.ok && r.clones).toEqual([{ id: 'clone-1', clonedFrom: addHeaderId, name: 'addHeader', version: 'v2' }]);
  });
  test('a clone kept from before is reused (by its own id too); clones no longer applied are dropped', () => {
    const before = [
      { id: 'old', clonedFrom: addHeaderId, name: 'addHeader', version: 'v2' },
      { id: 'gone', clonedFrom: commonPolicyId({ name: 'removeHeader', version: 'v1' }), name: 'removeHeader', version: 'v1' },
    ];
    const r = resolveAppliedPolicies(
      [
        {
          request: [{ policyName: 'addHeader', policyVersion: 'v2', policyId: 'old', parameters: { headerName: 'X-A', headerValue: '1' } }],
        },
      ],
      'HTTP',
      before,
      newId,
    );
    expect(r.ok && r.clones.map((c) => c.id)).toEqual(['old']);
  });
  test('the version defaults to v1: addHeader (v2) without one is not found', () => {
    expect(
      resolveAppliedPolicies(
        [{ request: [{ policyName: 'addHeader', parameters: { headerName: 'X', headerValue: 'y' } }] }],
        'HTTP',
        [],
        newId,
      ),
    ).toEqual({ ok: false, message: 'Selected policy addHeader is not found.' });
  });
  test("an id that matches no policy, or a name and version that do not match the id's, is refused", () => {
    expect(
      resolveAppliedPolicies([{ request: [{ policyName: 'addHeader', policyVersion: 'v2', policyId: 'nope' }] }], 'HTTP', [], newId),
    ).toEqual({ ok: false, message: 'Selected policy nope is not found.' });
    expect(
      resolveAppliedPolicies(
        [{ request: [{ policyName: 'removeHeader', policyVersion: 'v1', policyId: addHeaderId }] }],
        'HTTP',
        [],
        newId,
      ),
    ).toEqual({ ok: false, message: 'Applied policy for uriTemplate removeHeader_v1 does not match the specification' });
  });
  test('a policy outside its flows, a missing required attribute and a value its pattern refuses are refused, saying which', () => {
    expect(
      resolveAppliedPolicies([{ response: [{ policyName: 'changeHTTPMethod', parameters: { httpMethod: 'GET' } }] }], 'HTTP', [], newId),
    ).toEqual({ ok: false, message: 'changeHTTPMethod cannot be used in the response flow.' });
    expect(
      resolveAppliedPolicies(
        [{ request: [{ policyName: 'addHeader', policyVersion: 'v2', parameters: { headerName: 'X' } }] }],
        'HTTP',
        [],
        newId,
      ),
    ).toEqual({ ok: false, message: 'Required policy attribute headerValue is not found for the policy addHeader request flow.' });
    expect(
      resolveAppliedPolicies([{ request: [{ policyName: 'removeHeader', parameters: { headerName: '1bad' } }] }], 'HTTP', [], newId),
    ).toEqual({ ok: false, message: 'Policy attribute headerName regex validation error.' });
    // Case-insensitive, as Pattern.CASE_INSENSITIVE.
    expect(
      resolveAppliedPolicies([{ request: [{ policyName: 'changeHTTPMethod', parameters: { httpMethod: 'post' } }] }], 'HTTP', [], newId).ok,
    ).toBe(true);
  });
  test('an API type a policy does not support is refused', () => {
    expect(resolveAppliedPolicies([{ request: [{ policyName: 'addLogMessage' }] }], 'GRAPHQL', [], newId)).toEqual({
      ok: false,
      message: 'addLogMessage cannot be used for the GRAPHQL API type.',
    });
  });
  test('every common policy the stand-in carries has a distinct id and at least one flow', () => {
    expect(new Set(COMMON_POLICIES.map(commonPolicyId)).size).toBe(COMMON_POLICIES.length);
    for (const p of COMMON_POLICIES) expect(p.applicableFlows.length).toBeGreaterThan(0);
  });
  test('hasPolicies sees policies on the API or on an operation, not empty lists', () => {
    expect(hasPolicies({ operations: [{ operationPolicies: { request: [], response: [] } }] })).toBe(false);
    expect(hasPolicies({ operations: [{ operationPolicies: { request: [{ policyName: 'addLogMessage' }] } }] })).toBe(true);
    expect(hasPolicies({ apiPolicies: { fault: [{ policyName: 'addLogMessage' }] } })).toBe(true);
  });
});

describe("what a gateway does with them (the templates' effect)", () => {
  const base = { method: 'GET', path: '/menu', query: 'a=1', headers: { 'x-carbon-labs-echo': 'sent', accept: 'application/json' } };
  const log: string[] = [];
  test('request flow, in order: a header set and one removed, the method changed, the path rewritten (query kept), a query parameter added', () => {
    const out = applyRequestFlow(
      [
        { policyName: 'removeHeader', parameters: { headerName: 'X-Carbon-Labs-Echo' } },
        { policyName: 'addHeader', parameters: { headerName: 'X-Added', headerValue: 'yes' } },
        { policyName: 'changeHTTPMethod', parameters: { httpMethod: 'post' } },
        { policyName: 'rewriteResourcePath', parameters: { newResourcePath: 'orders', includeQueryParams: true } },
        { policyName: 'addQueryParam', parameters: { paramKey: 'b', paramValue: '2' } },
      ],
      base,
      (l) => log.push(l),
    );
    expect(out).toEqual({ method: 'POST', path: '/orders', query: 'a=1&b=2', headers: { accept: 'application/json', 'x-added': 'yes' } });
    expect(base.headers['x-carbon-labs-echo']).toBe('sent');
  });
  test('rewriteResourcePath drops the query unless includeQueryParams is truthy to Jinja (the string "false" is)', () => {
    const rewrite = (includeQueryParams?: unknown) =>
      applyRequestFlow(
        [{ policyName: 'rewriteResourcePath', parameters: { newResourcePath: '/x', includeQueryParams } }],
        base,
        () => undefined,
      ).query;
    expect([rewrite(undefined), rewrite(false), rewrite(true), rewrite('false')]).toEqual(['', '', 'a=1', 'a=1']);
  });
  test('response flow: headers set and removed on the answer to the client; the log policy logs', () => {
    const lines: string[] = [];
    expect(
      applyResponseFlow(
        [
          { policyName: 'addHeader', parameters: { headerName: 'X-Served-By', headerValue: 'gw' } },
          { policyName: 'removeHeader', parameters: { headerName: 'Server' } },
          { policyName: 'addLogMessage' },
        ],
        { server: 'nginx', 'content-type': 'application/json' },
        200,
        (l) => lines.push(l),
      ),
    ).toEqual({ 'content-type': 'application/json', 'x-served-by': 'gw' });
    expect(lines).toEqual([expect.stringContaining('response 200')]);
  });
});
