import { retryUntil } from '../../generator/runtime/retry';
import type { ApiFlow } from '../apim-client';
import { createdId, invoke } from '../apim-client';
import type { LabSpec } from '../../generator/model/lab';
import { managers, workers } from '../../generator/model/lab';
import { Check, CheckContext, CheckOptions, fixtureMs, paceOf, planOf, round } from '../check';
import type { ProductTiming } from '../../generator/products/product';
import { startupBudgetSeconds } from '../../generator/model/start-order';
import { applyFault, NODE_FAULTS, NodeFault, undoFault } from '../faults';
import { impactOf, Recorder, Spread, spread } from '../load';
import { answerOf } from '../http';
import type { Exchange } from '../http';

export type FaultVariant = NodeFault;
const STEADY_MS = 1500;
const AFTER_RECOVERY_MS = 2000;
/** How long the load runs on after a fault at most: twice the RTO bound (15 s at least). */
export const afterFaultMs = (timing: ProductTiming): number => Math.max(15_000, 2 * timing.rtoBoundMs);
/** How long traffic may take to fail back once the active manager is healthy: NGINX tries it again after its fail timeout. */
const failbackWaitMs = (lab: LabSpec): number =>
  Math.max(30_000, lab.timeouts.failSeconds * 1000 + 2 * lab.product.timing.requestTimeoutMs);
/** Faults after which the node must boot again (a JVM's start). */
const restarts = (v: FaultVariant) => v === 'stop' || v === 'kill';
/**
 * Requests the load keeps in flight that a balancer must not repeat: the writer's one POST. A
 * node that dies (or freezes) holding it fails it — NGINX cannot know whether it was stored, and a
 * retry could store it twice — so this is the bound on failed requests, and every one of them must
 * be that POST; no GET may fail, and no request started after the fault (Docker done) on stop/kill.
 */
const WRITERS = 1;
/**
 * A control plane answers a deploy before its deploy event has left (the product publishes events
 * asynchronously too, through a batching publisher), and gateways pull everything only at startup:
 * a deploy acknowledged in the instant its node dies may never reach them until they restart. Such
 * writes — acknowledged from this long before the fault was asked for until Docker was done — are
 * reported (`unreachedInCrashWindow`, with their timing), not judged; any other that misses a
 * worker fails the check.
 */
export const CRASH_WINDOW_MS = 50;

/** Runs per fault variant (the check judges the worst), as a user gives it (`CARBON_LABS_FAILOVER_RUNS`, default 3). */
export function parseFailoverRuns(value: string | undefined): number {
  const n = Number(value ?? 3);
  if (!Number.isInteger(n) || n < 1) throw new Error(`CARBON_LABS_FAILOVER_RUNS must be a whole number ≥ 1 (got "${value}")`);
  return n;
}

interface Ack {
  readonly name: string;
  readonly context: string;
  readonly apiId: string;
  readonly at: number;
}

/** What one run of one fault variant cost (see README, "The checks"). */
export type VariantRun = {
  rtoMs: number;
  firstSuccessMs: number | null;
  dockerFaultMs: number;
  requests: number;
  failedRequests: number;
  failedAfterFault: number;
  failedIdempotent: number;
  stalledRequests: number;
  failedByMethod: Record<string, number>;
  maxLatencyMs: number;
  acknowledgedWrites: number;
  writesAfterFault: number;
  lostAcknowledgedWrites: number;
  duplicatedWrites: number;
  unreachedWorkers: number;
  unreachedInCrashWindow: number;
  failbackMs: number | null;
  lost?: string[];
  unreached?: string[];
  duplicated?: string[];
};
/** Every run of a variant, and the spread of the figures users feel. */
export type VariantFigures = {
  runs: VariantRun[];
  rtoMs: Spread;
  firstSuccessMs: Spread;
  failedRequests: Spread;
  stalledRequests: Spread;
  lostAcknowledgedWrites: number;
  duplicatedWrites: number;
  unreachedWorkers: number;
  unreachedInCrashWindow: number;
};
export type FailoverFigures = {
  servedWhileActiveUp: Record<string, number>;
  rtoBoundMs: number;
  stallMs: number;
  failedRequestsBound: number;
  runsPerVariant: number;
  /** The manager the faults were applied to (the balancer's primary). */
  activeManager: string;
  /** Variants that could not be applied from here, and why. */
  skippedVariants: Record<string, string>;
} & { [V in FaultVariant]?: VariantFigures };

