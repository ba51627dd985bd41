import type { LabSpec } from '../generator/model/lab';
import { startupBudgetSeconds } from '../generator/model/start-order';

/** What a run says of the checks it did not reach when the user interrupted it. */
export const INTERRUPTED = 'interrupted';

/** After the deadline's abort: time for the running check to stop, the lab's restore and removal, and the reports. */
export const graceMs = (labs: readonly LabSpec[]): number => 60_000 + Math.max(0, ...labs.map((l) => 2 * startupBudgetSeconds(l) * 1000));

/** What aborts a run at its deadline (an interrupt, or any other abort, is said as one). */
export class DeadlineError extends Error {}

/** How a check stopped by its run says it: "interrupted", or the deadline's reason. */
export const stoppedAs = (signal: AbortSignal): string => (signal.reason instanceof DeadlineError ? signal.reason.message : INTERRUPTED);

/** Why a run stopped early, as its report says it of the checks it did not reach: {@link stoppedAs}, an interrupt in full. */
export const stopReason = (signal: AbortSignal): string => {
  const as = stoppedAs(signal);
  return as === INTERRUPTED ? 'the run was interrupted' : as;
};

/**
 * The process's own deadline, so that no conformance run waits unbounded whatever hangs: once its
 * own time (the time since it began, less `waited()`: what it spent waiting for the machine while
 * other processes' work held it) reaches `deadlineMs`, it stops the run through its signal (the
 * running check fails saying so, the rest are reported not run, the reports are written), and if
 * the process has not ended `grace` later, it ends it (status 1), saying what to clean up.
 * `fired` tells the caller which ended the run; after an interrupt it never fires.
 */
export function watchdog(
  controller: AbortController,
  deadlineMs: number,
  grace: number,
  log: (line: string) => void,
  options: { readonly waited?: () => number; readonly exit?: (code: number) => void; readonly everyMs?: number } = {},
): { readonly fired: boolean } & Disposable {
  const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  const waited = options.waited ?? (() => 0);
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const began = Date.now();
  const state = { fired: false };
  let hard: NodeJS.Timeout | undefined;
  const tick = setInterval(() => {
    if (controller.signal.aborted) return clearInterval(tick);
    if (Date.now() - began - waited() < deadlineMs) return;
    clearInterval(tick);
    state.fired = true;
    log(`the run passed its deadline of ${minutes(deadlineMs)}: stopping the running check, then writing what ran`);
    controller.abort(new DeadlineError(`stopped at the run's deadline of ${minutes(deadlineMs)}`));
    hard = setTimeout(() => {
      log(
        `the run did not end within ${minutes(grace)} of its deadline: ending it now; a lab it started may still run (carbon-labs list; make down)`,
      );
      exit(1);
    }, grace);
    hard.unref();
  }, options.everyMs ?? 1_000);
  tick.unref();
  return {
    get fired() {
      return state.fired;
    },
    [Symbol.dispose]() {
      clearInterval(tick);
      clearTimeout(hard);
    },
  };
}
