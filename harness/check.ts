import type { Log } from '../generator/runtime/images';
import { AbandonedError, pause, retryUntil } from '../generator/runtime/retry';
import type { NodeFault } from './faults';
import { NODE_FAULTS } from './faults';
import type { ApiFlow } from './apim-client';
import { ApimClient, invoke } from './apim-client';
import { ClassicRestClient } from './classic-client';
import { describeExchange, errorCodeOf, Exchange } from './http';
import type { LabTarget } from './lab-target';
import type { LabSpec, Role } from '../generator/model/lab';
import type { ProductTiming } from '../generator/products/product';
import { isClassic } from '../generator/products/product';
import type { Gate, Weight } from './gate';
import { GATE_WAIT_MS, labWeight, machineGate } from './gate';
import { stoppedAs } from './deadline';

/** `not-run`: the check was due, but the lab could not be restored after an earlier one (its reason says why). */
export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'not-run';
/** A measured value as results.json holds it (undefined: not measured, left out of the JSON). */
export type Figure = number | string | boolean | null | undefined | readonly Figure[] | { readonly [key: string]: Figure };
/** A check's figures: each check declares its own type of them. */
export type Figures = { readonly [key: string]: Figure };

/** One request of a timeline (failover, worker loss), for tables and plots. */
export interface TimelinePoint {
  /** ms since the timeline started. */
  readonly t: number;
  readonly method: string;
  readonly status: number;
  readonly ok: boolean;
  readonly ms: number;
  readonly upstream?: string;
}

export interface Timeline {
  readonly name: string;
  /** ms since start when the fault was applied. */
  readonly faultAt: number;
  readonly points: readonly TimelinePoint[];
}

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  readonly figures: Figures;
  /** What was sent, what came back, from which node; container logs on failure. */
  readonly evidence: readonly string[];
  readonly timelines: readonly Timeline[];
  readonly durationMs: number;
  readonly reason?: string;
  /** What the check expected to take and its deadline, from the product's timing and the lab's size. */
  readonly plan?: CheckPlan;
  /** Set when the check ran past its deadline: the step it was in. */
  readonly timedOutIn?: string;
}

/** How long a check takes on a lab, before it starts: the progress lines and its deadline come from here. */
export interface CheckPlan {
  /** About how long it takes at the product's pace: {@link floorMs} and its requests. */
  readonly expectedMs: number;
  /**
   * What no harness can shorten: the boots it causes, the fault windows it holds, the fixed
   * steady and quiet spells of its loads. A run's time over its floor is the harness's own cost.
   */
  readonly floorMs: number;
  /** Past this it fails as timed out: the longest it may legitimately take. */
  readonly deadlineMs: number;
  /** How the figures were reached: "2 worker boots of 60 s, …". */
  readonly why: string;
}

/** What a check's run may be asked to do differently, given once at the edge (CLI, make), never by changing the environment. */
export interface CheckOptions {
  /** Runs of each failover variant (the check judges the worst). @default 3 */
  readonly failoverRuns: number;
  /** The failover variants, in order. @default every node fault */
  readonly failoverVariants: readonly NodeFault[];
}

export const DEFAULT_CHECK_OPTIONS: CheckOptions = { failoverRuns: 3, failoverVariants: NODE_FAULTS };

/**
 * A plan's deadline from its expected time: twice that, or that plus three request timeouts
 * (a node that stops answering mid-check is waited on that long, thrice), whichever is longer;
 * and half a minute for the engine's own calls.
 */
export function planOf(p: {
  readonly floorMs: number;
  readonly workMs: number;
  readonly requestTimeoutMs: number;
  readonly why: string;
  readonly worstMs?: number;
}): CheckPlan {
  const expectedMs = p.floorMs + p.workMs;
  return {
    expectedMs: Math.round(expectedMs),
    floorMs: Math.round(p.floorMs),
    deadlineMs: Math.round(Math.max(2 * expectedMs, expectedMs + 3 * p.requestTimeoutMs, p.worstMs ?? 0) + 30_000),
    why: p.why,
  };
}