/** The bounds one run is judged by, from the product's. */
const runBounds = (timing: ProductTiming) => ({
  rtoBoundMs: timing.rtoBoundMs,
  failedRequestsBound: WRITERS,
  afterFaultMs: afterFaultMs(timing),
});

/** The first run that broke the promise, in the order they ran, as the verdict says it; undefined when all held. */
export function failoverProblem(f: FailoverFigures, timing: ProductTiming): string | undefined {
  const active = f.activeManager;
  if (f.servedWhileActiveUp[active] !== WHILE_UP_REQUESTS)
    return `the passive manager took traffic while ${active} was up: ${JSON.stringify(f.servedWhileActiveUp)} (is ${active} the only non-backup server?)`;
  for (const v of NODE_FAULTS) {
    const runs = f[v]?.runs ?? [];
    for (const [i, r] of runs.entries()) {
      const problems = runProblems(v, r, runBounds(timing), f.activeManager);
      if (problems.length) return `${v} run ${i + 1} of ${f.runsPerVariant}: ${problems.join('; ')}`;
    }
  }
  return undefined;
}
export type OutageFigures = {
  outageWrites: number;
  outageWritesAccepted: number;
  workerRequestsDuringOutage: number;
  workerFailuresDuringOutage: number;
  writesRecovered: boolean;
  /** Per worker, its answer to a token it had never seen, during the outage (status and error code). */
  unseenTokenAnswers: Record<string, string>;
  /** The one manager, stopped for the outage. */
  manager: string;
};

