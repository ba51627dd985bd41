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
 * by later checks, nor a check by a later start). Holders and waiters are files in one folder, one
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
}

interface Entry {
  readonly file: string;
  readonly state: 'hold' | 'want';
  readonly ticket: string;
  readonly pid: number;
  readonly weight: number;
  readonly what: string;
}

/** How much of the machine a start or a check takes (see above). */
export type Weight = 'whole' | 'share' | 'half';

/** A lab's start, check or recreate: half a share at a JVM's pace (it mostly waits for boots), else one. */
export const labWeight = (lab: LabSpec): 'share' | 'half' => (lab.product.pace ? 'half' : 'share');

/** One share per core (see above). */
export const machineShares = (): number => Math.max(1, cpus().length);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

let sequence = 0;
/** A ticket that sorts in the order requests were made, across processes (time, then pid and a counter). */
const ticketOf = () =>
  `${Date.now().toString().padStart(15, '0')}.${String(process.pid).padStart(8, '0')}.${String(sequence++).padStart(6, '0')}`;

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

  private traced(event: GateEvent['event'], ticket: string, weight: number, what: string): void {
    if (!this.trace) return;
    const line: GateEvent = { t: Date.now(), event, ticket, weight, what };
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
      let content: { weight: number; what: string };
      try {
        content = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as { weight: number; what: string };
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
    const ticket = ticketOf();
    const name = (state: 'hold' | 'want') => join(this.dir, `${state}-${ticket}-${process.pid}`);
    const content = JSON.stringify({ weight, what: options.what });
    writeFileSync(name('want'), content, { flag: 'wx' });
    this.traced('want', ticket, weight, options.what);
    const started = Date.now();
    let reported = started;
    try {
      for (;;) {
        const granted = await this.exclusively(() => {
          const entries = this.entries();
          const held = entries.filter((e) => e.state === 'hold').reduce((sum, e) => sum + e.weight, 0);
          const ahead = entries.some((e) => e.state === 'want' && e.ticket < ticket);
          if (ahead || held + weight > this.shares) return false;
          writeFileSync(name('hold'), content, { flag: 'wx' });
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
    this.traced('hold', ticket, weight, options.what);
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
  /** Seconds with 0, 1, … `shares` shares held (a whole-machine hold counts as all of them). */
  readonly secondsHolding: readonly number[];
  /** Seconds when some request waited while a share stood free (a whole-machine request waiting for the last check). */
  readonly waitedWithShareFreeS: number;
  /** Share-seconds by what held them, the first word after the lab's name (`managers-fail-over`, `start`), largest first. */
  readonly byWhat: readonly { readonly what: string; readonly shareSeconds: number; readonly holds: number }[];
}

/** The usage of `shares` shares over `events` (any order; a hold never released ends at the last event). */
export function gateUsage(events: readonly GateEvent[], shares: number): GateUsage {
  const sorted = [...events].sort((a, b) => a.t - b.t);
  if (!sorted.length) return { shares, wallS: 0, busy: 0, secondsHolding: Array(shares + 1).fill(0), waitedWithShareFreeS: 0, byWhat: [] };
  const first = sorted[0].t;
  const last = sorted[sorted.length - 1].t;
  const holding = new Map<string, GateEvent>();
  const wanting = new Set<string>();
  const atLevel = Array<number>(shares + 1).fill(0);
  const byWhat = new Map<string, { shareSeconds: number; holds: number }>();
  let held = 0;
  let waitedFree = 0;
  let at = first;
  const kind = (what: string) => (what.split(': ')[1] ?? what).split(' ')[0];
  const advance = (t: number) => {
    const level = Math.min(shares, Math.round(held));
    atLevel[level] += t - at;
    if (wanting.size && held < shares) waitedFree += t - at;
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
    if (e.event === 'want') wanting.add(e.ticket);
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
    secondsHolding: atLevel.map((ms) => Math.round(ms / 1000)),
    waitedWithShareFreeS: Math.round(waitedFree / 1000),
    byWhat: [...byWhat.entries()]
      .map(([what, e]) => ({ what, shareSeconds: Math.round(e.shareSeconds), holds: e.holds }))
      .sort((a, b) => b.shareSeconds - a.shareSeconds),
  };
}

let machine: Gate | undefined;
/** This machine's gate (one per process; every process on the machine shares its folder). */
export const machineGate = (): Gate => (machine ??= new Gate());
