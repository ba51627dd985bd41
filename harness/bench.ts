import { mkdirSync, writeFileSync } from 'fs';
import { startupBudgetSeconds } from '../generator/model/start-order';
import { join } from 'path';
import type { PatternId } from '../generator/model/lab';
import { managers, SUPPORT_SERVICES, workers } from '../generator/model/lab';
import { PROJECT_ROOT } from '../generator/paths';
import { buildLab } from '../generator/patterns';
import { sim } from '../generator/products/sim';
import { ensureImages } from '../generator/runtime/images';
import { downLab, upLab } from '../generator/runtime/lab';
import { synthLab } from '../generator/synth/writer';
import { DEFAULT_CHECK_OPTIONS, figuresOf } from './check';
import { artifactsPropagate } from './checks/artifacts-propagate';
import { FaultVariant, managersFailOver } from './checks/managers-fail-over';
import { NODE_FAULTS } from './faults';
import { Spread, spread } from './load';
import { cpus, totalmem } from 'os';
import type { ConformanceRun } from './conformance';
import { checkLab } from './conformance';
import { runMatrix } from './matrix';
import { withPace } from '../generator/products/pace';
import { LabTarget } from './lab-target';
import { machineGate } from './gate';

/**
 * `make bench`: the timing and memory figures of the stand-in labs, against the issues' goals.
 * Goals are reported as met or not; nothing here fails a build.
 */
const log = (line: string) => process.stdout.write(`bench: ${line}\n`);
const MB = 1024 * 1024;

async function labUpFigures() {
  const lab = buildLab(3, { product: sim });
  const dir = join(PROJECT_ROOT, 'dist', 'bench', 'sim-p3');
  synthLab(lab, dir, { force: true });
  await downLab(lab, dir, log).catch(() => undefined);
  const imagesEnv = await ensureImages(sim, log);
  const started = Date.now();
  await upLab(lab, dir, { imagesEnv, budgetSeconds: startupBudgetSeconds(lab), log });
  const upSeconds = (Date.now() - started) / 1000;
  const target = new LabTarget(lab, dir);
  const memory: Record<string, number> = {};
  for (const s of [...SUPPORT_SERVICES.map((x) => x.name), ...lab.balancers.map((b) => b.name), ...lab.nodes.map((n) => n.name)]) {
    memory[s] = Number(((await target.memory(s)) / MB).toFixed(1));
  }
  const downStarted = Date.now();
  await downLab(lab, dir, log);
  const downSeconds = (Date.now() - downStarted) / 1000;
  const total = Object.values(memory).reduce((a, b) => a + b, 0);
  const workerMemory = workers(lab).map((n) => memory[n.name]);
  const managerMemory = managers(lab).map((n) => memory[n.name]);
  return {
    upToHealthySeconds: Number(upSeconds.toFixed(1)),
    upGoalSeconds: 10,
    upGoalMet: upSeconds <= 10,
    downSeconds: Number(downSeconds.toFixed(1)),
    memoryMB: memory,
    labTotalMB: Number(total.toFixed(1)),
    labTotalGoalMB: 600,
    labTotalGoalMet: total <= 600,
    everyWorkerBelowEveryManager: Math.max(...workerMemory) < Math.min(...managerMemory),
  };
}

interface FailoverBreakdown {
  readonly runs: number;
  /** Docker's own time to stop, kill, freeze or cut the node. */
  readonly dockerFaultMs: Spread;
  /** Fault (Docker done) → first request served after it. */
  readonly firstSuccessMs: Spread;
  /** Fault (Docker done) → end of the last failed or stalled request. */
  readonly rtoMs: Spread;
  readonly failedRequests: Spread;
  /** Failed requests that started after Docker was done (the balancer still sent them to the dead node). */
  readonly failedAfterFault: Spread;
  readonly stalledRequests: Spread;
  readonly maxLatencyMs: Spread;
  readonly lost: number;
  readonly duplicated: number;
}