/** The verdict on an outage of the only manager: writes refused meanwhile, API traffic served, writes back after. */
export function outageProblems(f: OutageFigures): string[] {
  return [
    ...(f.outageWritesAccepted
      ? [`${f.outageWritesAccepted} writes succeeded while the only manager was down: something else serves the manager listener`]
      : []),
    ...(f.workerFailuresDuringOutage
      ? [`workers failed ${f.workerFailuresDuringOutage} of ${f.workerRequestsDuringOutage} requests while the manager was down`]
      : []),
    ...(f.writesRecovered ? [] : [`writes did not work again after ${f.manager} came back`]),
  ];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A bounded steady load through the manager balancer: a writer deploying new APIs (4.x create →
 * revision → deploy, 2.6.0 create → publish; acknowledged when the last answers) and a reader of
 * acknowledged ones.
 */
class ManagerLoad extends Recorder {
  readonly acks: Ack[] = [];
  readonly attempted: string[] = [];
  private running = true;

  constructor(
    private readonly flow: ApiFlow,
    private readonly ctx: Pick<CheckContext, 'lab' | 'live'>,
    private readonly tag: string,
  ) {
    super();
  }

  private get going(): boolean {
    return this.running && this.ctx.live;
  }

  /** Deploys one new API after another, each of its requests timed; a write is acknowledged when its last request answers. */
  async writer(): Promise<void> {
    for (let i = 0; this.going; i++) {
      const name = `Fo${this.tag}n${i}`;
      const context = `/fo-${this.tag}-${i}`;
      this.attempted.push(name);
      const steps = this.flow.deploySteps({ name, context, version: '1.0.0', backendUrl: this.ctx.lab.backendUrl }, this.ctx.lab.vhost);
      const answered: Exchange[] = [];
      for (const step of steps) {
        const e = await this.timed(step.label, () => step.send(answered), step.statuses);
        if (!step.statuses.includes(e.status)) break;
        answered.push(e);
      }
      if (answered.length === steps.length) this.acks.push({ name, context, apiId: createdId(answered), at: this.now() });
      await sleep(20);
    }
  }

  async reader(): Promise<void> {
    while (this.going) {
      const ack = this.acks[Math.floor(Math.random() * this.acks.length)];
      if (ack) await this.timed('GET api', () => this.flow.readApi(ack.apiId), [200]);
      await sleep(30);
    }
  }

  stop(): void {
    this.running = false;
  }
}

/** Requests sent while the active manager is up, each of which it must serve itself. */
const WHILE_UP_REQUESTS = 20;

/** While manager-1 serves, every manager-bound request is served by it: whether it did (figure servedWhileActiveUp). */
async function passiveIsPassive(ctx: CheckContext<FailoverFigures>, client: ApiFlow, active: string): Promise<boolean> {
  const served: Record<string, number> = {};
  for (let i = 0; i < WHILE_UP_REQUESTS; i++) {
    const e = await client.listApis(1);
    served[e.upstream ?? `status ${e.status}`] = (served[e.upstream ?? `status ${e.status}`] ?? 0) + 1;
  }
  ctx.figures.servedWhileActiveUp = served;
  return served[active] === WHILE_UP_REQUESTS;
}

async function variantRun(
  ctx: CheckContext<FailoverFigures>,
  client: ApiFlow,
  verifier: ApiFlow,
  v: FaultVariant,
  run: number,
): Promise<VariantRun> {
  const { lab } = ctx;
  const active = lab.managers[0].name;
  const stallMs = lab.product.timing.stallMs;
  const load = new ManagerLoad(client, ctx, ctx.unique(`${v}${run}`));
  const loops = [load.writer(), load.reader()];
  ctx.step(`${v} #${run} of ${active}: steady load`);
  await ctx.sleep(STEADY_MS).catch((err: Error) => {
    load.stop();
    throw err;
  });
  // Docker takes a while to stop, kill, freeze or cut a node, during which it may still serve: the
  // fault counts from when it was asked for; the RTO from when Docker says it is done.
  const faultRequestedAt = load.now();
  await applyFault(lab, active, v);
  const faultAt = load.now();
  ctx.log(`${v} #${run} ${active} at ${round(faultAt)} ms (Docker took ${round(faultAt - faultRequestedAt)} ms)`);
  // Load goes on until the users' trouble has been over for a while (or the deadline).
  await retryUntil(
    async () => {
      const impact = impactOf(load.points, faultRequestedAt, faultAt, stallMs);
      const quietSince = faultAt + Math.max(impact.rtoMs, impact.firstSuccessMs ?? Infinity);
      return load.now() > quietSince + AFTER_RECOVERY_MS ? true : undefined;
    },
    { timeoutMs: afterFaultMs(lab.product.timing), intervalMs: 100, what: 'the load to run smoothly after the fault', signal: ctx.signal },
  ).catch(() => undefined);
  load.stop();
  await Promise.all(loops);
  ctx.alive();
  const impact = impactOf(load.points, faultRequestedAt, faultAt, stallMs);
  const failed = load.points.filter((p) => !p.ok && p.t + p.ms >= faultRequestedAt);
  ctx.timelines.push({ name: `${v} ${active}${run > 1 ? ` (run ${run})` : ''}`, faultAt: Math.round(faultAt), points: load.points });

  // A stopped or killed node boots again meanwhile (the passive serves): the reads below overlap its boot.
  ctx.step(
    `${v} #${run}: ${restarts(v) ? `${active} booting again (${lab.product.timing.bootSeconds.manager} s) while ` : ''}acknowledged writes are read back`,
  );
  const undone = restarts(v) ? undoFault(lab, active, v) : undefined;
  if (!undone) await undoFault(lab, active, v);
  // Undone or not, the node's boot is awaited before this run ends (a rejection is not left unheard).
  const booted = undone?.then(
    () => undefined,
    (err: Error) => err,
  );
  try {
    return await verifyRun(ctx, verifier, load, v, run, { faultRequestedAt, faultAt, impact, failed }, async () => {
      const err = await booted;
      if (err) throw err;
    });
  } finally {
    await booted;
  }
}

interface FaultClock {
  readonly faultRequestedAt: number;
  readonly faultAt: number;
  readonly impact: ReturnType<typeof impactOf>;
  readonly failed: readonly { t: number; method: string }[];
}

/** Jepsen's checks of one run, then failback once the node is back (`nodeBack`). */
async function verifyRun(
  ctx: CheckContext<FailoverFigures>,
  verifier: ApiFlow,
  load: ManagerLoad,
  v: FaultVariant,
  run: number,
  clock: FaultClock,
  nodeBack: () => Promise<void>,
): Promise<VariantRun> {
  const { lab } = ctx;
  const active = lab.managers[0].name;
  const { faultRequestedAt, faultAt, impact, failed } = clock;

  // Jepsen's rule: every acknowledged write is readable afterwards, once, and reaches every worker.
  // A 404 is an answer (lost); a 502 or a timeout is the balancer still recovering: ask again.
  const lost: string[] = [];
  for (const ack of load.acks) {
    ctx.alive();
    const e = await verifier.readDefinitely(ack.apiId, 20_000);
    if (e.status !== 200) {
      lost.push(`${ack.name} (${ack.apiId}) → ${e.status}`);
      if ('url' in e) ctx.record(e);
      else ctx.evidence.push(e.error);
    }
  }
  const listed = await verifier.listApis();
  const names = ((listed.body as { list?: { name: string }[] }).list ?? []).map((a) => a.name);
  // A write stored twice: an API under one name twice, or a second revision of one the load made
  // once (2.6.0 has no revisions: a publish repeated is the same file).
  const duplicated = load.attempted.filter((n) => names.filter((x) => x === n).length > 1);
  for (const ack of load.acks) {
    const count = await verifier.deployCount(ack.apiId);
    if (count !== undefined && count > 1) duplicated.push(`${ack.name} revision ×${count}`);
  }
  const unreached: string[] = [];
  const inCrashWindow = new Set<string>();
  let unreachedJudged = 0;
  const readable = load.acks.filter((a) => !lost.some((l) => l.startsWith(`${a.name} `)));
  if (readable.length) {
    for (const a of readable) await verifier.tryPublish(a.apiId);
    // Subscribing reaches the managers' shared state: a manager that does not know an API another
    // acknowledged (404) has lost that write, whatever a read answered (then no worker is asked).
    const token = await verifier
      .subscribe(
        ctx.unique(`fo-${v}-`),
        readable.map((a) => a.apiId),
      )
      .then(
        (keys) => keys.token,
        (err: Error) => {
          if (!/→ 404/.test(err.message)) throw err;
          lost.push(`subscribing to the acknowledged writes: the manager does not know them (${err.message.split('\n')[0]})`);
          return undefined;
        },
      );
    // Every (worker, write) pair is asked in rounds until served, under a deadline of its own: twice
    // the product's propagation bound from its acknowledgement, and at least three bounds from now
    // when the fault was one undone just before (a frozen or cut-off manager: its broker held the
    // events of the writes meanwhile, and hands them on once it is back). A lab that loses many
    // writes is judged within that, not in a wait for each of them.
    const bound = lab.product.timing.propagationBoundMs;
    const wholeAt = restarts(v) ? -Infinity : load.now();
    const until = (a: Ack) => Math.max(a.at + 2 * bound, wholeAt + 3 * bound);
    const pending =
      token === undefined
        ? []
        : lab.workers.flatMap((w) => readable.map((a) => ({ w: w.name, http: lab.http(lab.workerApiUrl(w.name)), a })));
    const given: typeof pending = [];
    while (pending.length) {
      for (const p of [...pending]) {
        const served = (await invoke(p.http, p.a.context, '1.0.0', token ?? '')).status === 200;
        const expired = !served && load.now() > until(p.a);
        if (served || expired) pending.splice(pending.indexOf(p), 1);
        if (expired) given.push(p);
      }
      ctx.alive();
      if (pending.length) await ctx.sleep(100);
    }
    for (const { w, a } of given) {
      const windowed = a.at >= faultRequestedAt - CRASH_WINDOW_MS && a.at <= faultAt;
      unreached.push(
        `${a.name} on ${w} (acknowledged ${round(a.at - faultRequestedAt)} ms from the fault request${windowed ? ', in the crash window' : ''})`,
      );
      if (windowed) inCrashWindow.add(a.name);
      else unreachedJudged++;
    }
  }

  // Failback: once the active manager is healthy again, the balancer returns to it.
  await nodeBack();
  ctx.step(`${v} #${run}: failback to ${active}`);
  const backAt = performance.now();
  const failback = await retryUntil(async () => ((await verifier.listApis(1)).upstream === active ? true : undefined), {
    timeoutMs: failbackWaitMs(lab.lab),
    intervalMs: 250,
    what: `${active} to serve again`,
    signal: ctx.signal,
  }).then(
    () => performance.now() - backAt,
    () => null,
  );
  ctx.alive();

  return {
    rtoMs: round(impact.rtoMs),
    firstSuccessMs: impact.firstSuccessMs === null ? null : round(impact.firstSuccessMs),
    dockerFaultMs: round(faultAt - faultRequestedAt),
    requests: impact.requests,
    failedRequests: impact.failed,
    failedAfterFault: failed.filter((p) => p.t >= faultAt).length,
    failedIdempotent: failed.filter((p) => p.method.startsWith('GET')).length,
    stalledRequests: impact.stalled,
    failedByMethod: { ...impact.failedByMethod },
    maxLatencyMs: impact.maxLatencyMs,
    acknowledgedWrites: load.acks.length,
    writesAfterFault: load.acks.filter((a) => a.at > faultAt).length,
    lostAcknowledgedWrites: lost.length,
    duplicatedWrites: duplicated.length,
    unreachedWorkers: unreachedJudged,
    unreachedInCrashWindow: inCrashWindow.size,
    failbackMs: failback === null ? null : round(failback),
    ...(lost.length ? { lost } : {}),
    ...(unreached.length ? { unreached: unreached.slice(0, 10) } : {}),
    ...(duplicated.length ? { duplicated: [...new Set(duplicated)].slice(0, 10) } : {}),
  };
}

function summarise(runs: VariantRun[]): VariantFigures {
  const sum = (f: (r: VariantRun) => number) => runs.reduce((a, r) => a + f(r), 0);
  return {
    runs,
    rtoMs: spread(runs.map((r) => r.rtoMs)),
    firstSuccessMs: spread(runs.map((r) => r.firstSuccessMs)),
    failedRequests: spread(runs.map((r) => r.failedRequests)),
    stalledRequests: spread(runs.map((r) => r.stalledRequests)),
    lostAcknowledgedWrites: sum((r) => r.lostAcknowledgedWrites),
    duplicatedWrites: sum((r) => r.duplicatedWrites),
    unreachedWorkers: sum((r) => r.unreachedWorkers),
    unreachedInCrashWindow: sum((r) => r.unreachedInCrashWindow),
  };
}

/** What is wrong with one run, as users would say it; empty when it held. */
export function runProblems(
  v: FaultVariant,
  r: VariantRun,
  bounds: { rtoBoundMs: number; failedRequestsBound: number; afterFaultMs: number },
  active: string,
): string[] {
  const problems: string[] = [];
  if (r.rtoMs > bounds.rtoBoundMs)
    problems.push(`RTO ${r.rtoMs} ms (end of the last failed or stalled request) is above the bound of ${bounds.rtoBoundMs} ms`);
  if (r.firstSuccessMs === null) problems.push(`no request succeeded within ${bounds.afterFaultMs} ms of the fault`);
  if (r.failedRequests > bounds.failedRequestsBound)
    problems.push(
      `${r.failedRequests} requests failed (bound ${bounds.failedRequestsBound}: the write the node held): ${JSON.stringify(r.failedByMethod)}`,
    );
  if (r.failedIdempotent) problems.push(`${r.failedIdempotent} GETs failed: a balancer may retry those on the passive manager`);
  if ((v === 'stop' || v === 'kill') && r.failedAfterFault)
    problems.push(`${r.failedAfterFault} requests started after the ${v} failed: the balancer still sent them to ${active}`);
  if (r.lostAcknowledgedWrites) problems.push(`${r.lostAcknowledgedWrites} acknowledged writes lost`);
  if (r.unreachedWorkers)
    problems.push(`${r.unreachedWorkers} times an acknowledged write never reached a worker (${JSON.stringify(r.unreached)})`);
  if (r.duplicatedWrites) problems.push(`${r.duplicatedWrites} writes stored more than once (${JSON.stringify(r.duplicated)})`);
  if (r.failbackMs === null) problems.push(`traffic did not fail back to ${active}`);
  return problems;
}

/** One manager (pattern 1, or pattern 3 with MANAGERS=1), no passive one: while it is down, writes fail and workers keep serving. */
async function expectedOutage(ctx: CheckContext<OutageFigures>, client: ApiFlow): Promise<void> {
  const { lab } = ctx;
  const active = lab.managers[0].name;
  const api = await ctx.deployedApi();
  // Every worker serves a token of its own application just before the outage, so each holds what
  // it needs to serve it alone (the classic gateway its key manager's answer in its token cache, a
  // 4.x gateway the key manager's JWKS). A worker restarted earlier in the run starts cold, and a
  // classic gateway's cached answer lives only its token cache's expiry (the lab's 20 s, then the
  // next sweep): a token served minutes before could be swept during the outage, so a fresh one,
  // cached now. Without it, which worker a check had restarted decided the verdict (seen on
  // classic pattern 1).
  const { token: seen } = await client.subscribe(ctx.unique('served-app-'), [api.apiId]);
  const served = { ...api, token: seen };
  // A token no worker has seen, as a client that starts during the outage holds: recorded, not
  // judged (what a worker does with it is the product's key validation, not the pattern's promise).
  const { token: unseen } = await client.subscribe(ctx.unique('outage-app-'), [api.apiId]);
  ctx.step('every worker serves the token it will be judged on, just before the outage');
  await Promise.all(lab.workers.map((w) => ctx.untilServed(lab.workerApiUrl(w.name), served, lab.product.timing.propagationBoundMs * 2)));
  ctx.step(`${active} stopped: writes and API traffic meanwhile`);
  await lab.stop(active);
  const worker = lab.http(lab.apiUrl());
  let writes = 0;
  let writesAccepted = 0;
  let servedCalls = 0;
  let workerFailures = 0;
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    ctx.alive();
    const w = await client.tryCreateApi({
      name: ctx.unique('Outage'),
      context: `/${ctx.unique('outage-')}`,
      version: '1.0.0',
      backendUrl: lab.backendUrl,
    });
    writes++;
    if (w.status >= 200 && w.status < 300) writesAccepted++;
    const r = await invoke(worker, served.context, served.version, served.token);
    if (r.status === 200) servedCalls++;
    else {
      workerFailures++;
      ctx.record(r);
    }
  }
  const unseenTokenAnswers: Record<string, string> = {};
  for (const w of lab.workers) {
    const r = await invoke(lab.http(lab.workerApiUrl(w.name)), api.context, api.version, unseen);
    unseenTokenAnswers[w.name] = answerOf(r);
  }
  ctx.step(`${active} booting again (${lab.product.timing.bootSeconds.manager} s)`);
  await lab.start(active);
  await lab.waitHealthy();
  const recovered = await retryUntil(
    async () =>
      (
        await client.tryCreateApi({
          name: ctx.unique('Back'),
          context: `/${ctx.unique('back-')}`,
          version: '1.0.0',
          backendUrl: lab.backendUrl,
        })
      ).status === 201
        ? true
        : undefined,
    { timeoutMs: failbackWaitMs(lab.lab), intervalMs: 250, what: 'writes to work again', signal: ctx.signal },
  ).catch(() => false);
  ctx.alive();
  Object.assign(ctx.figures, {
    outageWrites: writes,
    outageWritesAccepted: writesAccepted,
    workerRequestsDuringOutage: servedCalls + workerFailures,
    workerFailuresDuringOutage: workerFailures,
    writesRecovered: recovered,
    unseenTokenAnswers,
    manager: active,
  });
}

