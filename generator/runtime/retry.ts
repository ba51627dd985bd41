export interface RetryOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** What is awaited, for the error: "worker-1 to serve /pets/1.0.0". */
  readonly what: string;
}

export class RetryTimeoutError extends Error {
  constructor(readonly what: string, readonly timeoutMs: number, readonly lastSeen: unknown) {
    super(`timed out after ${(timeoutMs / 1000).toFixed(1)} s waiting for ${what}${lastSeen === undefined ? '' : `; last seen: ${summarise(lastSeen)}`}`);
    this.name = 'RetryTimeoutError';
  }
}

function summarise(value: unknown): string {
  if (value instanceof Error) return value.message;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * The one polling helper: calls `attempt` until it returns a value other than `undefined`, or
 * the deadline passes. An attempt that throws counts as "not yet" and its error is kept as evidence.
 * `observe` records what an attempt saw without ending the wait.
 */
export async function retryUntil<T>(
  attempt: (observe: (seen: unknown) => void) => Promise<T | undefined>,
  options: RetryOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastSeen: unknown;
  const observe = (seen: unknown) => { lastSeen = seen; };
  for (;;) {
    try {
      const value = await attempt(observe);
      if (value !== undefined) return value;
    } catch (err) {
      lastSeen = err;
    }
    if (Date.now() >= deadline) throw new RetryTimeoutError(options.what, options.timeoutMs, lastSeen);
    await new Promise((r) => setTimeout(r, Math.min(options.intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
