import { buildLab } from '../../generator/patterns';
import { labInDir } from '../../generator/synth/lab-folder';
import { sim, simApim260, simApim470 } from '../../generator/products/sim';
import { synthLab } from '../../generator/synth/writer';
import {
  Check,
  CheckFailure,
  CheckPlan,
  CheckResult,
  DEFAULT_CHECK_OPTIONS,
  percentile,
  planOf,
  runCheck,
  skipOf,
} from '../../harness/check';
import { DeadlineError, INTERRUPTED } from '../../harness/deadline';
import { checkById } from '../../harness/checks';
import { LabTarget, writeFaultedLab } from '../../harness/lab-target';
import { headline, placementLine, resultsJson, RESULTS_SCHEMA_VERSION, whatFailed } from '../../harness/report/write';
import { logsClean, unexpectedErrors } from '../../harness/checks/logs-clean';
import { impactOf, spread } from '../../harness/load';
import { cell, figureTables, markdownTable } from '../../harness/report/figures';
import { parseFailoverRuns, FaultVariant, runProblems, VariantRun } from '../../harness/checks/managers-fail-over';
import { tempDir } from '../support/labs';
import { HELD_RUN } from '../support/failover';
import { NODE_FAULTS, parseFaults } from '../../harness/faults';
import { timelineSvg } from '../../harness/report/plots';
import { sharesMissing } from '../../harness/checks/workers-survive-worker-loss';
import { revocationProblems, revokeApiUrlOf } from '../../harness/checks/revocation-reaches-workers';
import { judgeCatch, judgeStart, planSelftest, SEEDED_FAULTS, selectFaults, selftestStreams } from '../../harness/selftest';
import { faultDelta } from '../../harness/shared-lab';
import { readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';
import type { ConformanceRun } from '../../harness/conformance';
import { answerOf, Exchange } from '../../harness/http';

/** The pure parts of the harness: check outcomes, skips and percentiles, without Docker. */
describe('running a check', () => {
  const lab = buildLab(1, { product: sim });
  const dir = tempDir();
  synthLab(lab, dir, { force: true });
  const target = new LabTarget(lab, dir);
  const plan = (): CheckPlan => planOf({ floorMs: 400, workMs: 600, requestTimeoutMs: 1000, why: 'a second' });

  test('a check that does not apply is skipped, not run, and says why', async () => {
    let ran = false;
    const check: Check = {
      id: 'x',
      title: 'x',
      headline: () => 'x',
      plan,
      problems: () => [],
      skipReason: (l) => (l.pattern === 1 ? 'pattern 1 has one manager' : undefined),
      async run() {
        ran = true;
      },
    };
    const result = await runCheck(check, target, () => undefined);
    expect({ status: result.status, reason: result.reason, ran }).toEqual({
      status: 'skipped',
      reason: 'pattern 1 has one manager',
      ran: false,
    });
    expect(headline(result)).toBe('skipped: pattern 1 has one manager');
  });

  test('a check that throws fails with its message and keeps its figures', async () => {
    const check: Check = {
      id: 'y',
      title: 'y',
      headline: (f) => `seen ${f.seen}`,
      plan,
      problems: () => [],
      async run(ctx) {
        ctx.figures.seen = 3;
        throw new CheckFailure('3 writes accepted', []);
      },
    };
    const result = await runCheck(check, target, () => undefined);
    expect({ status: result.status, reason: result.reason, figures: result.figures }).toEqual({
      status: 'failed',
      reason: '3 writes accepted',
      figures: { seen: 3 },
    });
    expect(result.evidence[0]).toBe('FAILED: 3 writes accepted');
    expect(check.headline(result.figures)).toBe('seen 3');
  });

  test('the lines printed last name each failed or not-run check with its reason, and nothing for a passed or skipped one', async () => {
    const failed = await runCheck(
      {
        id: 'y',
        title: 'y',
        headline: () => 'y',
        plan,
        problems: () => [],
        async run() {
          throw new CheckFailure('3 writes accepted', []);
        },
      },
      target,
      () => undefined,
    );
    const passed = await runCheck(
      {
        id: 'z',
        title: 'z',
        headline: () => 'z',
        plan,
        problems: () => [],
        async run() {
          /* passes */
        },
      },
      target,
      () => undefined,
    );
    const notRun: CheckResult = {
      id: 'n',
      title: 'n',
      status: 'not-run',
      figures: {},
      evidence: [],
      timelines: [],
      durationMs: 0,
      reason: 'the lab was not restored',
    };
    expect(whatFailed({ checks: [passed, failed, notRun] })).toEqual([
      'FAILED: y: 3 writes accepted',
      'not run: n: the lab was not restored',
    ]);
    expect(whatFailed({ checks: [passed] })).toEqual([]);
  });

  test('a check that returns passes', async () => {
    const result = await runCheck(
      {
        id: 'z',
        title: 'z',
        headline: () => 'z',
        plan,
        problems: () => [],
        async run(ctx) {
          ctx.figures.ok = true;
        },
      },
      target,
      () => undefined,
    );
    expect(result.status).toBe('passed');
    expect(result.plan).toEqual(plan());
  });

  test("a check that measured is judged by its problems on its figures and the product bounds: each one said, its suspects' logs attached", async () => {
    const judged: unknown[] = [];
    const check: Check<{ rtoMs: number }> = {
      id: 'judged',
      title: 'judged',
      headline: (f) => `RTO ${f.rtoMs}`,
      plan,
      async run(ctx) {
        ctx.figures.rtoMs = 4200;
      },
      problems(f, bounds) {
        judged.push(f, bounds.rtoBoundMs);
        return f.rtoMs > bounds.rtoBoundMs ? [`RTO ${f.rtoMs} ms above the bound of ${bounds.rtoBoundMs} ms`, 'a second problem'] : [];
      },
      suspects: () => ['worker-2'],
    };
    const result = await runCheck(check, target, () => undefined);
    expect(judged).toEqual([{ rtoMs: 4200 }, lab.product.timing.rtoBoundMs]);
    expect({ status: result.status, reason: result.reason, figures: result.figures }).toEqual({
      status: 'failed',
      reason: `RTO 4200 ms above the bound of ${lab.product.timing.rtoBoundMs} ms; a second problem`,
      figures: { rtoMs: 4200 },
    });
    expect(result.evidence.filter((e) => e.startsWith('last log lines of ')).map((e) => e.split(':')[0])).toEqual([
      'last log lines of worker-2',
    ]);
  });

  test('a check that throws is not judged; a judge that throws fails the check, saying its figures could not be judged', async () => {
    let judged = false;
    const thrown = await runCheck(
      {
        id: 't',
        title: 't',
        headline: () => 't',
        plan,
        problems: () => ((judged = true), []),
        run: () => Promise.reject(new Error('no lab')),
      },
      target,
      () => undefined,
    );
    expect({ status: thrown.status, reason: thrown.reason, judged }).toEqual({ status: 'failed', reason: 'no lab', judged: false });
    const unjudged = await runCheck(
      {
        id: 'u',
        title: 'u',
        headline: () => 'u',
        plan,
        run: async () => undefined,
        problems: (f: { missing?: string[] }) => f.missing!.map((m) => m),
      },
      target,
      () => undefined,
    );
    expect(unjudged.status).toBe('failed');
    expect(unjudged.reason).toMatch(/^its figures could not be judged \(.*\): \{\}$/);
  });

  test('a check past its deadline fails as "timed out after N s in <step>", and its waits end at once', async () => {
    let waited: unknown;
    const check: Check = {
      id: 'slow',
      title: 'slow',
      headline: () => 'slow',
      plan,
      problems: () => [],
      async run(ctx) {
        ctx.step('waiting for a boot that never ends');
        await ctx.sleep(60_000).catch((err: unknown) => {
          waited = err;
          throw err;
        });
      },
    };
    const started = Date.now();
    const result = await runCheck(check, target, () => undefined, { deadlineMs: 200 });
    expect({ status: result.status, timedOutIn: result.timedOutIn }).toEqual({
      status: 'failed',
      timedOutIn: 'waiting for a boot that never ends',
    });
    expect(result.reason).toMatch(/^timed out after 0 s in waiting for a boot that never ends \(expected about 1 s: a second\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String(waited)).toContain('stopped waiting for waiting for a boot that never ends');
  });

  test.each([
    [INTERRUPTED, /^interrupted after 0 s in loading/],
    ["stopped at the run's deadline of 14.0 min", /^stopped at the run's deadline of 14\.0 min after 0 s in loading/],
  ])('a check stopped by its run (%s) fails saying why, in its step', async (reason, said) => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason === INTERRUPTED ? new Error(reason) : new DeadlineError(reason)), 100);
    const check: Check = {
      id: 'int',
      title: 'int',
      headline: () => 'int',
      plan,
      problems: () => [],
      async run(ctx) {
        ctx.step('loading');
        await ctx.sleep(60_000);
      },
    };
    const result = await runCheck(check, target, () => undefined, { signal: controller.signal });
    expect(result.reason).toMatch(said);
  });

  test('progress lines say the step and the time while a check runs', async () => {
    const seen: string[] = [];
    const check: Check = {
      id: 'p',
      title: 'p',
      headline: () => 'p',
      plan,
      problems: () => [],
      async run(ctx) {
        ctx.step('step one');
        await ctx.sleep(130);
        ctx.step('step two');
        await ctx.sleep(130);
      },
    };
    await runCheck(check, target, () => undefined, { progressMs: 50, progress: (step) => seen.push(step) });
    expect(seen).toEqual(expect.arrayContaining(['step one', 'step two']));
  });
});