const onePassive = (lab: LabSpec) => managers(lab).length > 1;

const fmt = (s: Spread | undefined) => (s ? `${s.min}/${s.median}/${s.max}` : '?');

/** How long users feel each fault at most, as the balancer's timeouts make it. */
function faultWindowMs(lab: LabSpec, v: FaultVariant): number {
  if (v === 'pause' || v === 'db-partition') return lab.timeouts.managerReadSeconds * 1000;
  return lab.timeouts.managerConnectMs;
}

/**
 * One run's time: steady load, the fault's window, the quiet after it, reading back what was
 * acknowledged (overlapping a stopped or killed node's boot), and failback; the worst case waits
 * every wait out.
 */
export function failoverPlanMs(lab: LabSpec, options: CheckOptions): { expected: number; worst: number; boots: number; floor: number } {
  const { call, boot, timing } = paceOf(lab);
  let expected = 40 * call;
  let worst = 20 * timing.requestTimeoutMs;
  let boots = 0;
  let floor = 0;
  for (const v of options.failoverVariants) {
    const window = faultWindowMs(lab, v);
    const loaded = STEADY_MS + window + AFTER_RECOVERY_MS;
    const acks = Math.ceil(loaded / (3 * call + 20));
    const verify = acks * (3 + managers(lab).length + lab.nodes.filter((n) => n.role === 'worker').length) * call + 8 * call;
    // After the fault: the stopped or killed node's boot, and NGINX's fail timeout before it tries
    // the active manager again (failback: the next run needs it active), both overlapping the
    // reads that verify the run.
    const unavoidable = Math.max(restarts(v) ? boot('manager') : 0, lab.timeouts.failSeconds * 1000 - window);
    expected += options.failoverRuns * (loaded + Math.max(unavoidable, verify) + 250);
    worst +=
      options.failoverRuns * (STEADY_MS + afterFaultMs(timing) + 4 * verify + startupBudgetSeconds(lab) * 1000 + failbackWaitMs(lab));
    if (restarts(v)) boots += options.failoverRuns;
    // Steady load, the fault's window and the quiet after it, then what cannot be shortened.
    floor += options.failoverRuns * (loaded + unavoidable);
  }
  return { expected, worst, boots, floor };
}

