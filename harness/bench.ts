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
import { checkLab } from './conformance';
import { LabTarget } from './lab-target';

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
  await downLab(lab, dir, log);
  const total = Object.values(memory).reduce((a, b) => a + b, 0);
  const workerMemory = workers(lab).map((n) => memory[n.name]);
  const managerMemory = managers(lab).map((n) => memory[n.name]);
  return {
    upToHealthySeconds: Number(upSeconds.toFixed(1)), upGoalSeconds: 15, upGoalMet: upSeconds <= 15,
    memoryMB: memory, labTotalMB: Number(total.toFixed(1)), labTotalGoalMB: 600, labTotalGoalMet: total <= 600,
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
  readonly propagationP95Ms: number | null;
  /** Per fault variant, min/median/max over its runs: where the time goes (Docker, first success, end of trouble). */
  readonly failover: Partial<Record<FaultVariant, FailoverBreakdown>> | null;
}

async function main(): Promise<void> {
  const labUp = await labUpFigures();
  const runs: Record<string, PatternFigures> = {};
  const started = Date.now();
  for (const pattern of [1, 2, 3] as PatternId[]) {
    // RTO per fault variant over five runs (the conformance default is 3).
    const run = await checkLab({ lab: buildLab(pattern, { product: sim }) }, { log, options: { ...DEFAULT_CHECK_OPTIONS, failoverRuns: 5 } });
    const failover = figuresOf(run.checks, managersFailOver);
    runs[`pattern-${pattern}`] = {
      verdict: run.verdict, seconds: Number((run.durationMs / 1000).toFixed(1)),
      propagationP95Ms: figuresOf(run.checks, artifactsPropagate)?.p95Ms ?? null,
      failover: failover ? Object.fromEntries(NODE_FAULTS.filter((v) => failover[v]).map((v) => {
        const f = failover[v]!;
        const breakdown: FailoverBreakdown = {
          runs: f.runs.length, dockerFaultMs: spread(f.runs.map((r) => r.dockerFaultMs)), firstSuccessMs: f.firstSuccessMs, rtoMs: f.rtoMs,
          failedRequests: f.failedRequests, failedAfterFault: spread(f.runs.map((r) => r.failedAfterFault)), stalledRequests: f.stalledRequests, maxLatencyMs: spread(f.runs.map((r) => r.maxLatencyMs)),
          lost: f.lostAcknowledgedWrites, duplicated: f.duplicatedWrites,
        };
        return [v, breakdown];
      })) : null,
    };
  }
  const wall = (Date.now() - started) / 1000;
  const fo = runs['pattern-3']?.failover;
  const goals = {
    'stop/kill RTO ≤ 100 ms, 0 failed (after the fault; at most the write in flight), every run': (['stop', 'kill'] as const).every((v) => (fo?.[v]?.rtoMs.max ?? Infinity) <= 100 && fo?.[v]?.failedAfterFault.max === 0 && (fo?.[v]?.failedRequests.max ?? Infinity) <= 1),
    'pause RTO ≤ 2.5 s, 0 lost, 0 duplicated, every run': (fo?.pause?.rtoMs.max ?? Infinity) <= 2500 && fo?.pause?.lost === 0 && fo?.pause?.duplicated === 0,
    'propagation p95 ≤ 1 s': (runs['pattern-3']?.propagationP95Ms ?? Infinity) <= 1000,
    'all three patterns ≤ 120 s': wall <= 120,
    'pattern-3 lab up ≤ 15 s': labUp.upGoalMet,
    'pattern-3 lab ≤ 600 MB': labUp.labTotalGoalMet,
  };
  const figures = {
    machine: `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`, when: new Date().toISOString(),
    labUp, conformance: runs, conformanceAllPatternsSeconds: Number(wall.toFixed(1)), goals,
  };
  const dir = join(PROJECT_ROOT, 'bench');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(figures, null, 2)}\n`);
  log(`written ${join(dir, 'results.json')}`);
  log(JSON.stringify(goals));
}

main().catch((err) => { process.stderr.write(`bench: ${(err as Error).stack ?? err}\n`); process.exitCode = 1; });