describe("a plan's deadline", () => {
  test('twice the expected time, or that plus three request timeouts, or the worst case, and half a minute', () => {
    const plan = (workMs: number, requestTimeoutMs: number, worstMs?: number) =>
      planOf({ floorMs: 0, workMs, requestTimeoutMs, why: 'x', worstMs });
    expect(plan(100_000, 10_000).deadlineMs).toBe(230_000);
    expect(plan(10_000, 60_000).deadlineMs).toBe(220_000);
    expect(plan(10_000, 1_000, 500_000).deadlineMs).toBe(530_000);
    expect(planOf({ floorMs: 60_000, workMs: 40_000, requestTimeoutMs: 1_000, why: 'x' })).toMatchObject({
      expectedMs: 100_000,
      floorMs: 60_000,
    });
  });
});

describe('percentile (nearest rank)', () => {
  test.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[10, 1, 5], 50, 5],
    [[7], 99, 7],
  ])('%j p%i = %i', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
  test('of nothing is NaN', () => expect(percentile([], 50)).toBeNaN());
});

describe('what users felt of a fault (impactOf)', () => {
  const p = (t: number, ms: number, ok = true, method = 'GET api') => ({ t, ms, ok, method, status: ok ? 200 : 502 });

  test('RTO runs to the end of the last failed or stalled request, not to the first success', () => {
    // fault asked at 1000, Docker done at 1300; a failure in flight, a quick success, then a stall.
    const impact = impactOf([p(900, 50), p(1100, 150, false, 'POST deploy'), p(1310, 20), p(1400, 1500), p(3000, 20)], 1000, 1300, 1000);
    expect(impact).toMatchObject({ failed: 1, stalled: 1, firstSuccessMs: 30, rtoMs: 1600, failedByMethod: { 'POST deploy': 1 } });
  });

  test('nothing felt: RTO 0; requests that ended before the fault do not count', () => {
    const impact = impactOf([p(0, 5000), p(5100, 20, false), p(6000, 10)], 6000, 6010, 1000);
    expect(impact).toMatchObject({ failed: 0, stalled: 0, rtoMs: 0, firstSuccessMs: 0 });
  });

  test('no success after the fault: firstSuccessMs is null', () => {
    expect(impactOf([p(100, 10), p(1200, 30, false)], 1000, 1100, 1000).firstSuccessMs).toBeNull();
  });
});

