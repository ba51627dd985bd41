import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import { cpus, tmpdir } from 'os';
import { join } from 'path';
import { pause } from '../generator/runtime/retry';
import type { LabSpec } from '../generator/model/lab';

/**
 * The machine's CPU, shared by every carbon-labs process on this machine (labs checked side by
 * side, `make test`'s lanes), so that a timing verdict is judged with the machine it was made for.
 * A share is one core. A stand-in lab under a check's load keeps less than one busy: measured here
 * (2 cores), pattern 3's `managers-fail-over` used 0.82 cores on average with the harness's own
 * requests, a whole conformance run 0.76, a start 0.71 (9.5 CPU-seconds in 13 s), an idle lab 0.2.
 * So a start and a check take one share each, and two labs' checks run side by side on two cores:
 * measured so, patterns 3 of `sim` and `sim-apim-4.7.0` both passed (109 s and 111 s, against 104 s
 * alone), every failover variant within the same bounds as alone (RTOs set by the balancer's
 * timeouts: stop and kill 0 ms, pause and partition about 1 s, db-partition about 2 s), with
 * 20–40 % fewer requests in each window. A check that saturates a listener on purpose
 * (`admin-load-isolation`, whose figure is the latency the saturation causes) takes the whole
 * machine where it judges that latency (pattern 3). A lab at a JVM's pace (`PACE=jvm`) mostly
 * waits for its nodes' boots (they listen on nothing meanwhile): measured here, pattern 1's eleven
 * checks on a running lab at 20 s boots kept 0.39 cores busy on average over 125 s (the harness's
 * loads included; 0.36 with the lab's start), below half a core, as a stand-in lab's checks keep
 * below one. So its start, its checks and a shared lab's recreate take half a share. (Reverted
 * once after a `make test` run failed pattern 3's stop failover beside it; the same failure came
 * with one share too, and its cause was the stand-in's passive manager compiling every REST schema
 * on its first requests, fixed in sim/src/spec.ts.)
 * An earlier lab (before its listeners had headroom for a busy node's TLS handshake) did
 * falsify verdicts side by side (504s at the 2 s read timeout, a 552 ms connect read as a
 * failover, a 1012 ms stall): `CARBON_LABS_GATE_SHARES=1` brings back one lab at a time.
 *
 * Requests are served in the order they were made (a start waiting for the machine is not passed
 * by later checks, nor a check by a later start), except that a check short enough to end before
 * the first waiting request could start may pass it ({@link mayTake}). Holders and waiters are files in one folder, one
 * per request, named by its ticket and process id; a dead process's files do not count.
 */
export interface GateHold {
  /** Gives the share back (idempotent). */
  release(): void;
}

export interface GateOptions {
  /** The folder of holders and waiters. @default $CARBON_LABS_GATE_DIR, else <tmp>/carbon-labs-gate */
  readonly dir?: string;
  /** Shares the machine has. @default $CARBON_LABS_GATE_SHARES, else one per core */
  readonly shares?: number;
  /**
   * A file each request, grant and release is appended to (one JSON line each, {@link GateEvent}),
   * read by {@link gateUsage}: how busy the gate kept the machine. @default $CARBON_LABS_GATE_TRACE, else none
   */
  readonly trace?: string;
}

/** One line of a gate's trace. */
export interface GateEvent {
  /** ms since the epoch. */
  readonly t: number;
  readonly event: 'want' | 'hold' | 'release';
  readonly ticket: string;
  readonly weight: number;
  readonly what: string;
  /** A hold that passed an earlier request ({@link mayTake}). */
  readonly backfill?: boolean;
}

export interface AcquireOptions {
  /** What holds the share, as waiters are told (`sim p3: managers-fail-over`). */
  readonly what: string;
  /** Longest wait before giving up with an error naming what holds the machine. */
  readonly timeoutMs: number;
  /** Called every `reportMs` while waiting, with what holds the machine. */
  readonly waiting?: (holders: readonly string[], waitedMs: number) => void;
  readonly reportMs?: number;
  readonly signal?: AbortSignal;
  /**
   * About how long it will hold the machine (a check's plan). Only a request that says so may pass
   * an earlier one that cannot start yet, and only when it is expected to end before that one could
   * start ({@link mayTake}); one that does not say waits its turn.
   */
  readonly expectedMs?: number;
}

/** A request or a hold in the gate's folder, as {@link mayTake} weighs it. */
export interface GateEntry {
  readonly state: 'hold' | 'want';
  readonly ticket: string;
  readonly weight: number;
  /** A hold's expected end (ms since the epoch), when its holder said how long it would take. */
  readonly until?: number;
}

