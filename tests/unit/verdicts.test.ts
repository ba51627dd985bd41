import type { Check, Figures } from '../../harness/check';
import type { ProductTiming } from '../../generator/products/product';
import { sim } from '../../generator/products/sim';
import { CHECKS } from '../../harness/checks';
import { SEEDED_FAULTS } from '../../harness/selftest';
import type { RejectFigures } from '../../harness/checks/workers-reject-admin-writes';
import type { MembershipFigures } from '../../harness/checks/cluster-membership';
import type { FirewallFigures } from '../../harness/checks/managers-unreachable-from-public';
import type { PropagationFigures } from '../../harness/checks/artifacts-propagate';
import type { PolicyPropagationFigures } from '../../harness/checks/policies-propagate';
import type { RevocationFigures } from '../../harness/checks/revocation-reaches-workers';
import type { LogFigures } from '../../harness/checks/logs-clean';
import type { IsolationFigures } from '../../harness/checks/admin-load-isolation';
import type { WorkerLossFigures } from '../../harness/checks/workers-survive-worker-loss';
import type { FailoverFigures, OutageFigures, VariantRun } from '../../harness/checks/managers-fail-over';
import { HELD_RUN } from '../support/failover';
import type { DatabaseRestartFigures } from '../../harness/checks/database-restart';
import type { BalancerRestartFigures } from '../../harness/checks/balancers-restart';
import type { MemoryFigures } from '../../harness/checks/workers-lighter-than-managers';

/**
 * Every check's verdict, judged purely (`Check.problems`) on made-up figures: a sound run passes,
 * each broken property fails for its own reason, and every seeded fault's declared reason is one a
 * judge can give (so the self-test's "caught for the right reason" has a verdict to match).
 */
const bounds: ProductTiming = {
  ...sim.timing,
  bootSeconds: { ...sim.timing.bootSeconds, manager: 60 },
  rtoBoundMs: 3000,
  stallMs: 1000,
  propagationBoundMs: 5000,
};

interface Table<F extends Figures> {
  readonly sound: F;
  /** Name, figures of a run that broke one property, what the verdict must say. */
  readonly broken: readonly (readonly [string, F, RegExp])[];
}
const tables: Record<string, Table<Figures>> = {};
const table = <F extends Figures>(id: string, t: Table<F>) => {
  tables[id] = t as unknown as Table<Figures>;
};
const check = (id: string): Check => CHECKS.find((c) => c.id === id)!;
const verdict = (id: string, f: Figures) => check(id).problems(f, bounds).join('; ');

// --- workers-reject-admin-writes
const refused = { 'DCR register': 404, token: 404, 'create API': 404, 'create environment': 404, 'SOAP addUser': 403 };
const rejectSound: RejectFigures = {
  statuses: {
    'worker-1 servlet': refused,
    'worker-1 gateway': refused,
    'lb-worker worker listener': refused,
    'lb manager listener': { 'DCR register': 200, token: 200, 'create API': 201, 'create environment': 201, 'SOAP addUser': 200 },
  },
  managerListener: 'lb manager listener',
  noAnswer: {},
  workerMode403: false,
  writesSentToWorkers: 15,
  writesAcceptedByWorkers: 0,
};
const withStatus = (f: RejectFigures, target: string, write: string, status: number): RejectFigures => ({
  ...f,
  statuses: { ...f.statuses, [target]: { ...f.statuses[target], [write]: status } },
});
const classicSound: RejectFigures = {
  ...rejectSound,
  workerMode403: true,
  statuses: {
    'worker-1 servlet': { 'SOAP APIGatewayAdmin addApi': 403, 'SOAP addUser': 403, 'DCR register (v0.14)': 404 },
    'lb manager listener': { 'SOAP APIGatewayAdmin addApi': 200, 'SOAP addUser': 200, 'DCR register (v0.14)': 201 },
  },
};
table('workers-reject-admin-writes', {
  sound: rejectSound,
  broken: [
    [
      'a worker takes a SOAP write',
      withStatus(rejectSound, 'worker-1 servlet', 'SOAP addUser', 200),
      /^workers accepted admin writes: SOAP addUser on worker-1 servlet \(200\)$/,
    ],
    [
      'the classic worker takes an APIGatewayAdmin push',
      withStatus(classicSound, 'worker-1 servlet', 'SOAP APIGatewayAdmin addApi', 200),
      /^workers accepted admin writes: SOAP APIGatewayAdmin addApi on worker-1 servlet \(200\)$/,
    ],
    [
      'a worker that does not answer has proven nothing',
      { ...withStatus(rejectSound, 'worker-1 gateway', 'token', 0), noAnswer: { 'token on worker-1 gateway': 'connect ECONNREFUSED' } },
      /^workers did not answer, so their refusal is unproven: token on worker-1 gateway \(connect ECONNREFUSED\)$/,
    ],
    [
      "a classic worker refusing otherwise than worker mode's 403",
      withStatus(classicSound, 'worker-1 servlet', 'SOAP addUser', 404),
      /^workers refused admin services otherwise than worker mode's 403, so worker mode is unproven: SOAP addUser on worker-1 servlet \(404\)$/,
    ],
    [
      'a lab whose manager balancer refuses the control writes',
      withStatus(rejectSound, 'lb manager listener', 'create API', 502),
      /^the manager balancer refused admin writes, so the lab is not working: create API \(502\)$/,
    ],
  ],
});
test("a 4.x worker's 404 for a SOAP admin service is a refusal; only the classic product asks for worker mode's 403", () => {
  expect(verdict('workers-reject-admin-writes', withStatus(rejectSound, 'worker-1 servlet', 'SOAP addUser', 404))).toBe('');
  expect(verdict('workers-reject-admin-writes', classicSound)).toBe('');
});

