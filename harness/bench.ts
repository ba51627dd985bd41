import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { PatternId } from '../generator/model/lab';
import { managers, SUPPORT_SERVICES, workers } from '../generator/model/lab';
import { PROJECT_ROOT } from '../generator/paths';
import { buildLab } from '../generator/patterns';
import { sim } from '../generator/products/sim';
import { ensureImages } from '../generator/runtime/images';
import { downLab, upLab } from '../generator/runtime/lab';
import { synthLab } from '../generator/synth/writer';
import { figuresOf } from './check';
import { artifactsPropagate } from './checks/artifacts-propagate';
import { FaultVariant, managersFailOver } from './checks/managers-fail-over';
import { cpus, totalmem } from 'os';
import { runConformance } from './conformance';
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
  await upLab(lab, dir, { imagesEnv, budgetSeconds: sim.timing.startupBudgetSeconds, log });
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

interface PatternFigures {
  readonly verdict: string;
  readonly seconds: number;
  readonly propagationP95Ms: number | null;
  readonly failover: Record<FaultVariant, { rtoMs: number | null; failedRequests: number; lost: number; duplicated: number } | null> | null;
}

async function main(): Promise<void> {
  const labUp = await labUpFigures();
  const runs: Record<string, PatternFigures> = {};
  const started = Date.now();
  for (const pattern of [1, 2, 3] as PatternId[]) {
    const run = await runConformance({ pattern, product: sim, log });
    const failover = figuresOf(run.checks, managersFailOver);
    runs[`pattern-${pattern}`] = {
      verdict: run.verdict, seconds: Number((run.durationMs / 1000).toFixed(1)),
      propagationP95Ms: figuresOf(run.checks, artifactsPropagate)?.p95Ms ?? null,
      failover: failover?.stop ? {
        stop: null, kill: null, pause: null,
        ...Object.fromEntries((['stop', 'kill', 'pause'] as const).map((v) => {
          const f = failover[v];
          return [v, f ? { rtoMs: f.rtoMs, failedRequests: f.failedRequests, lost: f.lostAcknowledgedWrites, duplicated: f.duplicatedWrites } : null];
        })),
      } : null,
    };
  }
  const wall = (Date.now() - started) / 1000;
  const fo = runs['pattern-3']?.failover;
  const goals = {
    'stop/kill RTO ≤ 100 ms, 0 failed': (['stop', 'kill'] as const).every((v) => (fo?.[v]?.rtoMs ?? Infinity) <= 100 && fo?.[v]?.failedRequests === 0),
    'pause RTO ≤ 3 s, 0 lost, 0 duplicated': (fo?.pause?.rtoMs ?? Infinity) <= 3000 && fo?.pause?.lost === 0 && fo?.pause?.duplicated === 0,
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
