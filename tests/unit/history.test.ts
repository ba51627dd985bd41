import { existsSync, readdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { CheckResult } from '../../harness/check';
import type { ConformanceRun } from '../../harness/conformance';
import { archiveRun, compareRuns, comparisonText, KEPT_RUNS, keptRuns, numericFigures, readRun, RUNS } from '../../harness/report/history';
import { junitXml, resultsJson } from '../../harness/report/write';
import { tempDir } from '../support/labs';

const check = (id: string, status: CheckResult['status'], figures: Record<string, unknown>): CheckResult =>
  ({ id, title: id, status, figures, evidence: [], timelines: [], durationMs: 1000 }) as unknown as CheckResult;

const runAt = (startedAt: string, checks: CheckResult[]): ConformanceRun =>
  ({
    product: 'sim',
    pattern: 3,
    project: 'carbon-labs-sim-p3',
    target: 'compose',
    workers: 2,
    managers: 2,
    pace: 'native',
    startedAt,
    durationMs: 60_000,
    expectedMs: 1,
    deadlineMs: 1,
    floorMs: 0,
    labStartSeconds: 0,
    bounds: {},
    verdict: checks.every((c) => c.status !== 'failed') ? 'passed' : 'failed',
    complete: true,
    provenance: { commit: 'abc1234', engine: null, compose: null, images: {} },
    checks,
  }) as unknown as ConformanceRun;

describe('run history', () => {
  test('each run is kept under runs/<its start>, the latest ten, oldest gone first; the folder keeps the last run', () => {
    const dir = tempDir('carbon-labs-history-');
    const stamps = Array.from({ length: KEPT_RUNS + 2 }, (_, i) => `2026-12-06T10:${String(i).padStart(2, '0')}:00.000Z`);
    for (const s of stamps) {
      writeFileSync(join(dir, 'results.json'), resultsJson(runAt(s, [check('artifacts-propagate', 'passed', { p50Ms: 70 })])));
      writeFileSync(join(dir, 'report.md'), `# ${s}\n`);
      archiveRun({ startedAt: s }, dir);
    }
    const kept = readdirSync(join(dir, RUNS)).sort();
    expect(kept).toHaveLength(KEPT_RUNS);
    expect(kept[0]).toBe(stamps[2].replace(/[:.]/g, '-'));
    expect(keptRuns(dir).map((d) => readRun(d).startedAt)).toEqual(stamps.slice(2));
    expect(existsSync(join(dir, RUNS, kept[KEPT_RUNS - 1], 'report.md'))).toBe(true);
    expect(readRun(dir).startedAt).toBe(stamps[stamps.length - 1]);
  });

  test('figures are compared by their path; a less-is-better figure past ×1.5 is flagged, a bound or a lightest manager is not judged', () => {
    const before = runAt('a', [
      check('managers-fail-over', 'passed', { stop: { rtoMs: 100, failedRequests: 0 }, rtoBoundMs: 3000, note: 'text' }),
      check('workers-lighter-than-managers', 'passed', { lightestManagerMB: 40, heaviestWorkerMB: 30 }),
    ]);
    const now = runAt('b', [
      check('managers-fail-over', 'failed', { stop: { rtoMs: 160, failedRequests: 2 }, rtoBoundMs: 6000 }),
      check('workers-lighter-than-managers', 'passed', { lightestManagerMB: 80, heaviestWorkerMB: 31 }),
    ]);
    expect(numericFigures(before.checks[0].figures)).toEqual({ 'stop.rtoMs': 100, 'stop.failedRequests': 0, rtoBoundMs: 3000 });
    const c = compareRuns(before, now);
    expect(c.figures.filter((f) => f.worse).map((f) => `${f.check} ${f.figure}`)).toEqual([
      'managers-fail-over stop.rtoMs',
      'managers-fail-over stop.failedRequests',
    ]);
    expect(c.verdicts.find((v) => v.check === 'managers-fail-over')).toEqual({
      check: 'managers-fail-over',
      before: 'passed',
      now: 'failed',
    });
    const text = comparisonText(c);
    expect(text).toContain('verdicts changed: managers-fail-over passed → failed');
    expect(text).toMatch(/managers-fail-over\s+stop\.rtoMs\s+100\s+160\s+×1\.60 WORSE/);
    expect(compareRuns(before, before).figures.some((f) => f.worse)).toBe(false);
    // A measurement with no value now (a p99 of "none served" is written as null) is worse; a stall threshold is no measurement.
    const lost = compareRuns(
      runAt('a', [check('admin-load-isolation', 'passed', { underSaturationP99Ms: 30, stallMs: 1000 })]),
      runAt('b', [check('admin-load-isolation', 'passed', { underSaturationP99Ms: null, stallMs: 5000 })]),
    );
    expect(lost.figures.filter((f) => f.worse).map((f) => f.figure)).toEqual(['underSaturationP99Ms']);
  });

  test('JUnit carries every numeric figure of a check as a property', () => {
    const xml = junitXml(runAt('a', [check('managers-fail-over', 'passed', { stop: { rtoMs: 12.5 } })]));
    expect(xml).toContain('<property name="figure.stop.rtoMs" value="12.5"/>');
  });
});