interface PatternFigures {
  readonly verdict: string;
  readonly seconds: number;
  /** What no harness can shorten (boots, fault windows, fixed spells: the plans' floors), and the run's time over it. */
  readonly floorSeconds: number;
  readonly overFloor: number;
  readonly propagationP95Ms: number | null;
  /** Per fault variant, min/median/max over its runs: where the time goes (Docker, first success, end of trouble). */
  readonly failover: Partial<Record<FaultVariant, FailoverBreakdown>> | null;
  /** Checks that did not pass, with why. */
  readonly notPassed: Record<string, string>;
}

const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

function patternFigures(run: ConformanceRun): PatternFigures {
  const failover = figuresOf(run.checks, managersFailOver);
  return {
    verdict: run.verdict,
    seconds: seconds(run.durationMs),
    floorSeconds: seconds(run.floorMs),
    overFloor: Number((run.durationMs / Math.max(1, run.floorMs)).toFixed(2)),
    propagationP95Ms: figuresOf(run.checks, artifactsPropagate)?.p95Ms ?? null,
    failover: failover
      ? Object.fromEntries(
          NODE_FAULTS.filter((v) => failover[v]).map((v) => {
            const f = failover[v]!;
            const breakdown: FailoverBreakdown = {
              runs: f.runs.length,
              dockerFaultMs: spread(f.runs.map((r) => r.dockerFaultMs)),
              firstSuccessMs: f.firstSuccessMs,
              rtoMs: f.rtoMs,
              failedRequests: f.failedRequests,
              failedAfterFault: spread(f.runs.map((r) => r.failedAfterFault)),
              stalledRequests: f.stalledRequests,
              maxLatencyMs: spread(f.runs.map((r) => r.maxLatencyMs)),
              lost: f.lostAcknowledgedWrites,
              duplicated: f.duplicatedWrites,
            };
            return [v, breakdown];
          }),
        )
      : null,
    notPassed: Object.fromEntries(
      run.checks.filter((c) => c.status === 'failed' || c.status === 'not-run').map((c) => [c.id, (c.reason ?? '').slice(0, 300)]),
    ),
  };
}

/** Side by side over serial, per figure users feel (a ratio above 1: worse side by side). */
function ratios(serial: PatternFigures, side: PatternFigures): Record<string, number | null> {
  const r = (a: number | null | undefined, b: number | null | undefined) =>
    a && b !== null && b !== undefined ? Number((b / a).toFixed(2)) : null;
  const out: Record<string, number | null> = {
    seconds: r(serial.seconds, side.seconds),
    propagationP95Ms: r(serial.propagationP95Ms, side.propagationP95Ms),
  };
  for (const v of NODE_FAULTS) {
    const a = serial.failover?.[v];
    const b = side.failover?.[v];
    if (!a || !b) continue;
    out[`${v}.rtoMs.median`] = r(a.rtoMs.median, b.rtoMs.median);
    out[`${v}.firstSuccessMs.median`] = r(a.firstSuccessMs.median, b.firstSuccessMs.median);
    out[`${v}.stalledRequests.max`] = r(Math.max(1, a.stalledRequests.max ?? 0), b.stalledRequests.max);
  }
  return out;
}

/**
 * Patterns 1–3 of the stand-in one after another, then all three side by side with the same
 * checks, under the machine's own gate (harness/gate.ts: as many starts and checks at once as it
 * has shares, as `make test` and `make conformance PATTERN=all` run them), and the ratios say
 * what that costs on this machine.
 */
const SIDE_BY_SIDE = 3;

