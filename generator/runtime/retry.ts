export interface RetryOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** What is awaited, for the error: "worker-1 to serve /pets/1.0.0". */
  readonly what: string;
  /** Ends the wait at once (a check past its deadline): the error then says it was abandoned. */
  readonly signal?: AbortSignal;
}

export class RetryTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastSeen: unknown,
  ) {
    super(
      `timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}${lastSeen === undefined ? '' : `; last seen: ${summarise(lastSeen)}`}`,
    );
    this.name = 'RetryTimeoutError';
  }
}

/** A wait given up because whoever waited was stopped (its check ran out of time). */
export class AbandonedError extends Error {
  constructor(
    readonly what: string,
    reason: unknown,
  ) {
    super(`stopped waiting for ${what}: ${reason instanceof Error ? reason.message : String(reason ?? 'aborted')}`);
    this.name = 'AbandonedError';
  }
}

function summarise(value: unknown): string {
  if (value instanceof Error) return value.message;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal, what = 'a pause'): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbandonedError(what, signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbandonedError(what, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const TIMED_OUT = Symbol('timed out');

/** `promise`, or {@link TIMED_OUT} once `ms` have passed or `signal` aborted (the promise runs on, unawaited). */
function within<T>(promise: Promise<T>, ms: number, signal?: AbortSignal): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const limit = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
    onAbort = () => resolve(TIMED_OUT);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, limit]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  });
}

/**
 * The one polling helper: calls `attempt` until it returns a value other than `undefined`, or
 * the deadline passes. An attempt that throws counts as "not yet" and its error is kept as evidence.
 * `observe` records what an attempt saw without ending the wait. An attempt still running at the
 * deadline does not hold the wait: it ends on time (the attempt is left to finish unawaited).
 */
export async function retryUntil<T>(
  attempt: (observe: (seen: unknown) => void) => Promise<T | undefined>,
  options: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastSeen: unknown;
  const observe = (seen: unknown) => {
    lastSeen = seen;
  };
  for (;;) {
    if (options.signal?.aborted) throw new AbandonedError(options.what, options.signal.reason);
    try {
      const value = await within(attempt(observe), deadline - Date.now(), options.signal);
      if (value !== TIMED_OUT && value !== undefined) return value;
      if (value === TIMED_OUT && options.signal?.aborted) throw new AbandonedError(options.what, options.signal.reason);
    } catch (err) {
      if (err instanceof AbandonedError) throw err;
      lastSeen = err;
    }
    if (Date.now() >= deadline) throw new RetryTimeoutError(options.what, options.timeoutMs, lastSeen);
    await pause(Math.min(options.intervalMs, Math.max(0, deadline - Date.now())), options.signal, options.what);
  }
}

/**
 * Runs `attempt` with a deadline, for work that is not a poll (a container start, a probe): its
 * value, or an error naming `what` and the deadline. `attempt` gets a signal that fires then.
 */
export async function withDeadline<T>(what: string, ms: number, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const value = await within(attempt(controller.signal), ms);
  if (value === TIMED_OUT) {
    controller.abort(new Error(`${what} took over ${(ms / 1000).toFixed(0)} s`));
    throw new RetryTimeoutError(what, ms, undefined);
  }
  return value;
}