/**
 * Managers fail over without users noticing more than the write the dead node held: passive means
 * passive; stop, kill, freeze, network partition and database partition of the active manager, each
 * run N times, cost at most the RTO bound (to the end of the last failed or stalled request), no GET
 * fails, every acknowledged write survives once and reaches every worker, and traffic fails back.
 * `variants`: the faults to apply, in order (default `CARBON_LABS_FAILOVER_VARIANTS`, or all).
 */
export function failoverCheck(variants?: readonly FaultVariant[]): Check<FailoverFigures> {
  const chosen = (options: CheckOptions) => variants ?? options.failoverVariants;
  return {
    id: 'managers-fail-over',
    title:
      'The passive manager takes over within the RTO bound on stop, kill, pause, partition and database partition of the active one (N runs, worst judged), failing no GET and at most the write the node held, losing and duplicating no acknowledged write; traffic fails back',
    skipReason: (lab) => (onePassive(lab) ? undefined : 'one manager, no passive one to fail over to (see manager-outage-without-ha)'),
    plan(lab, options) {
      const chosenOptions = { ...options, failoverVariants: chosen(options) };
      const { expected, worst, boots } = failoverPlanMs(lab, chosenOptions);
      const { floor } = failoverPlanMs(lab, chosenOptions);
      return planOf({
        floorMs: floor,
        workMs: expected - floor,
        requestTimeoutMs: lab.product.timing.requestTimeoutMs,
        why: `${chosenOptions.failoverVariants.length} variants × ${options.failoverRuns} runs, ${boots} manager boots of ${lab.product.timing.bootSeconds.manager} s`,
        worstMs: worst,
      });
    },
    headline: (f) =>
      [
        ...NODE_FAULTS.filter((v) => f[v]).map(
          (v) =>
            `${v}: RTO ${fmt(f[v]?.rtoMs)} ms, failed ${fmt(f[v]?.failedRequests)}, stalled ${fmt(f[v]?.stalledRequests)}, ${f[v]?.lostAcknowledgedWrites ?? '?'} lost, ${f[v]?.duplicatedWrites ?? '?'} duplicated${f[v]?.unreachedInCrashWindow ? `, ${f[v]?.unreachedInCrashWindow} deployed as the node died never reached the gateways` : ''}`,
        ),
        ...Object.keys(f.skippedVariants ?? {}).map((v) => `${v}: skipped`),
      ].join('; ') + ' (min/median/max)',
    async run(ctx: CheckContext<FailoverFigures>) {
      const { lab } = ctx;
      const active = lab.managers[0].name;
      const client = await ctx.controlPlane();
      const verifier = await ctx.controlPlane();
      const bounds = runBounds(lab.product.timing);
      const runs = ctx.options.failoverRuns;
      Object.assign(
        ctx.figures,
        { rtoBoundMs: bounds.rtoBoundMs, failedRequestsBound: bounds.failedRequestsBound },
        { stallMs: lab.product.timing.stallMs, runsPerVariant: runs, skippedVariants: {} },
        { activeManager: active },
      );
      ctx.step(`${active} alone serves while it is up`);
      // A passive manager that takes traffic is the verdict: no fault would say more.
      if (!(await passiveIsPassive(ctx, client, active))) return;
      for (const v of chosen(ctx.options)) {
        const unavailable = lab.faultUnavailable(v);
        if (unavailable) {
          ctx.figures.skippedVariants![v] = unavailable;
          ctx.log(`${v}: skipped (${unavailable})`);
          continue;
        }
        const done: VariantRun[] = [];
        for (let run = 1; run <= runs; run++) {
          const r = await variantRun(ctx, client, verifier, v, run);
          done.push(r);
          (ctx.figures as Record<FaultVariant, VariantFigures>)[v] = summarise(done);
          ctx.log(`${v} #${run}: ${JSON.stringify(r)}`);
          // The worst run decides: one that broke the promise ends the check (its figures are kept, and judged).
          if (runProblems(v, r, bounds, active).length) return;
        }
      }
    },
    problems: (f, timing) => {
      const problem = failoverProblem(f, timing);
      return problem ? [problem] : [];
    },
    suspects: (_f, lab) => managers(lab).map((m) => m.name),
  };
}