describe('spread of runs and judging one run', () => {
  test('min, lower median and max, leaving out the unmeasured', () => {
    expect(spread([30, null, 10, 20, 40])).toEqual({ min: 10, median: 20, max: 40 });
    expect(spread([null])).toEqual({ min: null, median: null, max: null });
  });

  test('CARBON_LABS_FAILOVER_VARIANTS: default every fault, a chosen few in the usual order, or an error naming the faults', () => {
    expect(parseFaults(undefined)).toEqual(NODE_FAULTS);
    expect(parseFaults(' db-partition, stop ')).toEqual(['stop', 'db-partition']);
    expect(() => parseFaults('stop,reboot')).toThrow('no fault "reboot"; the faults are stop, kill, pause, partition, db-partition');
  });

  test('CARBON_LABS_FAILOVER_RUNS: default 3, a whole number ≥ 1 or a clear error', () => {
    expect(parseFailoverRuns(undefined)).toBe(3);
    expect(parseFailoverRuns('5')).toBe(5);
    expect(() => parseFailoverRuns('0')).toThrow('whole number ≥ 1');
  });

  const clean = HELD_RUN;
  const bounds = { rtoBoundMs: 3000, failedRequestsBound: 1, afterFaultMs: 15_000 };

  test.each([
    ['the write the dying node held', clean, 'stop', []],
    ['a failed GET', { ...clean, failedRequests: 2, failedIdempotent: 1 }, 'kill', ['2 requests failed', '1 GETs failed']],
    ['a request sent to the node after Docker stopped it', { ...clean, failedAfterFault: 1 }, 'stop', ['started after the stop failed']],
    [
      'the same after a pause (allowed: the balancer learns of a frozen node by its timeout)',
      { ...clean, failedAfterFault: 1 },
      'pause',
      [],
    ],
    [
      'the same when cut off the database (the node answers, slowly: the balancer learns by its timeout)',
      { ...clean, failedAfterFault: 1 },
      'db-partition',
      [],
    ],
    [
      'a manager cut off the database answering 500s that reach users',
      { ...clean, failedRequests: 5, failedIdempotent: 2, failedAfterFault: 3 },
      'db-partition',
      ['5 requests failed', '2 GETs failed'],
    ],
    ['users in trouble past the bound', { ...clean, rtoMs: 3500 }, 'pause', ['RTO 3500 ms']],
    ['a write stored twice', { ...clean, duplicatedWrites: 1, duplicated: ['Fo1 revision ×2'] }, 'kill', ['stored more than once']],
    [
      'a write that never reached a worker',
      { ...clean, unreachedWorkers: 2, unreached: ['Fo7 on worker-1 (acknowledged -900 ms from the fault request)'] },
      'stop',
      ['never reached a worker'],
    ],
    [
      'a deploy acknowledged as the node died that missed the gateways: reported, not judged',
      { ...clean, unreachedInCrashWindow: 1 },
      'stop',
      [],
    ],
  ] as [string, VariantRun, FaultVariant, string[]][])('%s', (_, run, variant, expected) => {
    const problems = runProblems(variant, run, bounds, 'manager-1');
    expect(problems.length).toBe(expected.length);
    expected.forEach((e) => expect(problems.join('; ')).toContain(e));
  });
});