// --- cluster-membership
const membershipSound: MembershipFigures = {
  domains: { 'wso2.am.domain': ['manager-1 (mgt)', 'worker-1 (worker)', 'worker-2 (worker)'] },
  views: { 'manager-1': 'wso2.am.domain/mgt: worker-1, worker-2' },
  convergedMs: 1200,
  unlike: [],
};
table('cluster-membership', {
  sound: membershipSound,
  broken: [
    [
      'a worker in another domain, never converged',
      { ...membershipSound, convergedMs: null, unlike: ['worker-2 is in domain wso2.am.other.domain, not wso2.am.domain'] },
      /^membership is not the pattern's after 120 s: worker-2 is in domain wso2\.am\.other\.domain, not wso2\.am\.domain$/,
    ],
  ],
});

// --- managers-unreachable-from-public
const firewallSound: FirewallFigures = {
  forbiddenTargets: 4,
  forbiddenReached: 0,
  workerTargetsReached: 3,
  publishedPorts: 3,
  portsNotOnLoopback: 0,
  reached: [],
  blocked: {},
  exposed: [],
  managerBalancer: 'lb',
};
table('managers-unreachable-from-public', {
  sound: firewallSound,
  broken: [
    [
      'a manager on the public network',
      { ...firewallSound, reached: ['https://manager-1:9443/services/Version', 'https://10.42.1.5:9443/services/Version'] },
      /^reachable from public: https:\/\/manager-1:9443\/services\/Version; reachable from public: https:\/\/10\.42\.1\.5:9443/,
    ],
    [
      'a worker listener the public cannot reach',
      { ...firewallSound, blocked: { 'https://lb-worker:8243/': 28 } },
      /^worker listener not reachable from public: https:\/\/lb-worker:8243\/ \(curl exit 28\)$/,
    ],
    [
      'a port published on every interface',
      { ...firewallSound, exposed: ['lb 8243/tcp on 0.0.0.0'] },
      /^published beyond 127\.0\.0\.1: lb 8243\/tcp on 0\.0\.0\.0$/,
    ],
  ],
});

