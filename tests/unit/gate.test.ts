import { spawn } from 'child_process';
import { once } from 'events';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { GateEntry, GateEvent } from '../../harness/gate';
import { Gate, gateUsage, labWeight, mayTake } from '../../harness/gate';
import { buildLab } from '../../generator/patterns';
import { sim, simApim260 } from '../../generator/products/sim';
import { withPace } from '../../generator/products/pace';
import { adminLoadIsolation } from '../../harness/checks/admin-load-isolation';
import { policiesPropagate } from '../../harness/checks/policies-propagate';
import { tempDir } from '../support/labs';

/** The machine's shares across processes: a saturating check takes the whole machine, a start or a check one share, in the order asked. */
describe('the machine gate', () => {
  const gate = (shares = 2) => new Gate({ dir: tempDir('gate-'), shares });
  /** Whether `p` settles within `ms` (the timer does not outlive the answer). */
  const settled = async (p: Promise<unknown>, ms = 400) => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    });
    try {
      return await Promise.race([p.then(() => true), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const opts = (what: string) => ({ what, timeoutMs: 10_000 });

  test('as many checks at once as there are shares; the next waits for one to end', async () => {
    const g = gate(2);
    const a = await g.share(opts('a'));
    await g.share(opts('b'));
    const c = g.share(opts('c'));
    expect(await settled(c)).toBe(false);
    a.release();
    expect(await settled(c, 2000)).toBe(true);
  });

  test('a whole-machine hold waits until no check runs, and a check asked after it waits behind it', async () => {
    const g = gate(2);
    const check = await g.share(opts('check'));
    const start = g.whole(opts('start'));
    expect(await settled(start)).toBe(false);
    const later = g.share(opts('later check'));
    expect(await settled(later)).toBe(false);
    check.release();
    const started = await start;
    expect(await settled(later)).toBe(false);
    started.release();
    expect(await settled(later, 2000)).toBe(true);
  });

  test("labs at a JVM's pace take half a share: two of them and a stand-in check fill two shares, a third waits", async () => {
    const g = gate(2);
    await g.half(opts('jvm a'));
    await g.take(labWeight(buildLab(1, { product: withPace(sim, { kind: 'jvm' }) })), opts('jvm b'));
    expect(labWeight(buildLab(1, { product: sim }))).toBe('share');
    const check = await g.share(opts('check'));
    const third = g.half(opts('jvm c'));
    expect(await settled(third)).toBe(false);
    check.release();
    expect(await settled(third, 2000)).toBe(true);
  });

  test('admin-load-isolation takes the whole machine where it judges the latency it causes (pattern 3), a share where it records it', () => {
    const machine = (pattern: 1 | 2 | 3) => adminLoadIsolation.machine?.(buildLab(pattern, { product: sim }));
    expect([machine(1), machine(2), machine(3)]).toEqual(['share', 'share', 'whole']);
  });

  test("policies-propagate takes half a share on the classic product, where it mostly waits for the workers' cache sweeps", () => {
    expect([
      policiesPropagate.machine?.(buildLab(3, { product: simApim260 })),
      policiesPropagate.machine?.(buildLab(3, { product: sim })),
    ]).toEqual(['half', 'share']);
  });

  test('the holds of a process that died do not count', async () => {
    const g = gate(1);
    // A pid no process has (above Linux's pid_max default of 4194304).
    writeFileSync(join(g.dir, 'hold-000000000000001.00000001.000000-9999999'), JSON.stringify({ weight: 1, what: 'dead' }));
    expect(await settled(g.whole(opts('start')), 2000)).toBe(true);
  });

  test('nor those of a process that ended and was not reaped (a zombie under a PID 1 that reaps nothing)', async () => {
    // `sleep 0` ends at once; its parent, exec'd into `sleep 5`, never waits for it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number((await once(parent.stdout!, 'data'))[0].toString().trim());
      await new Promise((r) => setTimeout(r, 300));
      expect(readFileSync(`/proc/${pid}/stat`, 'utf8')).toMatch(/^\d+ \(sleep\) Z /);
      const g = gate(1);
      writeFileSync(join(g.dir, `hold-000000000000001.00000001.000000-${pid}`), JSON.stringify({ weight: 1, what: 'zombie' }));
      expect(await settled(g.whole(opts('start')), 2000)).toBe(true);
    } finally {
      parent.kill();
    }
  });

  test('a wait past its deadline fails, naming what holds the machine', async () => {
    const g = gate(1);
    await g.share(opts('sim p2: managers-fail-over'));
    await expect(g.share({ what: 'x', timeoutMs: 300 })).rejects.toThrow(/held by: sim p2: managers-fail-over/);
  });

  test('another live process holding the machine makes this one wait until it lets go', async () => {
    const g = gate(1);
    // A hold file of a live process other than this one (the test runner's parent) is another process's hold.
    const file = join(g.dir, `hold-000000000000001.00000001.000000-${process.ppid}`);
    writeFileSync(file, JSON.stringify({ weight: 1, what: 'another process' }));
    const mine = g.share(opts('mine'));
    expect(await settled(mine)).toBe(false);
    rmSync(file);
    expect(await settled(mine, 2000)).toBe(true);
  });
});