/** The pace figures every plan is made of, in ms, from the product's timing. */
export function paceOf(lab: LabSpec): {
  readonly call: number;
  readonly propagation: number;
  readonly boot: (role: Role) => number;
  readonly timing: ProductTiming;
} {
  const timing = lab.product.timing;
  // Estimates for the progress lines (deadlines allow whole timeouts): a REST call a 200th of the
  // harness's request timeout (50 ms on the stand-in's own pace, 300 ms on a JVM's), a deploy's
  // propagation a tenth of its bound.
  return {
    call: timing.requestTimeoutMs / 200,
    propagation: timing.propagationBoundMs / 10,
    boot: (role) => timing.bootSeconds[role] * 1000,
    timing,
  };
}

/** The shared fixture's cost, first used by whichever check needs it: login, create → deploy → subscribe, propagation. */
export const fixtureMs = (lab: LabSpec): number => 14 * paceOf(lab).call + paceOf(lab).propagation;

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
export { seconds as planSeconds };

/** A check failed: the message says what property broke; `nodes` are whose logs to attach. */
export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly nodes: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** An API deployed and published once per run, with a token subscribed to it; checks share it. */
export interface DeployedApi {
  readonly apiId: string;
  readonly context: string;
  readonly version: string;
  readonly token: string;
}

export class CheckContext<F extends Figures = Figures> {
  /** Filled in as the check measures; a failed check keeps what it had measured. */
  readonly figures: { -readonly [K in keyof F]?: F[K] } = {};
  readonly evidence: string[] = [];
  readonly timelines: Timeline[] = [];
  /** The step the check is in, for its progress lines and a "timed out in <step>". */
  current = 'starting';
  private static fixtures = new WeakMap<LabTarget, Promise<DeployedApi>>();

  constructor(
    readonly lab: LabTarget,
    readonly log: Log,
    /** Aborted when the check runs past its deadline: its loads and waits end at once. */
    readonly signal: AbortSignal = new AbortController().signal,
    readonly options: CheckOptions = DEFAULT_CHECK_OPTIONS,
  ) {}

  /** Names the step the check is in now. */
  step(what: string): void {
    this.current = what;
    this.log(what);
  }

  /** Whether the check is still wanted: loads loop while it is. */
  get live(): boolean {
    return !this.signal.aborted;
  }

  /** A pause that ends (with an error) when the check is stopped. */
  sleep(ms: number): Promise<void> {
    return pause(ms, this.signal, this.current);
  }

  /** Throws when the check was stopped, so a loop of its own ends. */
  alive(): void {
    if (this.signal.aborted) throw new AbandonedError(this.current, this.signal.reason);
  }

  record(exchange: Exchange): Exchange {
    this.evidence.push(describeExchange(exchange));
    return exchange;
  }

  /** A logged-in client of the 4.x REST APIs on the manager balancer. */
  managerClient(): Promise<ApimClient> {
    return this.loggedIn(this.lab.managerClient());
  }

  /** A logged-in client on the manager balancer, in the REST its product speaks (4.x, or the classic product's v0.14). */
  controlPlane(): Promise<ApiFlow> {
    return this.loggedIn(
      isClassic(this.lab.product) ? new ClassicRestClient(this.lab.http(this.lab.adminUrl())) : this.lab.managerClient(),
    );
  }

  private async loggedIn<C extends ApiFlow>(client: C): Promise<C> {
    await retryUntil(
      async (observe) =>
        client.login().then(
          () => true,
          (err) => {
            observe(err);
            return undefined;
          },
        ),
      {
        timeoutMs: this.lab.product.timing.requestTimeoutMs * 3,
        intervalMs: 500,
        what: 'a token from the manager balancer',
        signal: this.signal,
      },
    );
    return client;
  }

  unique(prefix: string): string {
    return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  }