describe('figures as tables in the reports', () => {
  test('values in one table; an object of rows and a list of records as tables of their own; a spread as min / median / max', () => {
    const tables = figureTables({
      boundMs: 3000,
      servedBy: { 'manager-1': 20 },
      statuses: { 'worker-1': { register: 404, token: 404 }, 'worker-2': { register: 404, soap: 403 } },
      stop: {
        rtoMs: { min: 0, median: 5, max: 40 },
        lost: 0,
        runs: [
          { rtoMs: 0, failedByMethod: {} },
          { rtoMs: 40, failedByMethod: { 'POST deploy': 1 } },
        ],
      },
    });
    expect(tables.map((t) => [t.title, t.columns, t.rows])).toEqual([
      [
        'figures',
        ['figure', 'value'],
        [
          ['boundMs', '3000'],
          ['servedBy', 'manager-1: 20'],
        ],
      ],
      [
        'statuses',
        ['', 'register', 'token', 'soap'],
        [
          ['worker-1', '404', '404', '—'],
          ['worker-2', '404', '—', '403'],
        ],
      ],
      [
        'stop',
        ['figure', 'value'],
        [
          ['rtoMs', '0 / 5 / 40'],
          ['lost', '0'],
        ],
      ],
      [
        'stop runs',
        ['#', 'rtoMs', 'failedByMethod'],
        [
          ['1', '0', '—'],
          ['2', '40', 'POST deploy: 1'],
        ],
      ],
    ]);
    expect(markdownTable(tables[0])[0]).toBe('| figure | value |');
    expect(cell({ a: [1, 2], b: null })).toBe('a: 1, 2, b: —');
  });
});

