import type { Log } from '../generator/runtime/images';
import type { Target } from '../generator/runtime/swarm';
import type { Check, CheckResult } from './check';
import { runCheck } from './check';
import { CHECKS } from './checks';
import { isolationBoundMs } from './checks/admin-load-isolation';
import { WORKER_LOSS_FAILED_REQUESTS_BOUND } from './checks/workers-survive-worker-loss';
import type { LabName, LabScale, PatternId } from '../generator/model/lab';
import type { ProductSpec } from '../generator/products/product';
import { LabTarget, openLab } from './lab-target';
import { docker, labContainers } from '../generator/runtime/lab';
import { run } from '../generator/runtime/exec';
import { PROJECT_ROOT } from '../generator/paths';
import { failoverRuns } from './checks/managers-fail-over';

export interface ConformanceRun {
  readonly product: string;
  readonly pattern: number;
  readonly project: string;
  /** Where the lab ran: a compose project or a swarm stack. */
  readonly target: Target;
  /** The lab's size: its workers and managers. */
  readonly workers: number;
  readonly managers: number;
  readonly startedAt: string;
  readonly durationMs: number;
  /** Seconds from `up` to every node healthy (0 when attached to a running lab). */
  readonly labStartSeconds: number;
  readonly bounds: Record<string, number | string>;
  readonly verdict: 'passed' | 'failed';
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
  /** Per service: the image and its id (sha256) as the running container has them. */
  readonly images: Readonly<Record<string, string>>;
}

async function provenance(lab: LabTarget): Promise<Provenance> {
  const out = async (command: string, args: string[]) => {
    const r = await run(command, args, { cwd: PROJECT_ROOT, timeoutMs: 20_000 });
    return r.code === 0 ? r.stdout.trim() : null;
  };
  const images: Record<string, string> = {};
  for (const c of await labContainers(lab.lab.project)) {
    const info = await docker.getContainer(c.id).inspect().catch(() => undefined);
    if (info) images[c.service] = `${info.Config.Image} (${info.Image.slice(0, 19)})`;
  }
  return {
    commit: await out('git', ['rev-parse', '--short', 'HEAD']),
    engine: await out('docker', ['version', '--format', '{{.Server.Version}}']),
    compose: await out('docker', ['compose', 'version', '--short']),
    ...(lab.target === 'swarm' ? { swarmNodes: Number(await out('docker', ['info', '--format', '{{.Swarm.Nodes}}'])) } : {}),
    images,
  };
}

export interface RunOptions {
  readonly pattern: PatternId;
  readonly product: ProductSpec;
  /** A named lab (`make lab NAME=…`): attached to when it runs, else started under its name. */
  readonly named?: LabName;
  /** Node counts other than the pattern's default (`--workers`, `--managers`) for a lab it starts. */
  readonly scale?: LabScale;
  readonly checks?: readonly Check[];
  readonly log?: Log;
  /** Where to start the lab when it is not running: a compose lab (default) or a swarm stack. */
  readonly target?: Target;
}

/** Brings the lab up (or attaches), runs the checks in order, tears down what it started. */
export async function runConformance(options: RunOptions): Promise<ConformanceRun> {
  const log: Log = options.log ?? (() => undefined);
  const started = Date.now();
  await using lab = await openLab(options.pattern, options.product, log, options.named, options.scale, options.target);
  const labStartSeconds = (Date.now() - started) / 1000;
  const results: CheckResult[] = [];
  for (const check of options.checks ?? CHECKS) {
    log(`running ${check.id}`);
    const result = await runCheck(check, lab, log);
    log(`${check.id}: ${result.status}${result.reason ? ` (${result.reason.slice(0, 300)})` : ''}`);
    results.push(result);
  }
  const timing = options.product.timing;
  const made = await provenance(lab);
  return {
    product: options.product.id,
    pattern: options.pattern,
    project: lab.lab.project,
    target: lab.target,
    workers: lab.workers.length,
    managers: lab.managers.length,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    labStartSeconds,
    bounds: {
      rtoBoundMs: timing.rtoBoundMs,
      stallMs: timing.stallMs,
      failoverRunsPerVariant: failoverRuns(),
      propagationBoundMs: timing.propagationBoundMs,
      workerLossFailedRequests: WORKER_LOSS_FAILED_REQUESTS_BOUND,
      adminLoadIsolationP99: `3 × baseline p99 + 25 ms (e.g. ${isolationBoundMs(10)} ms for a 10 ms baseline); pattern 3 only`,
      managerReadTimeoutSeconds: lab.lab.timeouts.managerReadSeconds,
    },
    verdict: results.some((r) => r.status === 'failed') ? 'failed' : 'passed',
    provenance: made,
    checks: results,
  };
}
