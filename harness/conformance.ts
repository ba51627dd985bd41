import type { Log } from '../generator/runtime/images';
import type { Target } from '../generator/model/lab';
import type { Check, CheckOptions, CheckPlan, CheckResult } from './check';
import { DEFAULT_CHECK_OPTIONS, planSeconds, runCheck, skipOf } from './check';
import { CHECKS } from './checks';
import { isolationBoundMs } from './checks/admin-load-isolation';
import { WORKER_LOSS_FAILED_REQUESTS_BOUND } from './checks/workers-survive-worker-loss';
import type { LabSpec } from '../generator/model/lab';
import { startupBudgetSeconds } from '../generator/model/start-order';
import type { LabTarget } from './lab-target';
import { openLab, StartedLab } from './lab-target';
import { engineInfo, inspectContainer } from '../generator/runtime/engine';
import { run } from '../generator/runtime/exec';
import { exportLab, FAILURE_EXPORT } from '../generator/runtime/export';
import { PROJECT_ROOT } from '../generator/paths';
import { join } from 'path';
import { rmSync } from 'fs';
import { stopReason } from './deadline';

export interface ConformanceRun {
  readonly product: string;
  readonly pattern: number;
  readonly project: string;
  /** Where the lab ran: a compose project or a swarm stack. */
  readonly target: Target;
  /** The lab's size: its workers and managers. */
  readonly workers: number;
  readonly managers: number;
  /** The product's pace: its own, or a stand-in's JVM pace (`jvm`, `boot-20s`). */
  readonly pace: string;
  readonly startedAt: string;
  readonly durationMs: number;
  /** What the run expected to take, and at most, before it started (the checks' plans). */
  readonly expectedMs: number;
  readonly deadlineMs: number;
  /** What no harness can shorten: the boots the checks cause, their fault windows and fixed spells (the plans' floors). */
  readonly floorMs: number;
  /** Seconds from `up` to every node healthy (0 when attached to a running lab). */
  readonly labStartSeconds: number;
  readonly bounds: Record<string, number | string>;
  readonly verdict: 'passed' | 'failed';
  /** False while the run goes on, or when it was interrupted: the report holds what ran. */
  readonly complete: boolean;
  /** What ran: the carbon-labs commit, Docker's versions, and the image of each service. */
  readonly provenance: Provenance;
  readonly checks: readonly CheckResult[];
}

export interface Provenance {
  readonly commit: string | null;
  readonly engine: string | null;
  readonly compose: string | null;
  /** The swarm's node count, for a stack. */
  readonly swarmNodes?: number;
  /** For a stack: the node each service's task ran on as the run began. */
  readonly placement?: Readonly<Record<string, string>>;
  /** Per service: the image and its id (sha256) as the running container has them. */
  readonly images: Readonly<Record<string, string>>;
}

async function provenance(lab: LabTarget): Promise<Provenance> {
  const out = async (command: string, args: string[]) => {
    const r = await run(command, args, { cwd: PROJECT_ROOT, timeoutMs: 20_000 });
    return r.code === 0 ? r.stdout.trim() : null;
  };
  const images: Record<string, string> = {};
  const placement: Record<string, string> = {};
  // Every container of the lab, a stack's on whichever node its task runs.
  for (const c of await lab.deployment.containers().catch(() => [])) {
    const info = await inspectContainer(c.id).catch(() => undefined);
    if (info) images[c.service] = `${info.Config.Image} (${info.Image.slice(0, 19)})`;
    if (c.node) placement[c.service] = c.node;
  }
  return {
    commit: await out('git', ['rev-parse', '--short', 'HEAD']),
    engine: await out('docker', ['version', '--format', '{{.Server.Version}}']),
    compose: await out('docker', ['compose', 'version', '--short']),
    ...(lab.target === 'swarm'
      ? { swarmNodes: (await engineInfo().catch(() => ({ Swarm: undefined }))).Swarm?.Nodes ?? 0, placement }
      : {}),
    images,
  };
}

/** A check due on a lab, and its plan (before anything starts). */
export interface PlannedCheck {
  readonly check: Check;
  /** Set when the check does not apply to the lab. */
  readonly skip?: string;
  readonly plan?: CheckPlan;
}

export function planRun(lab: LabSpec, checks: readonly Check[], options: CheckOptions): PlannedCheck[] {
  return checks.map((check) => {
    const skip = skipOf(check, lab, options);
    return skip ? { check, skip } : { check, plan: check.plan(lab, options) };
  });
}