describe('timeline plots', () => {
  test('one panel per fault, in the order the faults were applied (not by name)', async () => {
    const names = ['stop manager-1', 'kill manager-1', 'pause manager-1'];
    const result: CheckResult = {
      id: 'managers-fail-over',
      title: 't',
      status: 'passed',
      figures: {},
      evidence: [],
      durationMs: 1,
      timelines: names.map((name) => ({
        name,
        faultAt: 100,
        points: [
          { t: 50, method: 'GET api', status: 200, ok: true, ms: 10 },
          { t: 150, method: 'GET api', status: 502, ok: false, ms: 20 },
        ],
      })),
    };
    const svg = (await timelineSvg(result))!;
    const at = names.map((n) => svg.indexOf(`>${n}<`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });
});

describe('every worker counts (sharesMissing)', () => {
  test('round robin over two workers: both take a share', () => {
    expect(sharesMissing({ 'worker-1': 30, 'worker-2': 30 }, ['worker-1', 'worker-2'], 60)).toEqual([]);
  });
  test('a worker left out of the rotation, or served under half its even part, is named', () => {
    expect(sharesMissing({ 'worker-1': 60 }, ['worker-1', 'worker-2'], 60)).toEqual([
      "worker-2 took no share of the worker listener's traffic (0 of 60 requests, an even part is 30)",
    ]);
    expect(sharesMissing({ 'worker-1': 46, 'worker-2': 14 }, ['worker-1', 'worker-2'], 60)).toHaveLength(1);
    expect(sharesMissing({ 'manager-1': 60 }, ['worker-1', 'worker-2'], 60)).toHaveLength(2);
  });
});

describe('a seeded fault is caught for the reason it declares (judgeCatch)', () => {
  const fault = SEEDED_FAULTS.find((f) => f.id === 'heavy-worker')!;
  test('its check failing as declared is a catch', () => {
    expect(
      judgeCatch(fault, { status: 'failed', reason: 'a worker is not lighter than a manager: worker-1 297 MB ≥ manager-1 80 MB' }).caught,
    ).toBe(true);
  });
  test('its check failing for another reason (a time-out) is no catch, and the report says why', () => {
    const judged = judgeCatch(fault, {
      status: 'failed',
      reason: 'timed out after 72 s in starting (expected about 12 s: 6 docker stats samples)',
    });
    expect(judged).toEqual({ caught: false, why: expect.stringContaining('failed for another reason than') });
  });
  test('a deliberately mis-declared fault (the wrong failure expected) is not counted as caught', () => {
    const misDeclared = { ...fault, because: /writes acknowledged around the restart are gone/ };
    expect(
      judgeCatch(misDeclared, { status: 'failed', reason: 'a worker is not lighter than a manager: worker-1 297 MB ≥ manager-1 80 MB' })
        .caught,
    ).toBe(false);
  });
  test('a check that passed caught nothing', () => {
    expect(judgeCatch(fault, { status: 'passed' }).caught).toBe(false);
  });
  test('every seeded fault declares why it is caught, and names a check that exists (or that its lab must fail to start)', () => {
    for (const f of SEEDED_FAULTS)
      expect({ id: f.id, because: f.because instanceof RegExp, check: f.check ? typeof f.check.run : 'the start' }).toEqual({
        id: f.id,
        because: true,
        check: f.check ? 'function' : 'the start',
      });
  });
});

describe('a seeded fault whose lab must never become healthy (judgeStart)', () => {
  const fault = SEEDED_FAULTS.find((f) => f.id === 'classic-worker-node-without-profile')!;
  const exited = new Error(
    'worker-1 of carbon-labs-sim-apim-2.6.0-p1 is exited 1: [2026-12-07T02:00:00.000Z] FATAL {org.wso2.carbon.server.Main} - OSGi runtime worker profile not found. Its last log lines:\n…',
  );
  test("it has no check: its lab's start is what must fail", () => {
    expect(fault.check).toBeUndefined();
    expect(planSelftest([fault], 'compose').alone).toEqual([{ fault, why: 'the lab itself must fail to start' }]);
  });
  test("a start that fails on the node's exit, naming the launcher's fatal line first, caught it", () => {
    expect(judgeStart(fault, exited)).toEqual({ caught: true, why: expect.stringContaining('the start failed as declared') });
  });
  test('a start that failed only when its budget ran out (the timed-out wait names the node later) hid the cause: not caught', () => {
    const timedOut = new Error(
      'carbon-labs-sim-apim-2.6.0-p1 to become healthy: timed out after 132 s; worker-1 is exited 1. Its last log lines:\n[…] FATAL {org.wso2.carbon.server.Main} - OSGi runtime worker profile not found',
    );
    expect(judgeStart(fault, timedOut).caught).toBe(false);
  });
  test('a start that failed for another reason, or a lab that became healthy, caught nothing', () => {
    expect(
      judgeStart(
        fault,
        new Error('worker-1 of carbon-labs-sim-apim-2.6.0-p1 is exited 1. Its last log lines:\nOSGi runtime worker profile not found'),
      ).caught,
    ).toBe(false);
    expect(judgeStart(fault, undefined)).toEqual({ caught: false, why: 'the lab became healthy' });
  });
});

describe('which seeded faults can share a running lab (labDelta, planSelftest)', () => {
  const spec = buildLab(3, { product: sim });
  const byId = (id: string) => SEEDED_FAULTS.find((f) => f.id === id)!;
  const deltaOf = (id: string) => faultDelta(spec, byId(id).options.faults ?? []);

  test('an environment change of one service recreates that service alone', () => {
    expect(deltaOf('worker-accepts-writes')).toEqual({ services: ['worker-1'], paths: ['carbon-labs.fault.yml'] });
  });
  test('an edited node file recreates the node that mounts it', () => {
    expect(deltaOf('worker-not-in-worker-mode')).toEqual({
      services: ['worker-1'],
      paths: ['nodes/worker-1/repository/conf/deployment.toml'],
    });
  });
  test("a balancer's upstreams changed in the model recreate that balancer alone", () => {
    expect(deltaOf('worker-left-out-p3')).toEqual({ services: ['lb-worker'], paths: ['nginx/lb-worker.conf'] });
  });
  test('a node given another network recreates that node (its compose definition differs)', () => {
    expect(deltaOf('manager-on-public')).toEqual({ services: ['manager-1'], paths: ['docker-compose.yml'] });
  });
  test("a change to the lab's shape, or to what a one-shot makes, needs a lab of its own", () => {
    expect(deltaOf('shared-balancer-in-pattern-3')).toEqual({
      apart: expect.stringMatching(/^its services change \(.*\+lb.*-lb-manager.*\)$/),
    });
    expect(deltaOf('truststore-without-lab-ca')).toEqual({ apart: expect.stringContaining('truststore changes: a one-shot') });
  });
  test('the database cannot be recreated under a shared lab (it would start empty)', () => {
    expect(faultDelta(spec, [{ kind: 'compose', services: { db: { environment: { X: '1' } } } }])).toEqual({
      apart: expect.stringContaining('db changes'),
    });
  });
  test('a file no one service reads keeps a fault apart', () => {
    expect(
      faultDelta(spec, [{ kind: 'files', edit: (dir) => writeFileSync(join(dir, 'db', 'init', '00-carbon-labs.sh'), '#!/bin/sh\n') }]),
    ).toEqual({ apart: 'db/init/00-carbon-labs.sh changes, which no one service alone reads' });
  });
  test('the plan: shared groups per product and pattern, the manager-recreating faults last; the rest alone, each with why', () => {
    const plan = planSelftest(SEEDED_FAULTS, 'compose');
    const p3 = plan.shared.find((g) => g[0].pattern === 3 && !g[0].product)!.map((f) => f.id);
    expect(p3.slice(-2)).toEqual(['ack-before-commit', 'manager-on-public']);
    expect(p3).toContain('worker-accepts-writes');
    const alone = Object.fromEntries(plan.alone.map((a) => [a.fault.id, a.why]));
    expect(alone['manager-with-stock-jwks-url']).toBe(byId('manager-with-stock-jwks-url').ownLab);
    expect(alone['worker-left-out-p1']).toBe('the only fault of sim p1 that can share a lab');
    expect(plan.shared.flat().length + plan.alone.length).toBe(SEEDED_FAULTS.length);
  });
  test('on a swarm every fault starts a stack of its own', () => {
    expect(planSelftest(SEEDED_FAULTS.slice(0, 3), 'swarm')).toEqual({
      shared: [],
      alone: SEEDED_FAULTS.slice(0, 3).map((fault) => ({ fault, why: 'a stack is deployed whole' })),
    });
  });
  test("side by side: a shared lab's faults stay in one stream, in order; units go longest first to the least loaded stream", () => {
    const plan = planSelftest(SEEDED_FAULTS, 'compose');
    const cost = (faults: readonly unknown[]) => 10 + faults.length;
    const streams = selftestStreams(plan, 2, cost);
    expect(streams).toHaveLength(2);
    expect(
      streams
        .flat()
        .map((f) => f.id)
        .sort(),
    ).toEqual(SEEDED_FAULTS.map((f) => f.id).sort());
    for (const group of plan.shared) {
      const holder = streams.find((st) => st.includes(group[0]))!;
      const at = holder.indexOf(group[0]);
      expect(holder.slice(at, at + group.length)).toEqual(group);
    }
    const loads = streams.map(
      (st) =>
        plan.shared.filter((g) => st.includes(g[0])).reduce((sum, g) => sum + cost(g), 0) +
        plan.alone.filter((a) => st.includes(a.fault)).reduce((sum) => sum + cost([0]), 0),
    );
    // Greedy longest-first: no stream carries more than the other plus its largest unit.
    const largest = Math.max(...plan.shared.map(cost), cost([0]));
    expect(Math.abs(loads[0] - loads[1])).toBeLessThanOrEqual(largest);
    expect(selftestStreams(plan, 1, cost)).toEqual([[...plan.shared.flat(), ...plan.alone.map((a) => a.fault)]]);
  });
});

/** Every file under `dir` (relative path → content), for comparing two lab folders. */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      const path = join(sub, entry.name);
      if (entry.isDirectory()) walk(path);
      else out[path] = readFileSync(join(dir, path), 'utf8');
    }
  };
  walk('');
  return out;
}

