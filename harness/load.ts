import type { TimelinePoint } from './check';
import type { Exchange } from './http';

/**
 * A timeline of requests as users feel them: each request's start, duration, status and the node
 * that answered. Loads (the failover writer/reader, the worker-loss invoker) record through it.
 */
export class Recorder {
  readonly points: TimelinePoint[] = [];
  private readonly t0 = performance.now();

  /** ms since the recorder started. */
  now(): number {
    return performance.now() - this.t0;
  }

  async timed(method: string, call: () => Promise<Exchange>, okStatuses: readonly number[]): Promise<Exchange> {
    const t = this.now();
    const e = await call();
    this.points.push({
      t: Math.round(t),
      method,
      status: e.status,
      ok: okStatuses.includes(e.status),
      ms: Math.round(e.ms),
      upstream: e.upstream,
    });
    return e;
  }
}

/** What users felt of one fault, read from a timeline. */
export interface Impact {
  /** Requests that ended after the fault was requested and failed (a status the load did not expect, or no answer). */
  readonly failed: number;
  /** Requests that ended after the fault was requested, succeeded, and took longer than the stall bound. */
  readonly stalled: number;
  /**
   * From the fault (Docker done) to the end of the last failed or stalled request: how long users
   * felt it. 0 when nobody did.
   */
  readonly rtoMs: number;
  /** From the fault to the first request that completed successfully after it (the old RTO). */
  readonly firstSuccessMs: number | null;
  /** Failed requests by method (`POST deploy`, `GET api`, ...). */
  readonly failedByMethod: Readonly<Record<string, number>>;
  readonly maxLatencyMs: number;
  readonly requests: number;
}

/**
 * Judges a timeline around one fault. `faultRequestedAt` is when the harness asked Docker, `faultAt`
 * when Docker said it was done (a node being stopped still answers, or fails, in between: those
 * requests count). A request slower than `stallMs` is a stalled one, as bad as a failed one for
 * the RTO.
 */
export function impactOf(points: readonly TimelinePoint[], faultRequestedAt: number, faultAt: number, stallMs: number): Impact {
  const end = (p: TimelinePoint) => p.t + p.ms;
  const after = points.filter((p) => end(p) >= faultRequestedAt);
  const failed = after.filter((p) => !p.ok);
  const stalled = after.filter((p) => p.ok && p.ms > stallMs);
  const felt = [...failed, ...stalled].map(end);
  const firstSuccess = points.filter((p) => p.ok && end(p) >= faultAt).map(end);
  const failedByMethod: Record<string, number> = {};
  for (const p of failed) failedByMethod[p.method] = (failedByMethod[p.method] ?? 0) + 1;
  return {
    failed: failed.length,
    stalled: stalled.length,
    rtoMs: felt.length ? Math.max(0, Math.max(...felt) - faultAt) : 0,
    firstSuccessMs: firstSuccess.length ? Math.max(0, Math.min(...firstSuccess) - faultAt) : null,
    failedByMethod,
    maxLatencyMs: Math.max(0, ...after.map((p) => p.ms)),
    requests: points.length,
  };
}

/** Smallest, median (lower middle) and largest of some runs' values; nulls (not measured) are left out. */
export type Spread = { readonly min: number | null; readonly median: number | null; readonly max: number | null };

export function spread(values: readonly (number | null)[]): Spread {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  if (!v.length) return { min: null, median: null, max: null };
  return { min: v[0], median: v[Math.floor((v.length - 1) / 2)], max: v[v.length - 1] };
}