  /** The shared deployed API, created on first use and served by every worker. */
  deployedApi(): Promise<DeployedApi> {
    let fixture = CheckContext.fixtures.get(this.lab);
    if (!fixture) {
      fixture = (async () => {
        const client = await this.controlPlane();
        const tag = this.unique('fx');
        const api = { name: `Fixture${tag}`, context: `/fixture-${tag}`, version: '1.0.0', backendUrl: this.lab.backendUrl };
        const { apiId } = await client.createAndDeploy(api, this.lab.vhost);
        const { token } = await client.subscribe(`fixture-${tag}`, [apiId]);
        const deployed = { apiId, context: api.context, version: api.version, token };
        // Served by every worker itself: whether the worker balancer serves it too is for the checks to judge.
        await Promise.all(
          this.lab.workers.map((w) =>
            this.untilServed(this.lab.workerApiUrl(w.name), deployed, this.lab.product.timing.propagationBoundMs * 5),
          ),
        );
        return deployed;
      })();
      CheckContext.fixtures.set(this.lab, fixture);
    }
    return fixture;
  }

  /** Polls `baseUrl` until it serves the API (200); returns when, in ms from the call. */
  untilServed(baseUrl: string, api: Pick<DeployedApi, 'context' | 'version' | 'token'>, timeoutMs: number): Promise<number> {
    return this.untilAnswers(baseUrl, api, (status) => status === 200, 'serve', timeoutMs);
  }

  /**
   * Polls `baseUrl` with a call of the API until its answer (status, the product's error code: 4.x
   * JSON or a classic gateway's XML fault) is `wanted`;
   * returns when, in ms from the call. A time-out's error names the last answer seen.
   */
  async untilAnswers(
    baseUrl: string,
    api: Pick<DeployedApi, 'context' | 'version' | 'token'>,
    wanted: (status: number, code: string | undefined, body: unknown) => boolean,
    what: string,
    timeoutMs: number,
    /** Between two calls: a change that takes effect only at the product's own ticks is polled less often. */
    intervalMs = 25,
  ): Promise<number> {
    const started = performance.now();
    const http = this.lab.http(baseUrl);
    await retryUntil(
      async (observe) => {
        const e = await invoke(http, api.context, api.version, api.token);
        observe(describeExchange(e));
        return wanted(e.status, errorCodeOf(e.body), e.body) ? true : undefined;
      },
      {
        timeoutMs,
        intervalMs,
        what: `${baseUrl} to ${what} ${api.context}${api.version ? `/${api.version}` : ' (no version)'}`,
        signal: this.signal,
      },
    );
    return performance.now() - started;
  }
}

/** A property of a lab, proven by running it; `F` is the type of its figures. */
export interface Check<F extends Figures = Figures> {
  readonly id: string;
  /** The promise, as a sentence. */
  readonly title: string;
  /** Why the check does not apply to a lab of this model, or undefined when it does (known before it starts). */
  skipReason?(lab: LabSpec, options?: CheckOptions): string | undefined;
  /** How long it takes on this lab at its product's pace, and its deadline. */
  plan(lab: LabSpec, options: CheckOptions): CheckPlan;
  /**
   * What it asks of the machine while it runs on a lab (harness/gate.ts): `share` (the default, one
   * core: a lab under a check's load keeps less than one busy, failovers included), or `whole`
   * where it saturates a listener on purpose and judges the latency that causes, which another
   * lab's work beside it would add to, or `half` where it mostly waits on the product's own clock
   * (a classic gateway's cache sweep). A lab at a JVM's pace takes half a share for any but `whole`.
   */
  machine?(lab: LabSpec): Weight;
  /**
   * Measures: drives the lab and records the figures {@link problems} judges. It throws only when
   * it cannot measure (a step of its own answered otherwise than the product does, the lab would
   * not take the fault, a node it needs never answered).
   */
  run(ctx: CheckContext<F>): Promise<void>;
  /**
   * The verdict on a run that measured: each broken property as a user would say it, none when the
   * promise holds. Pure (the figures and the product's bounds alone), so every verdict is
   * unit-tested on made-up figures (tests/unit/verdicts.test.ts).
   */
  problems(figures: F, bounds: ProductTiming): readonly string[];
  /** Whose last log lines a failure of {@link problems} attaches. @default the first two nodes */
  suspects?(figures: F, lab: LabSpec): readonly string[];
  /** The figures a reader looks for first (the report's table); any may be missing on a failure. */
  headline(figures: Partial<F>): string;
}