describe('mayTake: in the order asked, and a short request passes one that cannot start yet only if it ends before that one could', () => {
  const hold = (ticket: string, weight: number, until?: number): GateEntry => ({ state: 'hold', ticket, weight, until });
  const want = (ticket: string, weight: number): GateEntry => ({ state: 'want', ticket, weight });
  // A check holds one share until t=60 s, a whole-machine check (ticket 2) waits for it.
  const waiting = [hold('1', 1, 60_000), want('2', 2)];

  test.each([
    ['first in line, with room', [hold('1', 1, 60_000)], { ticket: '3', weight: 1 }, { take: true }],
    ['no room', [hold('1', 1), hold('2', 1)], { ticket: '3', weight: 1, expectedMs: 10 }, { take: false }],
    ['behind the whole-machine check, saying nothing of its length', waiting, { ticket: '3', weight: 1 }, { take: false }],
    [
      'behind it, done before the holder is expected to end',
      waiting,
      { ticket: '3', weight: 1, expectedMs: 50_000 },
      { take: true, backfill: true },
    ],
    ['behind it, expected to run past that', waiting, { ticket: '3', weight: 1, expectedMs: 61_000 }, { take: false }],
    [
      'behind it while the holder did not say how long it holds',
      [hold('1', 1), want('2', 2)],
      { ticket: '3', weight: 1, expectedMs: 1 },
      { take: false },
    ],
    [
      'behind it while the holder ran past its own estimate',
      [hold('1', 1, -5), want('2', 2)],
      { ticket: '3', weight: 1, expectedMs: 1 },
      { take: false },
    ],
    [
      'half a share behind a share request, ending before half a share more is expected free',
      [hold('1', 1, 60_000), hold('2', 0.5, 30_000), want('3', 1)],
      { ticket: '4', weight: 0.5, expectedMs: 20_000 },
      { take: true, backfill: true },
    ],
    [
      'half a share behind a share request, ending after',
      [hold('1', 1, 60_000), hold('2', 0.5, 30_000), want('3', 1)],
      { ticket: '4', weight: 0.5, expectedMs: 40_000 },
      { take: false },
    ],
  ] as const)('%s', (_, entries, me, expected) => {
    expect(mayTake(entries, me, 2, 0)).toEqual(expected);
  });

  test('the first request waiting is never passed by one that would delay it: a gate of two processes', async () => {
    const g = new Gate({ dir: tempDir('gate-bf-'), shares: 2 });
    const long = await g.share({ what: 'p2: managers-fail-over', timeoutMs: 10_000, expectedMs: 3_000 });
    const whole = g.whole({ what: 'p3: admin-load-isolation', timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    // Short enough to end before the holder: passes the whole-machine check and runs on the free share.
    const short = await g.share({ what: 'p1: logs-clean', timeoutMs: 2_000, expectedMs: 500 });
    // Too long: waits behind it.
    const tooLong = g.share({ what: 'p1: balancers-restart', timeoutMs: 10_000, expectedMs: 5_000 });
    let tooLongGranted = false;
    void tooLong.then(() => (tooLongGranted = true));
    await new Promise((r) => setTimeout(r, 400));
    expect(tooLongGranted).toBe(false);
    short.release();
    long.release();
    (await whole).release();
    (await tooLong).release();
  });
});

describe('gateUsage', () => {
  const ev = (t: number, event: GateEvent['event'], ticket: string, weight = 1, what = `lab: ${ticket}`): GateEvent => ({
    t,
    event,
    ticket,
    weight,
    what,
  });

  test('share-seconds, seconds at each level and what held them, from a trace of two processes', () => {
    const u = gateUsage(
      [
        ev(0, 'want', 'a', 1, 'p3: start'),
        ev(0, 'hold', 'a', 1, 'p3: start'),
        ev(1000, 'want', 'b', 1, 'p2: managers-fail-over'),
        ev(1000, 'hold', 'b', 1, 'p2: managers-fail-over'),
        ev(4000, 'release', 'a', 1, 'p3: start'),
        ev(4000, 'want', 'c', 2, 'p3: admin-load-isolation'),
        ev(6000, 'release', 'b', 1, 'p2: managers-fail-over'),
        ev(6000, 'hold', 'c', 2, 'p3: admin-load-isolation'),
        ev(10_000, 'release', 'c', 2, 'p3: admin-load-isolation'),
      ],
      2,
    );
    expect(u.wallS).toBe(10);
    // 4 + 5 + 8 share-seconds of 20.
    expect(u.busy).toBe(0.85);
    // 0 shares never; 1 share 0–1 s and 4–6 s; 2 shares 1–4 s and 6–10 s.
    expect(u.secondsHolding).toEqual({ '1': 3, '2': 7 });
    // The whole-machine request waited 2 s with one share free: no room for it, so no wait counted.
    expect(u.waitedWithRoomS).toBe(0);
    expect(u.backfilled).toBe(0);
    expect(u.byWhat).toEqual([
      { what: 'admin-load-isolation', shareSeconds: 8, holds: 1 },
      { what: 'managers-fail-over', shareSeconds: 5, holds: 1 },
      { what: 'start', shareSeconds: 4, holds: 1 },
    ]);
  });

  test('an idle machine between holds, and a hold never released ends with the trace', () => {
    const u = gateUsage([ev(0, 'hold', 'a'), ev(2000, 'release', 'a'), ev(5000, 'hold', 'b'), ev(6000, 'want', 'c')], 1);
    expect(u.secondsHolding).toEqual({ '0': 3, '1': 3 });
    expect(u.busy).toBe(0.5);
    expect(u.waitedWithRoomS).toBe(0);
  });

  test('a share request waiting behind a whole-machine one while a share is free counts as waiting with room; half shares are levels of their own; a backfill is counted', () => {
    const u = gateUsage(
      [
        ev(0, 'hold', 'a', 1, 'p3: managers-fail-over'),
        ev(0, 'hold', 'j', 0.5, 'jvm: start'),
        ev(1000, 'release', 'j', 0.5, 'jvm: start'),
        ev(1000, 'want', 'w', 2, 'p3: admin-load-isolation'),
        ev(2000, 'want', 'b', 1, 'p2: logs-clean'),
        { ...ev(3000, 'hold', 'c', 1, 'p2: workers-reject-admin-writes'), backfill: true },
        ev(3500, 'release', 'c', 1, 'p2: workers-reject-admin-writes'),
        ev(5000, 'release', 'a', 1, 'p3: managers-fail-over'),
        ev(5000, 'hold', 'w', 2, 'p3: admin-load-isolation'),
        ev(6000, 'release', 'w', 2, 'p3: admin-load-isolation'),
        ev(6000, 'hold', 'b', 1, 'p2: logs-clean'),
        ev(7000, 'release', 'b', 1, 'p2: logs-clean'),
      ],
      2,
    );
    // 1.5 held 0–1 s; 1 held 1–3, 3.5–5 and 6–7 s (4.5); 2 held 3–3.5 and 5–6 s (1.5).
    expect(u.secondsHolding).toEqual({ '1': 5, '1.5': 1, '2': 2 });
    // b waited from 2 s to 6 s; there was room for it from 2 to 3 s and from 3.5 to 5 s.
    expect(u.waitedWithRoomS).toBe(3);
    expect(u.backfilled).toBe(1);
  });

  test('a gate with a trace file writes a want, a hold and a release per request', async () => {
    const dir = tempDir('gate-trace-');
    const trace = join(dir, 'trace.jsonl');
    const g = new Gate({ dir, shares: 2, trace });
    const hold = await g.share({ what: 'lab: check', timeoutMs: 1000 });
    hold.release();
    hold.release();
    const events = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as GateEvent);
    expect(events.map((e) => e.event)).toEqual(['want', 'hold', 'release']);
    expect(new Set(events.map((e) => e.ticket)).size).toBe(1);
  });
});
