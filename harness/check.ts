import type { Log } from '../generator/runtime/images';
import { retryUntil } from '../generator/runtime/retry';
import { ApimClient, invoke } from './apim-client';
import { describeExchange, Exchange } from './http';
import type { LabTarget } from './lab-target';
import type { LabSpec } from '../generator/model/lab';

export type CheckStatus = 'passed' | 'failed' | 'skipped';
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
}

/** A check failed: the message says what property broke; `nodes` are whose logs to attach. */
export class CheckFailure extends Error {
  constructor(message: string, readonly nodes: readonly string[] = []) {
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
  private static fixtures = new WeakMap<LabTarget, Promise<DeployedApi>>();

  constructor(readonly lab: LabTarget, readonly log: Log) {}

  record(exchange: Exchange): Exchange {
    this.evidence.push(describeExchange(exchange));
    return exchange;
  }

  /** A logged-in client on the manager balancer. */
  async managerClient(): Promise<ApimClient> {
    const client = this.lab.managerClient();
    await retryUntil(async (observe) => client.login().then(() => true, (err) => { observe(err); return undefined; }), {
      timeoutMs: this.lab.product.timing.requestTimeoutMs * 3, intervalMs: 500, what: 'a token from the manager balancer',
    });
    return client;
  }

  unique(prefix: string): string {
    return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
  }

  /** The shared deployed API, created on first use and served by the worker balancer. */
  deployedApi(): Promise<DeployedApi> {
    let fixture = CheckContext.fixtures.get(this.lab);
    if (!fixture) {
      fixture = (async () => {
        const client = await this.managerClient();
        const tag = this.unique('fx');
        const api = { name: `Fixture${tag}`, context: `/fixture-${tag}`, version: '1.0.0', backendUrl: this.lab.backendUrl };
        const { apiId } = await client.createAndDeploy(api, this.lab.vhost);
        const { token } = await client.subscribe(`fixture-${tag}`, [apiId]);
        const deployed = { apiId, context: api.context, version: api.version, token };
        await this.untilServed(this.lab.apiUrl(), deployed, this.lab.product.timing.propagationBoundMs * 5);
        return deployed;
      })();
      CheckContext.fixtures.set(this.lab, fixture);
    }
    return fixture;
  }

  /** Polls `baseUrl` until it serves the API (200); returns when, in ms from the call. */
  async untilServed(baseUrl: string, api: Pick<DeployedApi, 'context' | 'version' | 'token'>, timeoutMs: number): Promise<number> {
    const started = performance.now();
    const http = this.lab.http(baseUrl);
    await retryUntil(async (observe) => {
      const e = await invoke(http, api.context, api.version, api.token);
      observe(describeExchange(e));
      return e.status === 200 ? true : undefined;
    }, { timeoutMs, intervalMs: 25, what: `${baseUrl} to serve ${api.context}/${api.version}` });
    return performance.now() - started;
  }
}

/** A property of a lab, proven by running it; `F` is the type of its figures. */
export interface Check<F extends Figures = Figures> {
  readonly id: string;
  /** The promise, as a sentence. */
  readonly title: string;
  /** Why the check does not apply to a lab of this model, or undefined when it does (known before it starts). */
  skipReason?(lab: LabSpec): string | undefined;
  run(ctx: CheckContext<F>): Promise<void>;
  /** The figures a reader looks for first (the report's table); any may be missing on a failure. */
  headline(figures: Partial<F>): string;
}

export async function runCheck<F extends Figures>(check: Check<F>, lab: LabTarget, log: Log): Promise<CheckResult> {
  const started = Date.now();
  const reason = check.skipReason?.(lab.lab);
  if (reason) return { id: check.id, title: check.title, status: 'skipped', figures: {}, evidence: [], timelines: [], durationMs: 0, reason };
  const ctx = new CheckContext<F>(lab, (line) => log(`[${check.id}] ${line}`));
  let status: CheckStatus = 'passed';
  let failure: string | undefined;
  try {
    await check.run(ctx);
  } catch (err) {
    status = 'failed';
    failure = (err as Error).message;
    ctx.evidence.push(`FAILED: ${failure}`);
    const nodes = err instanceof CheckFailure && err.nodes.length ? err.nodes : [...lab.managers, ...lab.workers].map((n) => n.name).slice(0, 2);
    for (const node of nodes) {
      ctx.evidence.push(`last log lines of ${node}:\n${await lab.logs(node, 15).catch((e) => String(e))}`);
    }
  }
  return {
    id: check.id, title: check.title, status, figures: ctx.figures, evidence: ctx.evidence, timelines: ctx.timelines,
    durationMs: Date.now() - started, ...(failure ? { reason: failure } : {}),
  };
}

/** The figures a check recorded in a run, typed as that check declares them. */
export function figuresOf<F extends Figures>(results: readonly CheckResult[], check: Check<F>): Partial<F> | undefined {
  // Only `check` writes the figures of a result with its id, through a CheckContext<F>.
  return results.find((r) => r.id === check.id)?.figures as Partial<F> | undefined;
}

export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));
