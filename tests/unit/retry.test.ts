import { retryUntil, RetryTimeoutError } from '../../generator/runtime/retry';

describe('retryUntil', () => {
  test('returns the first value an attempt yields', async () => {
    let n = 0;
    await expect(retryUntil(async () => (++n === 3 ? n : undefined), { timeoutMs: 1000, intervalMs: 1, what: 'three' })).resolves.toBe(3);
  });

  test('times out with what it waited for and the last thing seen', async () => {
    const wait = retryUntil(
      async (observe) => {
        observe({ status: 404 });
        return undefined;
      },
      { timeoutMs: 50, intervalMs: 5, what: 'worker-1 to serve /x' },
    );
    await expect(wait).rejects.toThrow(RetryTimeoutError);
    await expect(wait).rejects.toThrow(/waiting for worker-1 to serve \/x; last seen: \{"status":404\}/);
  });

  test('an attempt that throws counts as not yet, and its error is the evidence', async () => {
    const wait = retryUntil(
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5, what: 'x' },
    );
    await expect(wait).rejects.toThrow(/last seen: connection refused/);
  });
});