export const managersFailOver = failoverCheck();

/** One manager (pattern 1, or pattern 3 with MANAGERS=1): while it is down, writes fail and workers keep serving. */
export const managerOutageWithoutHa: Check<OutageFigures> = {
  id: 'manager-outage-without-ha',
  title:
    'With one manager (no HA), while it is down admin writes fail, workers keep serving the API to the tokens they have served, and writes work again when it is back',
  skipReason: (lab) => (onePassive(lab) ? 'a passive manager takes over here (see managers-fail-over)' : undefined),
  plan(lab) {
    const { call, boot, timing } = paceOf(lab);
    // The fixture, each worker serving it, an application subscribed with its keys, the unseen token's calls.
    return planOf({
      floorMs: 3_000 + boot('manager'),
      // The fixture; an application served on every worker and one no worker has seen (a subscription each); the outage's calls.
      workMs: fixtureMs(lab) + (16 + lab.nodes.length) * call,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `3 s of outage, then the manager's boot of ${boot('manager') / 1000} s`,
      worstMs:
        3_000 +
        4 * timing.propagationBoundMs +
        startupBudgetSeconds(lab) * 1000 +
        failbackWaitMs(lab) +
        (14 + lab.nodes.length) * timing.requestTimeoutMs,
    });
  },
  headline: (f) =>
    `outage: ${f.outageWritesAccepted ?? '?'} of ${f.outageWrites ?? '?'} writes accepted, ${f.workerFailuresDuringOutage ?? '?'} of ${f.workerRequestsDuringOutage ?? '?'} worker requests failed` +
    (f.unseenTokenAnswers
      ? `; a token no worker had seen: ${Object.entries(f.unseenTokenAnswers)
          .map(([w, a]) => `${w} ${a}`)
          .join(', ')}`
      : ''),
  async run(ctx: CheckContext<OutageFigures>) {
    await expectedOutage(ctx, await ctx.controlPlane());
  },
  problems: outageProblems,
  suspects: (f, lab) => (f.workerFailuresDuringOutage ? workers(lab) : managers(lab)).map((n) => n.name),
};