/** Why a check is skipped on a lab (its own reason), or undefined where it runs. */
export function skipOf(check: Check, lab: LabSpec, options?: CheckOptions): string | undefined {
  return check.skipReason?.(lab, options);
}

/** How {@link runCheck} runs a check: its options, and the lab's deadline scale. */
export interface RunCheckOptions {
  readonly options?: CheckOptions;
  /** Called every `progressMs` while the check runs, with the step it is in and how long it has run. */
  readonly progress?: (step: string, elapsedMs: number) => void;
  readonly progressMs?: number;
  /** The deadline from the check's plan (default), or another (a unit test's). */
  readonly deadlineMs?: number;
  /** Stops the check at once, as its deadline would (the run was interrupted). */
  readonly signal?: AbortSignal;
  /** Where it takes its share of the machine before its clock starts. @default machineGate() */
  readonly gate?: Gate;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Runs one check with its deadline. A check past it fails as "timed out after N s in <step>",
 * with its evidence; its loads and waits are stopped (its signal), and it is given a moment to
 * let go of the lab before the result is returned. The lab's restore is the caller's.
 */
export async function runCheck<F extends Figures>(
  check: Check<F>,
  lab: LabTarget,
  log: Log,
  run: RunCheckOptions = {},
): Promise<CheckResult> {
  const options = run.options ?? DEFAULT_CHECK_OPTIONS;
  const reason = skipOf(check, lab.lab, options);
  if (reason)
    return { id: check.id, title: check.title, status: 'skipped', figures: {}, evidence: [], timelines: [], durationMs: 0, reason };
  const plan = check.plan(lab.lab, options);
  const deadlineMs = run.deadlineMs ?? plan.deadlineMs;
  // Its share of the machine first: its clock and deadline start once it has it.
  const gate = run.gate ?? machineGate();
  const asked = check.machine?.(lab.lab) ?? 'share';
  const hold = await gate.take(asked === 'share' ? labWeight(lab.lab) : asked, {
    what: `${lab.lab.project}: ${check.id}`,
    timeoutMs: GATE_WAIT_MS,
    // Its plan's estimate lets it run on a share a whole-machine check is waiting to have, when it ends first.
    expectedMs: plan.expectedMs,
    signal: run.signal,
    waiting: (holders, waited) =>
      log(`[${check.id}] waiting ${Math.round(waited / 1000)} s for a share of the machine (held by ${holders.join('; ')})`),
  });
  try {
    return await measured(check, lab, log, run, plan, deadlineMs);
  } finally {
    hold.release();
  }
}

async function measured<F extends Figures>(
  check: Check<F>,
  lab: LabTarget,
  log: Log,
  run: RunCheckOptions,
  plan: CheckPlan,
  deadlineMs: number,
): Promise<CheckResult> {
  const started = Date.now();
  const options = run.options ?? DEFAULT_CHECK_OPTIONS;
  const controller = new AbortController();
  const ctx = new CheckContext<F>(lab, (line) => log(`[${check.id}] ${line}`), controller.signal, options);
  const ticker = run.progress ? setInterval(() => run.progress!(ctx.current, Date.now() - started), run.progressMs ?? 15_000) : undefined;
  let status: CheckStatus = 'passed';
  let failure: string | undefined;
  let timedOutIn: string | undefined;
  let failedNodes: readonly string[] | undefined;
  lab.signal = controller.signal;
  const running = check.run(ctx);
  let timer: NodeJS.Timeout | undefined;
  const interrupted = () => {
    clearTimeout(timer);
    stop();
  };
  let stop: () => void = () => undefined;
  const outcome = await Promise.race([
    running.then(
      () => undefined,
      (err: unknown) => err,
    ),
    new Promise<typeof TIMED_OUT>((resolve) => {
      stop = () => resolve(TIMED_OUT);
      timer = setTimeout(() => resolve(TIMED_OUT), deadlineMs);
      run.signal?.addEventListener('abort', interrupted, { once: true });
    }),
  ]);
  clearTimeout(timer);
  run.signal?.removeEventListener('abort', interrupted);
  if (ticker) clearInterval(ticker);
  lab.signal = undefined;
  if (outcome === TIMED_OUT) {
    status = 'failed';
    timedOutIn = ctx.current;
    failure = run.signal?.aborted
      ? `${stoppedAs(run.signal)} after ${((Date.now() - started) / 1000).toFixed(0)} s in ${ctx.current}`
      : `timed out after ${(deadlineMs / 1000).toFixed(0)} s in ${ctx.current} (expected about ${(plan.expectedMs / 1000).toFixed(0)} s: ${plan.why})`;
    controller.abort(new Error(failure));
    // Its loads and waits end at the abort; a request in flight within its own timeout.
    const settled = await Promise.race([
      running.then(
        () => true,
        () => true,
      ),
      pause(lab.product.timing.requestTimeoutMs + 5_000).then(() => false),
    ]);
    if (!settled)
      ctx.evidence.push(`the check had not let go ${(lab.product.timing.requestTimeoutMs + 5_000) / 1000} s after its deadline`);
  } else if (outcome !== undefined) {
    status = 'failed';
    failure = (outcome as Error).message ?? String(outcome);
    failedNodes = outcome instanceof CheckFailure && outcome.nodes.length ? outcome.nodes : undefined;
  } else {
    // The run measured: its figures are whole (a run records each before it returns).
    const figures = ctx.figures as F;
    let found: readonly string[];
    try {
      found = check.problems(figures, lab.lab.product.timing);
    } catch (err) {
      found = [`its figures could not be judged (${(err as Error).message}): ${JSON.stringify(figures).slice(0, 300)}`];
    }
    if (found.length) {
      status = 'failed';
      failure = found.join('; ');
      failedNodes = check.suspects?.(figures, lab.lab);
    }
  }
  if (failure) {
    ctx.evidence.push(`FAILED: ${failure}`);
    const nodes = failedNodes ?? [...lab.managers, ...lab.workers].map((n) => n.name).slice(0, 2);
    for (const node of nodes) {
      ctx.evidence.push(`last log lines of ${node}:\n${await lab.logs(node, 15).catch((e: Error) => e.message)}`);
    }
  }
  return {
    id: check.id,
    title: check.title,
    status,
    figures: ctx.figures,
    evidence: ctx.evidence,
    timelines: ctx.timelines,
    durationMs: Date.now() - started,
    plan,
    ...(failure ? { reason: failure } : {}),
    ...(timedOutIn ? { timedOutIn } : {}),
  };
}

/** The figures a check recorded in a run, typed as that check declares them. */
export function figuresOf<F extends Figures>(results: readonly CheckResult[], check: Check<F>): Partial<F> | undefined {
  // Only `check` writes the figures of a result with its id, through a CheckContext<F>.
  return results.find((r) => r.id === check.id)?.figures as Partial<F> | undefined;
}

/**
 * Each time above `bound` in per-target figures, as `<target> took <ms> ms`: each entry a change
 * (`''` for none, else named after the target: `worker-1 (removal)`) and its times per target,
 * one or several. The propagation checks' verdict on how fast every target followed.
 */
export function slowerThan(
  series: readonly (readonly [string, Readonly<Record<string, number | readonly number[]>> | undefined])[],
  bound: number,
): string[] {
  return series.flatMap(([change, byTarget]) =>
    Object.entries(byTarget ?? {}).flatMap(([target, times]) =>
      (typeof times === 'number' ? [times] : times)
        .filter((x) => x > bound)
        .map((x) => `${change ? `${target} (${change})` : target} took ${x} ms`),
    ),
  );
}

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));