describe('every seeded fault can be written into its lab', () => {
  // A fault's file edit refuses a file that no longer holds what it changes (a template that moved
  // on): caught here, not minutes into the self-test.
  test.each(SEEDED_FAULTS.filter((f) => f.options.faults?.length).map((f) => [f.id, f] as const))('%s', (_, fault) => {
    const lab = buildLab(fault.pattern, { product: fault.product ?? sim });
    const sound = join(tempDir(), 'lab');
    synthLab(lab, sound, { force: true });
    const faulted = join(tempDir(), 'lab');
    writeFaultedLab(lab, fault.options.faults!, faulted);
    // Faults applied to the running lab (live) write nothing; every other one changes a file (two
    // sound copies in two folders are equal: the comparison can tell).
    if (fault.options.faults!.every((f) => f.kind === 'live')) return;
    const again = join(tempDir(), 'lab');
    synthLab(lab, again, { force: true });
    expect(filesOf(again)).toEqual(filesOf(sound));
    expect(filesOf(faulted)).not.toEqual(filesOf(sound));
  });
});

describe('which seeded faults a self-test run takes (selectFaults)', () => {
  const ids = (faults: readonly { id: string }[]) => faults.map((f) => f.id);
  const classic = SEEDED_FAULTS.filter((f) => f.product?.id === 'sim-apim-2.6.0');

  test("by product, or all but a product's: the two legs of make test together take every fault once", () => {
    const only = selectFaults(SEEDED_FAULTS, { products: 'sim-apim-2.6.0' });
    const rest = selectFaults(SEEDED_FAULTS, { products: '!sim-apim-2.6.0' });
    expect(ids(only)).toEqual(ids(classic));
    expect(only.length).toBeGreaterThan(0);
    expect(ids(rest).some((id) => ids(only).includes(id))).toBe(false);
    expect([...ids(only), ...ids(rest)].sort()).toEqual(ids(SEEDED_FAULTS).sort());
    // A fault with no product is the 4.3.0 stand-in's.
    expect(ids(selectFaults(SEEDED_FAULTS, { products: 'sim' }))).toContain('worker-accepts-writes');
  });

  test('by id and product together; unknown names refused, naming what there is', () => {
    expect(
      ids(selectFaults(SEEDED_FAULTS, { faults: 'heavy-worker, classic-sync-leaves-out-a-worker', products: 'sim-apim-2.6.0' })),
    ).toEqual(['classic-sync-leaves-out-a-worker']);
    // Set but empty (CARBON_LABS_SELFTEST_PRODUCTS= in a shell): every fault, not none.
    expect(selectFaults(SEEDED_FAULTS, { faults: '', products: ' ' })).toHaveLength(SEEDED_FAULTS.length);
    expect(() => selectFaults(SEEDED_FAULTS, { faults: 'no-such-fault' })).toThrow(
      /CARBON_LABS_SELFTEST_FAULTS: no seeded fault no-such-fault; they are worker-accepts-writes/,
    );
    expect(() => selectFaults(SEEDED_FAULTS, { products: '!sim-apim-9' })).toThrow(
      /CARBON_LABS_SELFTEST_PRODUCTS: no seeded fault is on sim-apim-9; they are on sim, /,
    );
  });
});