async function serialAndSideBySide() {
  const entries = ([1, 2, 3] as PatternId[]).map((pattern) => ({
    lab: buildLab(pattern, { product: sim }),
    label: `sim p${pattern}`,
    reports: join(PROJECT_ROOT, 'dist', 'bench', 'reports', `pattern-${pattern}`),
  }));
  const run = async (parallel: number) => {
    const m = await runMatrix(entries, { parallel, options: DEFAULT_CHECK_OPTIONS, console: log });
    return {
      wallSeconds: seconds(m.durationMs),
      parallel,
      verdict: m.verdict,
      errors: m.errors,
      patterns: Object.fromEntries(m.runs.map((r) => [r.label, patternFigures(r)])),
    };
  };
  const serial = await run(1);
  const side = await run(SIDE_BY_SIDE);
  const compared = Object.fromEntries(
    Object.keys(serial.patterns)
      .filter((l) => side.patterns[l])
      .map((l) => [l, ratios(serial.patterns[l], side.patterns[l])]),
  );
  return { serial, sideBySide: side, sideBySideOverSerial: compared };
}

/** Pattern 3 of the stand-in at a JVM's pace (WSO2's boot times), judged with the real product's timing. */
async function jvmPace() {
  const lab = buildLab(3, { product: withPace(sim, { kind: 'jvm' }) });
  const run = await checkLab({ lab }, { log });
  const boots = run.checks.reduce((sum, c) => sum + (c.plan?.floorMs ?? 0), 0);
  return {
    ...patternFigures(run),
    labStartSeconds: run.labStartSeconds,
    bootSeconds: lab.product.timing.bootSeconds,
    checks: Object.fromEntries(
      run.checks.map((c) => [c.id, { status: c.status, seconds: seconds(c.durationMs), floorSeconds: seconds(c.plan?.floorMs ?? 0) }]),
    ),
    floorShare: Number((boots / Math.max(1, run.durationMs)).toFixed(2)),
  };
}

async function main(): Promise<void> {
  const labUp = await labUpFigures();
  const conformance = await serialAndSideBySide();
  const jvm = process.env.BENCH_JVM ? await jvmPace() : undefined;
  const fo = conformance.serial.patterns['sim p3']?.failover;
  const goals = {
    'stop/kill RTO ≤ 100 ms, 0 failed (after the fault; at most the write in flight), every run': (['stop', 'kill'] as const).every(
      (v) =>
        (fo?.[v]?.rtoMs.max ?? Infinity) <= 100 && fo?.[v]?.failedAfterFault.max === 0 && (fo?.[v]?.failedRequests.max ?? Infinity) <= 1,
    ),
    'pause RTO ≤ 2.5 s, 0 lost, 0 duplicated, every run':
      (fo?.pause?.rtoMs.max ?? Infinity) <= 2500 && fo?.pause?.lost === 0 && fo?.pause?.duplicated === 0,
    'propagation p95 ≤ 1 s': (conformance.serial.patterns['sim p3']?.propagationP95Ms ?? Infinity) <= 1000,
    'all three patterns side by side ≤ 120 s': conformance.sideBySide.wallSeconds <= 120,
    'side by side: the same verdicts as serial':
      conformance.sideBySide.verdict === conformance.serial.verdict &&
      Object.keys(conformance.serial.patterns).every(
        (l) => conformance.sideBySide.patterns[l]?.verdict === conformance.serial.patterns[l].verdict,
      ),
    'pattern-3 lab up ≤ 10 s': labUp.upGoalMet,
    'pattern-3 lab ≤ 600 MB': labUp.labTotalGoalMet,
    ...(jvm ? { 'JVM pace: pattern 3 within 1.5 × its boots and fault windows': jvm.overFloor <= 1.5 } : {}),
  };
  const figures = {
    machine: `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    gateShares: machineGate().shares,
    when: new Date().toISOString(),
    labUp,
    conformance,
    ...(jvm ? { jvmPace: jvm } : {}),
    goals,
  };
  const dir = join(PROJECT_ROOT, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(figures, null, 2)}\n`);
  log(`written ${join(dir, 'results.json')}`);
  log(JSON.stringify(goals));
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