// --- artifacts-propagate
const propagationSound: PropagationFigures = {
  apis: 5,
  apisPlanned: 5,
  boundMs: 5000,
  perTargetMs: { 'worker-1': [300, 420], 'worker-2': [310, 5000], 'lb-worker': [330] },
  removedMs: { 'worker-1': [200] },
  unsubscribedMs: { 'worker-1': 250 },
  newVersionMs: { 'worker-2': 900 },
  defaultMovedMs: { 'lb-worker': 950 },
  p50Ms: 330,
  p95Ms: 950,
  maxMs: 5000,
  missing: [],
};
table('artifacts-propagate', {
  sound: propagationSound,
  broken: [
    [
      'an API never served, so the rest were not deployed',
      {
        ...propagationSound,
        apis: 1,
        missing: [
          '/prop-x-0 never served by worker-1: timed out waiting for worker-1 to serve (last: 404)',
          '/prop-x-0 never served by worker-2: timed out waiting for worker-2 to serve (last: 500 {"code":900900})',
        ],
      },
      /never served by worker-1: .*never served by worker-2: .*\b500\b.*900900.* \(the other 4 APIs were not deployed\)$/,
    ],
    [
      'removals and moves a worker missed',
      {
        ...propagationSound,
        missing: [
          '/prop-x-0 still served 10 s after its undeploy (worker-2: timed out)',
          '/prop-x-1 still served to an application 10 s after its subscription was removed (worker-1: timed out)',
          '/prop-x-2 (no version) never reached version 2.0.0, the new default, on worker-1: timed out',
        ],
      },
      /^\/prop-x-0 still served 10 s after its undeploy \(worker-2:.*still served to an application 10 s after its subscription was removed \(worker-1:.*never reached version 2\.0\.0, the new default, on worker-1:/,
    ],
    [
      'every change served, one past the bound',
      {
        ...propagationSound,
        perTargetMs: { ...propagationSound.perTargetMs, 'worker-2': [310, 5001] },
        defaultMovedMs: { 'lb-worker': 7000 },
      },
      /^propagation slower than the bound of 5000 ms: worker-2 took 5001 ms, lb-worker \(new default version\) took 7000 ms$/,
    ],
  ],
});
test('the classic product records no versions, unsubscriptions or default moves: judged on what it has', () => {
  const { unsubscribedMs: _u, newVersionMs: _n, defaultMovedMs: _d, ...classic } = propagationSound;
  expect(verdict('artifacts-propagate', classic)).toBe('');
  expect(verdict('artifacts-propagate', { ...classic, removedMs: { 'worker-2': [6000] } })).toBe(
    'propagation slower than the bound of 5000 ms: worker-2 (removal) took 6000 ms',
  );
});

// --- policies-propagate
const policySound: PolicyPropagationFigures = {
  cycles: 3,
  boundMs: 5000,
  blockMs: { 'worker-1': [200, 300, 250] },
  unblockMs: { 'worker-1': [220, 310, 260] },
  revokeMs: { 'worker-1': 400 },
  quota: 10,
  servedBeforeThrottled: 11,
  throttleMs: { 'worker-1': 600 },
  applicationQuota: 6,
  applicationServedBeforeThrottled: 7,
  applicationThrottleMs: { 'worker-2': 5000 },
  p50Ms: 260,
  p95Ms: 600,
  maxMs: 5000,
  unenforced: [],
};
/** A classic run: one cycle, each direction waiting on the workers' token cache; the quotas as on 4.x; no revocation here. */
const classicPolicySound: PolicyPropagationFigures = {
  ...policySound,
  cycles: 1,
  blockMs: { 'worker-1': [41_000], 'lb-worker': [12_000] },
  unblockMs: { 'worker-1': [31_000], 'lb-worker': [30_000] },
  revokeMs: {},
  blockBoundMs: 52_000,
  notJudged: 'the revocation',
};
table('policies-propagate', {
  sound: policySound,
  broken: [
    [
      'a worker that drops subscription events',
      { ...policySound, cycles: 1, unenforced: ['worker-1 still served a BLOCKED subscription 15 s after the block (200)'] },
      /^worker-1 still served a BLOCKED subscription 15 s after the block \(200\)$/,
    ],
    [
      'a worker that drops revocations',
      { ...policySound, unenforced: ['worker-2 still served a revoked token 15 s after the revocation (200)'] },
      /^worker-2 still served a revoked token/,
    ],
    [
      'a worker that drops throttle decisions',
      {
        ...policySound,
        unenforced: [
          "worker-2 still served past the subscription's quota of 10 requests an hour 15 s after it was reached (200)",
          "worker-2 still served past the application's quota of 6 requests an hour 15 s after it was reached (200)",
        ],
      },
      /worker-2 still served past the subscription's quota.*; worker-2 still served past the application's quota/,
    ],
    [
      'a block enforced past the bound',
      { ...policySound, blockMs: { 'worker-1': [200, 5200, 250] }, revokeMs: { 'worker-2': 9000 } },
      /^subscription, token and quota changes slower than the bound of 5000 ms: worker-1 \(block\) took 5200 ms, worker-2 \(revocation\) took 9000 ms$/,
    ],
    [
      "a classic worker whose token cache outlives the lab's bound (WSO2's 15 minutes)",
      { ...classicPolicySound, unenforced: ['worker-2 still served a BLOCKED subscription 62 s after the block (200)'] },
      /^worker-2 still served a BLOCKED subscription 62 s after the block \(200\)$/,
    ],
  ],
});

test("on the classic product a block and an unblock are judged by the token cache's bound, the rest by the propagation bound", () => {
  const classicBounds: ProductTiming = { ...bounds, blockBoundMs: 52_000 };
  expect(check('policies-propagate').problems(classicPolicySound, classicBounds)).toEqual([]);
  // The same figures on a 4.x bound: the cache's wait is far past the event path's.
  expect(verdict('policies-propagate', classicPolicySound)).toMatch(
    /^subscription, token and quota changes slower than the bound of 5000 ms: worker-1 \(block\) took 41000 ms/,
  );
  expect(
    check('policies-propagate').problems(
      { ...classicPolicySound, unblockMs: { 'worker-1': [53_000] }, revokeMs: { 'worker-1': 6000 } },
      classicBounds,
    ),
  ).toEqual([
    'blocks and unblocks slower than the bound of 52000 ms (token cache expiry and sweep): worker-1 (unblock) took 53000 ms',
    'subscription, token and quota changes slower than the bound of 5000 ms: worker-1 (revocation) took 6000 ms',
  ]);
});

test("on the classic product a quota is judged by a traffic manager's decision bound (no sync or tick on its way)", () => {
  const classicBounds: ProductTiming = { ...bounds, propagationBoundMs: 27_000, blockBoundMs: 52_000, decisionBoundMs: 5_000 };
  expect(check('policies-propagate').problems(classicPolicySound, classicBounds)).toEqual([]);
  expect(
    check('policies-propagate').problems(
      { ...classicPolicySound, throttleMs: { 'worker-1': 5500, 'worker-2': 40 }, applicationThrottleMs: { 'lb-worker': 5100 } },
      classicBounds,
    ),
  ).toEqual([
    "quotas slower than the bound of 5000 ms (a traffic manager's decision): worker-1 (quota) took 5500 ms, lb-worker (application quota) took 5100 ms",
  ]);
});

// --- revocation-reaches-workers
const storeVia = "the store's RevokeAPIURL (https://localhost:8243/revoke)";
const revocationSound: RevocationFigures = {
  boundMs: 5000,
  manager: 'manager-1',
  revokeApiUrl: 'https://localhost:8243/revoke',
  refusedMs: { 'worker-1': 120, 'worker-2': 130 },
  clientRefusedMs: { 'worker-1': 90, 'worker-2': 95 },
  stillServed: {},
  watched: [
    { via: storeVia, refused: { 'worker-1': 120, 'worker-2': 130 }, served: [], otherwise: {} },
    { via: "the worker balancer's /revoke (lb-worker)", refused: { 'worker-1': 90, 'worker-2': 95 }, served: [], otherwise: {} },
  ],
  workers: ['worker-1', 'worker-2'],
};
table('revocation-reaches-workers', {
  sound: revocationSound,
  broken: [
    [
      "a worker the store's revocation never reaches",
      {
        ...revocationSound,
        watched: [{ via: storeVia, refused: { 'worker-2': 130 }, served: ['worker-1'], otherwise: {} }, revocationSound.watched[1]],
      },
      /^worker-1 still served the token revoked through the store's RevokeAPIURL \(https:\/\/localhost:8243\/revoke\) 5000 ms after its revocation/,
    ],
    [
      'a worker that neither refuses nor serves',
      {
        ...revocationSound,
        watched: [
          revocationSound.watched[0],
          { ...revocationSound.watched[1], refused: { 'worker-1': 90 }, otherwise: { 'worker-2': 'GET → 503' } },
        ],
      },
      /^worker-2 neither refused nor served the token revoked through the worker balancer's \/revoke \(lb-worker\) within 5000 ms \(last answer: GET → 503\)$/,
    ],
    [
      'managers whose api-manager.xml has no RevokeAPIURL (nothing watched)',
      { ...revocationSound, revokeApiUrl: null, refusedMs: {}, clientRefusedMs: {}, watched: [] },
      /^manager-1's api-manager\.xml has no <RevokeAPIURL>: the store cannot revoke tokens$/,
    ],
  ],
});

// --- logs-clean
const logsSound: LogFigures = { nodes: 3, linesRead: 900, errorLines: 0, allowedLines: 2, silentNodes: 0, offenders: {} };
table('logs-clean', {
  sound: logsSound,
  broken: [
    [
      'an ERROR line the product does not allow',
      {
        ...logsSound,
        errorLines: 1,
        offenders: { 'worker-1': { lines: 1, shown: ['ERROR {org.wso2.carbon.crypto} - [encryption] key: 64 characters but not hex'] } },
      },
      /^ERROR lines in the logs: worker-1 \(1\): ERROR \{org\.wso2\.carbon\.crypto\} - \[encryption\] key: 64 characters but not hex$/,
    ],
  ],
});

// --- admin-load-isolation
const isolationSound: IsolationFigures = {
  samples: 120,
  saturatedSamples: 240,
  enforced: true,
  boundMs: 55,
  baselineP50Ms: 5,
  baselineP99Ms: 10,
  baselineFailures: 0,
  restAdminConcurrency: 8,
  restAdminRequests: 400,
  underRestLoadP50Ms: 8,
  underRestLoadP99Ms: 30,
  underRestLoadFailures: 0,
  saturatedBalancer: 'lb',
  workerBalancer: 'lb-worker',
  underSaturationP50Ms: 6,
  underSaturationP99Ms: 55,
  underSaturationFailures: 0,
};
table('admin-load-isolation', {
  sound: isolationSound,
  broken: [
    [
      'a p99 past three times the baseline and 25 ms',
      { ...isolationSound, underSaturationP99Ms: 55.1 },
      /^worker-listener p99 55\.1 ms while lb was saturated, above the bound of 55 ms \(baseline 10 ms\)$/,
    ],
    [
      'every call failed behind the saturated balancer (no p99 at all)',
      { ...isolationSound, underSaturationFailures: 3, underSaturationP99Ms: NaN },
      /^3 worker requests failed while lb was saturated; worker-listener p99 NaN ms while lb was saturated, above the bound/,
    ],
    ['worker requests failing with no load', { ...isolationSound, baselineFailures: 2 }, /^2 worker requests failed with no admin load$/],
  ],
});
test('after a first measurement above the bound, the second is judged: a pass then, a failure if it is above too', () => {
  const first = { baselineP99Ms: 20, boundMs: 85, underSaturationP50Ms: 7.1, underSaturationP99Ms: 101.6 };
  expect(verdict('admin-load-isolation', { ...isolationSound, firstAttempt: first })).toBe('');
  expect(verdict('admin-load-isolation', { ...isolationSound, firstAttempt: first, underSaturationP99Ms: 90 })).toMatch(
    /^worker-listener p99 90 ms while lb was saturated, above the bound of 55 ms/,
  );
});

test("patterns 1 and 2 record the saturated figures without judging them, but a baseline's failures always fail", () => {
  const recorded = { ...isolationSound, enforced: false, underSaturationFailures: 3, underSaturationP99Ms: NaN };
  expect(verdict('admin-load-isolation', recorded)).toBe('');
  expect(verdict('admin-load-isolation', { ...recorded, baselineFailures: 1 })).toBe('1 worker requests failed with no admin load');
});

// --- workers-survive-worker-loss
const loss = {
  requests: 90,
  failedRequests: 0,
  stalledRequests: 0,
  rtoMs: 0,
  maxLatencyMs: 400,
  caughtUpMs: 800,
  directStatus: 200,
  missedContext: '/missed-1',
};
const lossSound: WorkerLossFigures = {
  failedRequestsBound: 0,
  workers: ['worker-1', 'worker-2'],
  workerBalancer: 'lb-worker',
  shareRequests: 60,
  servedBy: { 'worker-1': 30, 'worker-2': 30 },
  victim: 'worker-1',
  stop: loss,
  kill: loss,
};
table('workers-survive-worker-loss', {
  sound: lossSound,
  broken: [
    [
      'a worker left out of the balancer',
      { ...lossSound, servedBy: { 'worker-1': 60 }, victim: undefined, stop: undefined, kill: undefined },
      /^worker-2 took no share of the worker listener's traffic \(0 of 60 requests, an even part is 30\): \{"worker-1":60\}$/,
    ],
    [
      'a request failed and one stalled as the worker stopped',
      { ...lossSound, stop: { ...loss, failedRequests: 1, stalledRequests: 1, maxLatencyMs: 2100 } },
      /^stop: 1 of 90 requests failed \(bound 0\); stop: 1 requests stalled over 1000 ms \(slowest 2100 ms\)$/,
    ],
    [
      'a worker that never catches up on what it missed',
      { ...lossSound, kill: { ...loss, caughtUpMs: null, catchUpError: 'timed out', directStatus: 404 } },
      /^kill: worker-1 did not serve \/missed-1, deployed while it was down: timed out; kill: worker-1 answers 404 for \/missed-1$/,
    ],
  ],
});

// --- managers-fail-over
const run = HELD_RUN;
const variant = (runs: VariantRun[]) => ({
  runs,
  rtoMs: { min: 0, median: 0, max: 0 },
  firstSuccessMs: { min: 0, median: 0, max: 0 },
  failedRequests: { min: 0, median: 0, max: 0 },
  stalledRequests: { min: 0, median: 0, max: 0 },
  lostAcknowledgedWrites: 0,
  duplicatedWrites: 0,
  unreachedWorkers: 0,
  unreachedInCrashWindow: 0,
});
const failoverSound: FailoverFigures = {
  servedWhileActiveUp: { 'manager-1': 20 },
  rtoBoundMs: 3000,
  stallMs: 1000,
  failedRequestsBound: 1,
  runsPerVariant: 2,
  activeManager: 'manager-1',
  skippedVariants: {},
  stop: variant([run, run]),
  pause: variant([run, { ...run, rtoMs: 2900 }]),
};
table('managers-fail-over', {
  sound: failoverSound,
  broken: [
    [
      'the second pause run past the RTO bound (the first run that broke is the verdict)',
      { ...failoverSound, pause: variant([run, { ...run, rtoMs: 3400, failedRequests: 2, failedByMethod: { 'POST create': 2 } }]) },
      /^pause run 2 of 2: RTO 3400 ms \(end of the last failed or stalled request\) is above the bound of 3000 ms; 2 requests failed/,
    ],
    [
      'the passive manager serving while the active one is up (no fault applied then)',
      { ...failoverSound, servedWhileActiveUp: { 'manager-1': 12, 'manager-2': 8 }, stop: undefined, pause: undefined },
      /^the passive manager took traffic while manager-1 was up: \{"manager-1":12,"manager-2":8\}/,
    ],
    [
      'acknowledged writes lost on a stop',
      { ...failoverSound, stop: variant([{ ...run, lostAcknowledgedWrites: 2 }]) },
      /^stop run 1 of 2: 2 acknowledged writes lost$/,
    ],
    [
      'a deployed write that never reached a worker',
      { ...failoverSound, stop: variant([{ ...run, unreachedWorkers: 1, unreached: ['worker-2: /fo-1'] }]) },
      /^stop run 1 of 2: 1 times an acknowledged write never reached a worker/,
    ],
    [
      'a database partition that fails requests',
      {
        ...failoverSound,
        runsPerVariant: 1,
        'db-partition': variant([{ ...run, failedRequests: 5, failedByMethod: { 'GET read': 5 }, failedIdempotent: 5 }]),
      },
      /^db-partition run 1 of 1: 5 requests failed .*; 5 GETs failed/,
    ],
    [
      'no request served after the fault',
      { ...failoverSound, kill: variant([{ ...run, firstSuccessMs: null, failbackMs: null }]) },
      /^kill run 1 of 2: no request succeeded within 15000 ms of the fault; traffic did not fail back to manager-1$/,
    ],
  ],
});

// --- manager-outage-without-ha
const outageSound: OutageFigures = {
  outageWrites: 12,
  outageWritesAccepted: 0,
  workerRequestsDuringOutage: 12,
  workerFailuresDuringOutage: 0,
  writesRecovered: true,
  unseenTokenAnswers: { 'worker-1': '401 900901' },
  manager: 'manager-1',
};
table('manager-outage-without-ha', {
  sound: outageSound,
  broken: [
    [
      'workers failing while the only manager is down',
      { ...outageSound, workerFailuresDuringOutage: 3 },
      /^workers failed 3 of 12 requests while the manager was down$/,
    ],
    [
      'writes taken with the only manager down',
      { ...outageSound, outageWritesAccepted: 2 },
      /^2 writes succeeded while the only manager was down: something else serves the manager listener$/,
    ],
    ['writes never back', { ...outageSound, writesRecovered: false }, /^writes did not work again after manager-1 came back$/],
  ],
});

// --- database-restart
const dbSound: DatabaseRestartFigures = {
  dockerRestartMs: 4000,
  writes: 80,
  writesFailed: 10,
  acknowledgedWrites: 70,
  lostAcknowledgedWrites: 0,
  writesBackMs: 3000,
  workerRequests: 300,
  workerFailures: 0,
  writesBackBoundMs: 3000,
};
table('database-restart', {
  sound: dbSound,
  broken: [
    [
      'writes acknowledged before the commit',
      { ...dbSound, lostAcknowledgedWrites: 2, lost: ['Db1n4 (id-4) → 404', 'Db1n5 (id-5) → 404'] },
      /^2 writes acknowledged around the restart are gone: Db1n4 \(id-4\) → 404, Db1n5 \(id-5\) → 404$/,
    ],
    ['writes back late', { ...dbSound, writesBackMs: 3001 }, /^writes came back 3001 ms after the database, above the bound of 3000 ms$/],
    ['writes never back', { ...dbSound, writesBackMs: null }, /^no write was acknowledged within 13000 ms of the database restart$/],
    ['API traffic failing meanwhile', { ...dbSound, workerFailures: 4 }, /^workers failed 4 API requests while the database restarted$/],
  ],
});

// --- balancers-restart
const restartSound: BalancerRestartFigures = {
  nodesDown: ['manager-2', 'worker-2'],
  restartBoundMs: 3000,
  servingAgainMs: { lb: { 'manager listener': 400 }, 'lb-worker': { 'worker listener': 3000 } },
  restartMs: { lb: 900, 'lb-worker': 950 },
};
table('balancers-restart', {
  sound: restartSound,
  broken: [
    [
      'a balancer that will not start with a worker down',
      {
        ...restartSound,
        servingAgainMs: { ...restartSound.servingAgainMs, 'lb-worker': { 'worker listener': null } },
        lastLogLines: { 'lb-worker': 'nginx: [emerg] host not found in upstream "worker-2:8243"' },
      },
      /^lb-worker restarted with manager-2 and worker-2 down: its worker listener never served again \(nginx: \[emerg\] host not found in upstream "worker-2:8243"\)$/,
    ],
    [
      'a listener back past the bound',
      { ...restartSound, servingAgainMs: { lb: { 'manager listener': 3001 } } },
      /^lb's manager listener served again 3001 ms after it started again, above the bound of 3000 ms$/,
    ],
  ],
});

// --- workers-lighter-than-managers
const memorySound: MemoryFigures = {
  memoryMB: { 'manager-1': 120, 'worker-1': 80, 'worker-2': 90, db: 100 },
  labTotalMB: 390,
  heaviestWorkerMB: 90,
  lightestManagerMB: 120,
  workers: ['worker-1', 'worker-2'],
  managers: ['manager-1'],
};
table('workers-lighter-than-managers', {
  sound: memorySound,
  broken: [
    [
      'a worker as heavy as a manager',
      { ...memorySound, memoryMB: { ...memorySound.memoryMB, 'worker-1': 120 } },
      /^a worker is not lighter than a manager: worker-1 120 MB ≥ manager-1 120 MB$/,
    ],
  ],
});

describe("each check's verdict on made-up figures", () => {
  test('every check has a table here', () => {
    expect(Object.keys(tables).sort()).toEqual(CHECKS.map((c) => c.id).sort());
  });

  describe.each(Object.entries(tables))('%s', (id, t) => {
    test('a sound run passes', () => {
      expect(check(id).problems(t.sound, bounds)).toEqual([]);
    });
    test.each(t.broken.map(([name, f, reason]) => [name, f, reason] as const))('%s fails, saying so', (_, f, reason) => {
      expect(verdict(id, f)).toMatch(reason);
    });
  });
});

test("every seeded fault's declared reason is one its check's judge gives on the figures of a run that broke", () => {
  const unmatched = SEEDED_FAULTS.filter((fault) => fault.check).flatMap((fault) => {
    const id = fault.check!.id;
    const verdicts = (tables[id]?.broken ?? []).map(([, f]) => check(id).problems(f, bounds).join('; '));
    return verdicts.some((v) => fault.because.test(v)) ? [] : [`${fault.id} (${id}): ${fault.because}`];
  });
  expect(unmatched).toEqual([]);
});