describe('results.json', () => {
  test('says the version of its shape and of the carbon-labs that wrote it, before the run', () => {
    const run = {
      product: 'sim',
      pattern: 3,
      project: 'p',
      target: 'compose',
      workers: 2,
      managers: 2,
      pace: 'native',
      startedAt: 't',
      durationMs: 1,
      expectedMs: 1,
      deadlineMs: 1,
      floorMs: 0,
      labStartSeconds: 0,
      bounds: {},
      verdict: 'passed',
      complete: true,
      provenance: { commit: 'abc1234', engine: null, compose: null, images: {} },
      checks: [],
    } as unknown as ConformanceRun;
    const json = JSON.parse(resultsJson(run)) as Record<string, unknown>;
    expect(Object.keys(json).slice(0, 3)).toEqual(['schemaVersion', 'carbonLabs', 'product']);
    expect(json.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
    expect(json.carbonLabs).toEqual({
      version: JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version,
      commit: 'abc1234',
    });
  });
});

describe('logs-clean: what counts as an ERROR line', () => {
  const log = [
    '[2026-12-06T19:49:58.075Z] INFO  {CarbonServerManager} - Starting WSO2 API Manager-4.3.0',
    '[2024-05-01 10:10:10,123]  WARN {org.wso2.carbon.apimgt.gateway.Foo} - a warning with the word ERROR { in it is still a warning',
    '[2024-05-01 10:10:11,456] ERROR {org.wso2.carbon.apimgt.impl.Bar} - Error while connecting to JWKS endpoint',
    'TID: [-1234] [] [2019-01-01 10:00:00,000] ERROR {org.apache.synapse.deployers.APIDeployer} -  API deployment from the file : x.xml : Failed.',
    'ERROR {sim} GET /x: TypeError: boom',
  ].join('\n');
  test("Carbon 4.x and 4.4 lines at ERROR, and the stand-in's own, count; WARN and INFO do not", () => {
    expect(unexpectedErrors(log, {}).map((l) => /ERROR\s+\{([^}]+)\}/.exec(l)?.[1])).toEqual([
      'org.wso2.carbon.apimgt.impl.Bar',
      'org.apache.synapse.deployers.APIDeployer',
      'sim',
    ]);
  });
  test('a log the engine cannot give fails the check and names the node (no evidence is not a clean log)', async () => {
    const lab = buildLab(1, { product: sim });
    const dir = tempDir();
    synthLab(lab, dir, { force: true });
    // Containers the engine does not have (or no engine at all): every read fails.
    const target = new (class extends LabTarget {
      override async container(service: string) {
        return `carbon-labs-no-such-${service}`;
      }
    })(lab, dir);
    const result = await runCheck(logsClean, target, () => undefined);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^could not read the logs of manager-1 \(.*\), worker-1 .*: their ERROR lines cannot be judged$/);
  });
  test('an allow-list entry excuses the lines it matches, and only those', () => {
    const product = { allowedErrors: [{ match: /Error while connecting to JWKS endpoint/, why: 'a test entry' }] };
    expect(unexpectedErrors(log, product)).toHaveLength(2);
    expect(unexpectedErrors(log, product).some((l) => l.includes('JWKS'))).toBe(false);
  });
});

describe('revocation-reaches-workers: every worker refuses a revoked token, and a verdict says what each did', () => {
  const workers = ['worker-1', 'worker-2'];
  test.each([
    [{ refused: { 'worker-1': 20, 'worker-2': 31 }, served: [], otherwise: {} }, []],
    [
      { refused: { 'worker-1': 20 }, served: ['worker-2'], otherwise: {} },
      [
        "worker-2 still served the token revoked through the store's RevokeAPIURL 5000 ms after its revocation (the revoking gateway's cache invalidation never reached it)",
      ],
    ],
    // A worker that answers something else has not been shown to keep the token: said as it is.
    [
      { refused: {}, served: ['worker-1'], otherwise: { 'worker-2': 'GET … → 502' } },
      [
        "worker-1 still served the token revoked through the store's RevokeAPIURL 5000 ms after its revocation (the revoking gateway's cache invalidation never reached it)",
        "worker-2 neither refused nor served the token revoked through the store's RevokeAPIURL within 5000 ms (last answer: GET … → 502)",
      ],
    ],
  ])('%j', (seen, problems) => {
    expect(revocationProblems("the store's RevokeAPIURL", workers, seen, 5000)).toEqual(problems);
  });

  test("the managers' RevokeAPIURL as the store reads it (comments skipped, the gateway port filled)", () => {
    expect(
      revokeApiUrlOf(
        '<OAuthConfigurations><!--RevokeAPIURL>https://x/revoke</RevokeAPIURL--><RevokeAPIURL> https://lb-worker:${https.nio.port}/revoke </RevokeAPIURL></OAuthConfigurations>',
      ),
    ).toBe('https://lb-worker:8243/revoke');
    expect(revokeApiUrlOf('<OAuthConfigurations/>')).toBeUndefined();
  });
});