/** Each check's deadline, a restore after it may need the lab's startup budget: the run's worst. */
export function runDeadlineMs(lab: LabSpec, planned: readonly PlannedCheck[]): number {
  return planned.reduce((sum, p) => sum + (p.plan ? p.plan.deadlineMs + startupBudgetSeconds(lab) * 1000 : 0), 0);
}

/**
 * The conformance process's bound for checking these labs one after another: each lab's start and
 * removal (its startup budget each) and an export (one more), and its checks' worst
 * ({@link runDeadlineMs}: each check's deadline and a restore after it). Labs checked side by side
 * end sooner; a lab that waits for the machine waits on work this sum counts.
 */
export function processDeadlineMs(labs: readonly LabSpec[], checks: readonly Check[], options: CheckOptions): number {
  return labs.reduce((sum, lab) => sum + 3 * startupBudgetSeconds(lab) * 1000 + runDeadlineMs(lab, planRun(lab, checks, options)), 0);
}

export interface RunOptions {
  readonly checks?: readonly Check[];
  readonly options?: CheckOptions;
  readonly log?: Log;
  /** Seconds it took to bring the lab up (0: it was running). */
  readonly labStartSeconds?: number;
  /** Called with the run so far after every check (a report written as it goes). */
  readonly onProgress?: (run: ConformanceRun) => Promise<void>;
  /** Stops the run between checks, or the running check at once (Ctrl-C): the report is marked incomplete. */
  readonly signal?: AbortSignal;
  /** A failed run's lab is exported here (every container's log and inspect, the lab folder) before it is removed. */
  readonly exportOnFailure?: string;
}

const minutes = (ms: number) => (ms >= 90_000 ? `${(ms / 60_000).toFixed(1)} min` : planSeconds(ms));

/**
 * Runs the checks on a running lab in order, each with its deadline, and always ends with a
 * verdict per check: passed, failed (its own verdict, or "timed out after N s in <step>"),
 * skipped (does not apply), or not run (the lab could not be restored after an earlier check).
 * A check that failed is followed by a restore of the lab (faults taken back, nodes started,
 * healthy again). Says how long it expects first, then one progress line per step.
 */
