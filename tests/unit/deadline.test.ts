import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { startupBudgetSeconds } from '../../generator/model/start-order';
import { DEFAULT_CHECK_OPTIONS } from '../../harness/check';
import { CHECKS } from '../../harness/checks';
import { planRun, processDeadlineMs, runDeadlineMs } from '../../harness/conformance';
import { DeadlineError, graceMs, INTERRUPTED, stopReason, stoppedAs, watchdog } from '../../harness/deadline';

/** The conformance process's own deadline (harness/deadline.ts): no run waits unbounded, whatever hangs. */
describe("the conformance process's deadline", () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('at its deadline it stops the run through its signal, saying why; past the grace it ends the process', () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const exits: number[] = [];
    const w = watchdog(controller, 60_000, 30_000, (l) => lines.push(l), { exit: (code) => exits.push(code) });
    jest.advanceTimersByTime(59_000);
    expect([controller.signal.aborted, w.fired]).toEqual([false, false]);
    jest.advanceTimersByTime(1_000);
    expect([controller.signal.aborted, w.fired, stopReason(controller.signal)]).toEqual([
      true,
      true,
      "stopped at the run's deadline of 1.0 min",
    ]);
    expect(lines).toEqual(['the run passed its deadline of 1.0 min: stopping the running check, then writing what ran']);
    jest.advanceTimersByTime(29_999);
    expect(exits).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
    expect(lines[1]).toMatch(/^the run did not end within 0\.5 min of its deadline: ending it now/);
  });

  test("time spent waiting for the machine (other processes' work) is not the run's own", () => {
    const controller = new AbortController();
    let waited = 0;
    const w = watchdog(controller, 60_000, 30_000, () => undefined, { waited: () => waited, exit: () => undefined });
    jest.advanceTimersByTime(50_000);
    waited = 40_000;
    jest.advanceTimersByTime(40_000);
    expect(w.fired).toBe(false);
    jest.advanceTimersByTime(10_000);
    expect([w.fired, controller.signal.aborted]).toEqual([true, true]);
  });

  test('a run that ends first disposes of it, and an interrupted run never fires it', () => {
    const exits: number[] = [];
    const ended = new AbortController();
    const done = watchdog(ended, 1_000, 1_000, () => undefined, { exit: (code) => exits.push(code) });
    done[Symbol.dispose]();
    const interrupted = new AbortController();
    const w = watchdog(interrupted, 1_000, 1_000, () => undefined, { exit: (code) => exits.push(code) });
    interrupted.abort(new Error(INTERRUPTED));
    jest.advanceTimersByTime(10_000);
    expect([ended.signal.aborted, w.fired, exits, stopReason(interrupted.signal)]).toEqual([false, false, [], 'the run was interrupted']);
  });

  test('an interrupt, or an abort without a reason (a DOMException), is said as before; the deadline as it is', () => {
    const bare = new AbortController();
    bare.abort();
    expect([stopReason(bare.signal), stoppedAs(bare.signal)]).toEqual(['the run was interrupted', INTERRUPTED]);
    const late = new AbortController();
    late.abort(new DeadlineError("stopped at the run's deadline of 2.0 min"));
    expect([stopReason(late.signal), stoppedAs(late.signal)]).toEqual([
      "stopped at the run's deadline of 2.0 min",
      "stopped at the run's deadline of 2.0 min",
    ]);
  });

  test("the bound is each lab's start, export and removal plus its checks' worst, summed over the labs", () => {
    const p2 = buildLab(2, { product: sim });
    const p3 = buildLab(3, { product: sim });
    const one = (lab: typeof p2) => 3 * startupBudgetSeconds(lab) * 1000 + runDeadlineMs(lab, planRun(lab, CHECKS, DEFAULT_CHECK_OPTIONS));
    expect(processDeadlineMs([p2, p3], CHECKS, DEFAULT_CHECK_OPTIONS)).toBe(one(p2) + one(p3));
    // Fewer checks, a shorter bound; never below the starts.
    const fewer = processDeadlineMs([p3], CHECKS.slice(0, 1), DEFAULT_CHECK_OPTIONS);
    expect(fewer).toBeLessThan(one(p3));
    expect(fewer).toBeGreaterThanOrEqual(3 * startupBudgetSeconds(p3) * 1000);
    expect(graceMs([p2, p3])).toBe(60_000 + 2 * Math.max(startupBudgetSeconds(p2), startupBudgetSeconds(p3)) * 1000);
  });
});
