import { LabError } from '../errors';
import type { LabScale, PatternId } from '../model/lab';

/**
 * Workers every pattern takes (`--workers`, `WORKERS=`): `worker-1`…`worker-5`. Five is what a
 * lab's block of host ports (`workerNode`: +300 + n × 10) and addresses (.21–.25) are laid out for.
 */
export const WORKER_COUNTS = { min: 1, max: 5, default: 2 } as const;

/** Managers a pattern allows (`--managers`, `MANAGERS=`); one is its default (today's lab). */
export interface ManagerRule {
  readonly allowed: readonly (1 | 2)[];
  readonly default: 1 | 2;
  /** The pattern's managers in words, for the error. */
  readonly means: string;
  /** The fix for a count the pattern does not allow: `make lab` with the patterns that have it. */
  readonly instead: string;
}

/** The node counts of a lab, after its pattern's rule. */
export interface Scale {
  readonly workers: number;
  readonly managers: number;
  /** The counts that differ from the pattern's default: what the lab records. */
  readonly recorded?: LabScale;
}

function whole(value: string | number): number | undefined {
  const text = String(value).trim();
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

/** A user's WORKERS value; the error names the rule, the value and the fix. */
export function parseWorkers(value: string | number): number {
  const n = whole(value);
  if (n === undefined || n < WORKER_COUNTS.min || n > WORKER_COUNTS.max) {
    throw new LabError(
      `WORKERS must be a whole number from ${WORKER_COUNTS.min} to ${WORKER_COUNTS.max} (got "${String(value).trim()}")`,
      `make lab PATTERN=3 WORKERS=${WORKER_COUNTS.max}`,
    );
  }
  return n;
}

/** A user's MANAGERS value (1 or 2); whether the pattern allows it is `scaleOf`'s rule. */
export function parseManagers(value: string | number): 1 | 2 {
  const n = whole(value);
  if (n !== 1 && n !== 2) throw new LabError(`MANAGERS must be 1 or 2 (got "${String(value).trim()}")`, 'make lab PATTERN=3 MANAGERS=1');
  return n;
}

/**
 * The counts a pattern builds: the asked ones within its rule, else its default. A count the
 * pattern does not allow is an error naming the patterns that have it.
 */
export function scaleOf(pattern: PatternId, rule: ManagerRule, asked: LabScale): Scale {
  const workers = asked.workers === undefined ? WORKER_COUNTS.default : parseWorkers(asked.workers);
  const managers = asked.managers === undefined ? rule.default : parseManagers(asked.managers);
  if (!rule.allowed.includes(managers)) {
    throw new LabError(`pattern ${pattern} has ${rule.means} (got MANAGERS=${managers})`, `make lab ${rule.instead}`);
  }
  const recorded: LabScale = {
    ...(workers !== WORKER_COUNTS.default ? { workers } : {}),
    ...(managers !== rule.default ? { managers } : {}),
  };
  return { workers, managers, ...(Object.keys(recorded).length ? { recorded } : {}) };
}