export async function runConformance(lab: LabTarget, options: RunOptions = {}): Promise<ConformanceRun> {
  const log: Log = options.log ?? (() => undefined);
  const checkOptions = options.options ?? DEFAULT_CHECK_OPTIONS;
  const started = Date.now();
  const planned = planRun(lab.lab, options.checks ?? CHECKS, checkOptions);
  const due = planned.filter((p) => p.plan);
  const expectedMs = due.reduce((sum, p) => sum + p.plan!.expectedMs, 0);
  const floorMs = due.reduce((sum, p) => sum + p.plan!.floorMs, 0);
  const deadlineMs = runDeadlineMs(lab.lab, planned);
  const timing = lab.product.timing;
  log(
    `${due.length} checks on ${lab.lab.project} (${lab.product.id}${lab.product.pace ? `, ${lab.product.pace.name} pace` : ''}): expected about ${minutes(expectedMs)} of which ${minutes(floorMs)} are boots and fault windows, at most ${minutes(deadlineMs)} (boots ${Object.entries(
      timing.bootSeconds,
    )
      .map(([r, s]) => `${r} ${s} s`)
      .join(', ')})`,
  );
  const results: CheckResult[] = [];
  const made = await provenance(lab);
  const snapshot = (complete: boolean): ConformanceRun => ({
    product: lab.product.id,
    pattern: lab.lab.pattern,
    project: lab.lab.project,
    target: lab.target,
    workers: lab.workers.length,
    managers: lab.managers.length,
    pace: lab.product.pace?.name ?? 'native',
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    expectedMs,
    deadlineMs,
    floorMs,
    labStartSeconds: options.labStartSeconds ?? 0,
    bounds: {
      rtoBoundMs: timing.rtoBoundMs,
      stallMs: timing.stallMs,
      failoverRunsPerVariant: checkOptions.failoverRuns,
      failoverVariants: checkOptions.failoverVariants.join(', '),
      propagationBoundMs: timing.propagationBoundMs,
      workerLossFailedRequests: WORKER_LOSS_FAILED_REQUESTS_BOUND,
      adminLoadIsolationP99: `3 × baseline p99 + 25 ms (e.g. ${isolationBoundMs(10)} ms for a 10 ms baseline); pattern 3 only`,
      managerReadTimeoutSeconds: lab.lab.timeouts.managerReadSeconds,
      bootSeconds: Object.entries(timing.bootSeconds)
        .map(([r, s]) => `${r} ${s}`)
        .join(', '),
      startupBudgetSeconds: startupBudgetSeconds(lab.lab),
    },
    verdict: results.some((r) => r.status === 'failed' || r.status === 'not-run') ? 'failed' : 'passed',
    complete,
    provenance: made,
    checks: [...results],
  });
  let broken: string | undefined;
  let n = 0;
  for (const p of planned) {
    if (p.skip) {
      results.push({
        id: p.check.id,
        title: p.check.title,
        status: 'skipped',
        figures: {},
        evidence: [],
        timelines: [],
        durationMs: 0,
        reason: p.skip,
      });
      continue;
    }
    n++;
    const stopped = options.signal?.aborted ? stopReason(options.signal) : broken;
    if (stopped) {
      results.push({
        id: p.check.id,
        title: p.check.title,
        status: 'not-run',
        figures: {},
        evidence: [],
        timelines: [],
        durationMs: 0,
        reason: stopped,
        plan: p.plan,
      });
      log(`[${n}/${due.length}] ${p.check.id}: not run (${stopped})`);
      continue;
    }
    log(
      `[${n}/${due.length}] ${p.check.id}: expected about ${minutes(p.plan!.expectedMs)}, deadline ${minutes(p.plan!.deadlineMs)} (${p.plan!.why})`,
    );
    const result = await runCheck(p.check, lab, log, {
      options: checkOptions,
      signal: options.signal,
      progressMs: 15_000,
      progress: (step, elapsed) =>
        log(`[${n}/${due.length}] ${p.check.id}: ${step} (${minutes(elapsed)} of about ${minutes(p.plan!.expectedMs)})`),
    });
    log(
      `[${n}/${due.length}] ${p.check.id}: ${result.status} in ${minutes(result.durationMs)}${result.reason ? ` (${result.reason.slice(0, 300)})` : ''}`,
    );
    const evidence = [...result.evidence];
    if (result.status === 'failed') {
      // A failed check may have left a fault in force: the next check gets the lab back whole.
      try {
        const restored = await lab.restore(log);
        if (restored.length) evidence.push(`after the check: ${restored.join('; ')}`);
      } catch (err) {
        broken = `the lab could not be restored after ${p.check.id} ${result.timedOutIn ? 'timed out' : 'failed'}: ${(err as Error).message.split('\n')[0]}`;
        evidence.push(broken);
        log(broken);
      }
    }
    results.push({ ...result, evidence });
    await options.onProgress?.(snapshot(false));
  }
  const done = snapshot(!options.signal?.aborted);
  await options.onProgress?.(done);
  return done;
}

/** A lab to check: the one running under that model's project, else started from it. */
export interface LabRequest {
  readonly lab: LabSpec;
  /** Where to start it when it is not running. @default compose */
  readonly target?: Target;
}

/**
 * Brings the lab up unless it runs (then attaches to it and leaves it running), runs the checks,
 * and removes what it started.
 */
export async function checkLab(request: LabRequest, options: RunOptions = {}): Promise<ConformanceRun> {
  const log: Log = options.log ?? (() => undefined);
  // An earlier run's bundle beside a report this run rewrites would speak of another run.
  if (options.exportOnFailure) rmSync(join(options.exportOnFailure, FAILURE_EXPORT), { force: true });
  const started = Date.now();
  await using lab = await openLab(request.lab, log, request.target);
  const labStartSeconds = lab instanceof StartedLab ? (Date.now() - started) / 1000 : 0;
  const done = await runConformance(lab, { ...options, labStartSeconds });
  // What the nodes said and ran with, kept before a lab this run started is removed (an export
  // that fails does not change the verdict; it says why).
  if (done.verdict === 'failed' && done.complete && !options.signal?.aborted && options.exportOnFailure) {
    await exportLab(lab.lab, lab.dir, { to: join(options.exportOnFailure, FAILURE_EXPORT), log }).catch((err: Error) =>
      log(`the lab could not be exported: ${err.message.split('\n')[0]}`),
    );
  }
  return done;
}