describe('a check applies, or is skipped saying why, from the lab model alone', () => {
  test('a 4.7.0 pattern-3 lab with one manager (MANAGERS=1): managers-fail-over is skipped, manager-outage-without-ha applies', () => {
    const lab = buildLab(3, { product: simApim470, managers: 1 });
    expect(skipOf(checkById('managers-fail-over'), lab)).toBe(
      'one manager, no passive one to fail over to (see manager-outage-without-ha)',
    );
    expect(skipOf(checkById('manager-outage-without-ha'), lab)).toBeUndefined();
    expect(skipOf(checkById('managers-fail-over'), buildLab(3, { product: simApim470 }))).toBeUndefined();
  });

  test('the same lab read back from its folder, as `carbon-labs conformance` hands it to the harness: one manager, managers-fail-over skipped without touching the lab', async () => {
    const dir = tempDir('m1-47-');
    synthLab(buildLab(3, { product: simApim470, managers: 1 }), dir, { force: true });
    const lab = labInDir(dir);
    expect([lab.product.id, lab.nodes.filter((n) => n.role === 'manager').map((n) => n.name)]).toEqual(['sim-apim-4.7.0', ['manager-1']]);
    // No engine is asked: a skip is decided before the check takes the machine or the lab.
    const result = await runCheck(checkById('managers-fail-over'), new LabTarget(lab, dir), () => undefined);
    expect({ status: result.status, reason: result.reason }).toEqual({
      status: 'skipped',
      reason: 'one manager, no passive one to fail over to (see manager-outage-without-ha)',
    });
    expect(skipOf(checkById('manager-outage-without-ha'), lab)).toBeUndefined();
  });

  test('on the classic product every check runs (policies-propagate with its blocks, on the token cache bound, and its quotas); revocation-reaches-workers only there', () => {
    const classic = buildLab(3, { product: simApim260 });
    expect(skipOf(checkById('policies-propagate'), classic)).toBeUndefined();
    expect(checkById('policies-propagate').plan(classic, DEFAULT_CHECK_OPTIONS).why).toBe(
      "1 block/unblock cycle, each direction within the workers' token cache expiry and sweep (52000 ms), a subscription quota of 10 and an application quota of 6",
    );
    expect(skipOf(checkById('workers-survive-worker-loss'), classic)).toBeUndefined();
    expect(skipOf(checkById('revocation-reaches-workers'), classic)).toBeUndefined();
    expect(skipOf(checkById('revocation-reaches-workers'), buildLab(3, { product: sim }))).toBe(
      'the 4.x products revoke through the event hub: policies-propagate judges it',
    );
  });

  test("manager-outage-without-ha runs on the classic product's pattern 1 (one manager), and is skipped where a passive manager takes over", () => {
    expect(skipOf(checkById('manager-outage-without-ha'), buildLab(1, { product: simApim260 }))).toBeUndefined();
    expect(skipOf(checkById('manager-outage-without-ha'), buildLab(3, { product: simApim260 }))).toBe(
      'a passive manager takes over here (see managers-fail-over)',
    );
  });

  test("managers-fail-over runs on the classic product's patterns 2 and 3, and is skipped on its pattern 1", () => {
    expect(skipOf(checkById('managers-fail-over'), buildLab(2, { product: simApim260 }))).toBeUndefined();
    expect(skipOf(checkById('managers-fail-over'), buildLab(3, { product: simApim260 }))).toBeUndefined();
    expect(skipOf(checkById('managers-fail-over'), buildLab(1, { product: simApim260 }))).toBe(
      'one manager, no passive one to fail over to (see manager-outage-without-ha)',
    );
  });
});

describe("an answer as a figure: status and the product's error code", () => {
  const e = (status: number, body: unknown, error?: string): Exchange => ({
    method: 'GET',
    url: 'https://w/x',
    status,
    headers: {},
    ms: 1,
    body,
    error,
  });
  test.each([
    [
      e(
        500,
        '<ams:fault xmlns:ams="http://wso2.org/apimanager/security"><ams:code>900900</ams:code><ams:message>Unclassified Authentication Failure</ams:message></ams:fault>',
      ),
      '500 900900',
    ],
    [e(401, { code: '900901', message: 'Invalid Credentials' }), '401 900901'],
    [e(401, { fault: { code: 900901, message: 'Invalid Credentials' } }), '401 900901'],
    [e(401, '{"fault":{"code":900901}}'), '401 900901'],
    [e(200, { name: 'menu' }), '200'],
    [e(0, undefined, 'ECONNREFUSED'), 'no answer (ECONNREFUSED)'],
  ])('%j → %s', (exchange, figure) => {
    expect(answerOf(exchange)).toBe(figure);
  });
});

describe('a stack report says where each service ran', () => {
  const provenance = { commit: null, engine: null, compose: null, images: {} };
  test('services grouped by swarm node, nodes and services in order; none for a compose lab', () => {
    expect(
      placementLine({
        provenance: {
          ...provenance,
          placement: { 'worker-2': 'host-2', db: 'host-3', 'manager-1': 'host-1', 'worker-1': 'host-2', 'lb-manager': 'host-1' },
        },
      }),
    ).toBe('Placement on 3 swarm nodes: host-1: lb-manager, manager-1; host-2: worker-1, worker-2; host-3: db.');
    expect(placementLine({ provenance })).toBeUndefined();
    expect(placementLine({ provenance: { ...provenance, placement: {} } })).toBeUndefined();
  });
});