interface Entry extends GateEntry {
  readonly file: string;
  readonly pid: number;
  readonly what: string;
}

/**
 * Whether request `me` may take its weight now. In the order asked, as ever: the first request
 * waiting takes the machine as soon as there is room for it. A later one may pass it (backfill, as
 * batch schedulers' EASY backfilling does) when there is room for the later one now and it is
 * expected to end before the first could start: when, by their expected ends, enough holders will
 * have let go for the first one's weight. A holder whose end is not known makes that time unknown,
 * and nothing passes. So a whole-machine check waiting for the last check to end leaves the share
 * that is free meanwhile to checks short enough to be done by then, and starts no later for it,
 * unless one of them runs past its estimate (measured in the trace: `backfilled`).
 */
export function mayTake(
  entries: readonly GateEntry[],
  me: { readonly ticket: string; readonly weight: number; readonly expectedMs?: number },
  shares: number,
  now: number,
): { readonly take: boolean; readonly backfill?: boolean } {
  const holds = entries.filter((e) => e.state === 'hold');
  const held = holds.reduce((sum, e) => sum + e.weight, 0);
  if (held + me.weight > shares + 1e-9) return { take: false };
  const first = entries.filter((e) => e.state === 'want' && e.ticket < me.ticket).sort((a, b) => a.ticket.localeCompare(b.ticket))[0];
  if (!first) return { take: true };
  if (me.expectedMs === undefined) return { take: false };
  // When the first one could start: holders let go in the order they are expected to.
  let free = shares - held;
  let startsAt = now;
  for (const h of [...holds].sort((a, b) => (a.until ?? Infinity) - (b.until ?? Infinity))) {
    if (free + 1e-9 >= first.weight) break;
    free += h.weight;
    startsAt = h.until ?? Infinity;
  }
  if (free + 1e-9 < first.weight || !Number.isFinite(startsAt)) return { take: false };
  return now + me.expectedMs <= startsAt ? { take: true, backfill: true } : { take: false };
}

/** How much of the machine a start or a check takes (see above). */
export type Weight = 'whole' | 'share' | 'half';

/** A lab's start, check or recreate: half a share at a JVM's pace (it mostly waits for boots), else one. */
export const labWeight = (lab: LabSpec): 'share' | 'half' => (lab.product.pace ? 'half' : 'share');

/** One share per core (see above). */
export const machineShares = (): number => Math.max(1, cpus().length);

/** A process that ended but was not reaped (a zombie: its parent, or a PID 1 that reaps nothing, has not waited for it) holds nothing. */
const zombie = (pid: number): boolean => {
  try {
    // /proc/<pid>/stat: `pid (comm) state …`; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !zombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

let sequence = 0;
/** A ticket that sorts in the order requests were made, across processes (time, then pid and a counter). */
const ticketOf = () =>
  `${Date.now().toString().padStart(15, '0')}.${String(process.pid).padStart(8, '0')}.${String(sequence++).padStart(6, '0')}`;

/** This process's waits for the machine, as one clock: how many are pending, since when one was, and the time some wait was pending before. */
const waiting = { pending: 0, since: 0, endedMs: 0 };
const waitBegan = () => {
  if (waiting.pending++ === 0) waiting.since = Date.now();
};
const waitEnded = () => {
  if (--waiting.pending === 0) waiting.endedMs += Date.now() - waiting.since;
};
/**
 * How long this process has waited for the machine (any of its requests pending, once however
 * many were): what other processes' work took, which its own deadline does not count (harness/deadline.ts).
 */
export const waitedForMachineMs = (now = Date.now()): number => waiting.endedMs + (waiting.pending > 0 ? now - waiting.since : 0);

export class Gate {
  readonly dir: string;
  readonly shares: number;
  readonly trace?: string;

  constructor(options: GateOptions = {}) {
    this.dir = options.dir ?? process.env.CARBON_LABS_GATE_DIR ?? join(tmpdir(), 'carbon-labs-gate');
    const shares = options.shares ?? Number(process.env.CARBON_LABS_GATE_SHARES ?? machineShares());
    if (!Number.isInteger(shares) || shares < 1)
      throw new Error(`CARBON_LABS_GATE_SHARES must be a whole number ≥ 1 (got "${process.env.CARBON_LABS_GATE_SHARES}")`);
    this.shares = shares;
    this.trace = options.trace ?? (process.env.CARBON_LABS_GATE_TRACE || undefined);
    mkdirSync(this.dir, { recursive: true });
  }

  private traced(event: GateEvent['event'], ticket: string, weight: number, what: string, backfill?: boolean): void {
    if (!this.trace) return;
    const line: GateEvent = { t: Date.now(), event, ticket, weight, what, ...(backfill ? { backfill } : {}) };
    // One short line per append: O_APPEND keeps lines of several processes whole.
    appendFileSync(this.trace, JSON.stringify(line) + '\n');
  }

  /** The whole machine: a check that saturates a listener on purpose. */
  whole(options: AcquireOptions): Promise<GateHold> {
    return this.acquire(this.shares, options);
  }
  /** One share: a lab's start, a check. */
  share(options: AcquireOptions): Promise<GateHold> {
    return this.acquire(1, options);
  }
  /** Half a share: a start or a check of a lab at a JVM's pace. */
  half(options: AcquireOptions): Promise<GateHold> {
    return this.acquire(0.5, options);
  }
  /** What `weight` names. */
  take(weight: Weight, options: AcquireOptions): Promise<GateHold> {
    return weight === 'whole' ? this.whole(options) : weight === 'half' ? this.half(options) : this.share(options);
  }

  /** Runs `body` holding `weight`. */
  async holding<T>(weight: Weight, options: AcquireOptions, body: () => Promise<T>): Promise<T> {
    const hold = await this.take(weight, options);
    try {
      return await body();
    } finally {
      hold.release();
    }
  }

  /** The requests in the folder whose processes live (the files of dead ones are removed). */
  private entries(): Entry[] {
    const entries: Entry[] = [];
    for (const file of readdirSync(this.dir)) {
      const m = /^(hold|want)-(\d+\.\d+\.\d+)-(\d+)$/.exec(file);
      if (!m) continue;
      const pid = Number(m[3]);
      if (!alive(pid)) {
        rmSync(join(this.dir, file), { force: true });
        continue;
      }
      let content: { weight: number; what: string; until?: number };
      try {
        content = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as { weight: number; what: string; until?: number };
      } catch {
        continue; // being written or removed this instant
      }
      entries.push({ file, state: m[1] as 'hold' | 'want', ticket: m[2], pid, ...content });
    }
    return entries.sort((a, b) => a.ticket.localeCompare(b.ticket));
  }

  /** One decision at a time across processes: a folder made atomically, taken back from a dead owner. */
  private async exclusively<T>(body: () => T): Promise<T> {
    const mutex = join(this.dir, '.mutex');
    for (;;) {
      try {
        mkdirSync(mutex);
        writeFileSync(join(mutex, 'pid'), String(process.pid));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        let owner = NaN;
        try {
          owner = Number(readFileSync(join(mutex, 'pid'), 'utf8'));
        } catch {
          /* being made or removed */
        }
        if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(mutex, { recursive: true, force: true });
        await pause(5);
      }
    }
    try {
      return body();
    } finally {
      rmSync(join(mutex, 'pid'), { force: true });
      rmdirSync(mutex);
    }
  }

  private async acquire(weight: number, options: AcquireOptions): Promise<GateHold> {
    waitBegan();
    try {
      return await this.acquireWaiting(weight, options);
    } finally {
      waitEnded();
    }
  }

  private async acquireWaiting(weight: number, options: AcquireOptions): Promise<GateHold> {
    const ticket = ticketOf();
    const name = (state: 'hold' | 'want') => join(this.dir, `${state}-${ticket}-${process.pid}`);
    writeFileSync(name('want'), JSON.stringify({ weight, what: options.what }), { flag: 'wx' });
    this.traced('want', ticket, weight, options.what);
    const started = Date.now();
    let reported = started;
    let backfilled = false;
    try {
      for (;;) {
        const granted = await this.exclusively(() => {
          const now = Date.now();
          const decision = mayTake(this.entries(), { ticket, weight, expectedMs: options.expectedMs }, this.shares, now);
          if (!decision.take) return false;
          backfilled = !!decision.backfill;
          const until = options.expectedMs === undefined ? undefined : now + options.expectedMs;
          writeFileSync(name('hold'), JSON.stringify({ weight, what: options.what, until }), { flag: 'wx' });
          rmSync(name('want'), { force: true });
          return true;
        });
        if (granted) break;
        const waited = Date.now() - started;
        const holders = () =>
          this.entries()
            .filter((e) => e.state === 'hold')
            .map((e) => e.what);
        if (waited > options.timeoutMs)
          throw new Error(
            `waited ${Math.round(waited / 1000)} s for the machine (${this.shares} shares), held by: ${holders().join('; ') || 'nobody'} (${this.dir})`,
          );
        if (options.waiting && Date.now() - reported >= (options.reportMs ?? 30_000)) {
          reported = Date.now();
          options.waiting(holders(), waited);
        }
        await pause(200, options.signal, `the machine for ${options.what}`);
      }
    } catch (err) {
      rmSync(name('want'), { force: true });
      this.traced('release', ticket, weight, options.what);
      throw err;
    }
    this.traced('hold', ticket, weight, options.what, backfilled);
    let released = false;
    return {
      release: () => {
        if (!released) {
          released = true;
          rmSync(name('hold'), { force: true });
          this.traced('release', ticket, weight, options.what);
        }
      },
    };
  }
}

/**
 * How long a start or a check waits for the machine before it fails naming what holds it: every
 * holder is bounded by its own deadline (a check's, a start's budget), so this is a backstop.
 */
export const GATE_WAIT_MS = 60 * 60_000;

/** How busy a gate kept the machine over a trace: what `make test` reports after its lanes. */
export interface GateUsage {
  readonly shares: number;
  /** From the first request to the last release. */
  readonly wallS: number;
  /** Share-seconds held, over shares × wall. */
  readonly busy: number;
  /** Seconds at each level of shares held (`0`, `0.5`, `1`, …). */
  readonly secondsHolding: Readonly<Record<string, number>>;
  /** Seconds when a request waited although there was room for it: behind an earlier one that had none (a whole-machine check). */
  readonly waitedWithRoomS: number;
  /** Holds that passed an earlier request ({@link mayTake}). */
  readonly backfilled: number;
  /** Share-seconds by what held them, the first word after the lab's name (`managers-fail-over`, `start`), largest first. */
  readonly byWhat: readonly { readonly what: string; readonly shareSeconds: number; readonly holds: number }[];
}

/** The usage of `shares` shares over `events` (any order; a hold never released ends at the last event). */
export function gateUsage(events: readonly GateEvent[], shares: number): GateUsage {
  const sorted = [...events].sort((a, b) => a.t - b.t);
  const first = sorted[0]?.t ?? 0;
  const last = sorted[sorted.length - 1]?.t ?? 0;
  const holding = new Map<string, GateEvent>();
  const wanting = new Map<string, number>();
  const atLevel = new Map<number, number>();
  const byWhat = new Map<string, { shareSeconds: number; holds: number }>();
  let held = 0;
  let waitedRoom = 0;
  let at = first;
  const kind = (what: string) => (what.split(': ')[1] ?? what).split(' ')[0];
  const advance = (t: number) => {
    if (t <= at) return;
    const level = Math.round(held * 2) / 2;
    atLevel.set(level, (atLevel.get(level) ?? 0) + t - at);
    if ([...wanting.values()].some((w) => w <= shares - held + 1e-9)) waitedRoom += t - at;
    at = t;
  };
  const close = (hold: GateEvent, t: number) => {
    const k = kind(hold.what);
    const entry = byWhat.get(k) ?? { shareSeconds: 0, holds: 0 };
    entry.shareSeconds += (hold.weight * (t - hold.t)) / 1000;
    entry.holds += 1;
    byWhat.set(k, entry);
  };
  for (const e of sorted) {
    advance(e.t);
    if (e.event === 'want') wanting.set(e.ticket, e.weight);
    else if (e.event === 'hold') {
      wanting.delete(e.ticket);
      holding.set(e.ticket, e);
      held += e.weight;
    } else {
      wanting.delete(e.ticket);
      const hold = holding.get(e.ticket);
      if (hold) {
        holding.delete(e.ticket);
        held -= hold.weight;
        close(hold, e.t);
      }
    }
  }
  for (const hold of holding.values()) close(hold, last);
  const wallMs = last - first;
  const shareSeconds = [...byWhat.values()].reduce((sum, e) => sum + e.shareSeconds, 0);
  return {
    shares,
    wallS: Math.round(wallMs / 1000),
    busy: wallMs ? Math.round((shareSeconds / ((shares * wallMs) / 1000)) * 100) / 100 : 0,
    secondsHolding: Object.fromEntries(
      [...atLevel.entries()].sort((a, b) => a[0] - b[0]).map(([level, ms]) => [String(level), Math.round(ms / 1000)]),
    ),
    waitedWithRoomS: Math.round(waitedRoom / 1000),
    backfilled: sorted.filter((e) => e.event === 'hold' && e.backfill).length,
    byWhat: [...byWhat.entries()]
      .map(([what, e]) => ({ what, shareSeconds: Math.round(e.shareSeconds), holds: e.holds }))
      .sort((a, b) => b.shareSeconds - a.shareSeconds),
  };
}

let machine: Gate | undefined;
/** This machine's gate (one per process; every process on the machine shares its folder). */
export const machineGate = (): Gate => (machine ??= new Gate());
