import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import { join, resolve } from 'path';
import { LabError } from '../../generator/errors';
import { table } from '../../generator/table';
import { RUNS } from '../../generator/paths';
import type { Figures } from '../check';
import type { ConformanceRun } from '../conformance';

/** Runs a lab's report folder keeps under `runs/` (the oldest go first). */
export const KEPT_RUNS = 10;
export { RUNS } from '../../generator/paths';

/** A run's folder name: its start time, sortable and safe on every file system. */
export const runStamp = (run: Pick<ConformanceRun, 'startedAt'>): string => run.startedAt.replace(/[:.]/g, '-');

/**
 * Keeps the report a run just wrote (every file in `dir`) as `dir/runs/<start time>/`, and at most
 * {@link KEPT_RUNS} runs in all. The folder itself keeps the latest run's files, as before; its
 * `runs/` are the history `carbon-labs results --compare` reads. The run's folder.
 */
export function archiveRun(run: Pick<ConformanceRun, 'startedAt'>, dir: string, keep = KEPT_RUNS): string {
  const target = join(dir, RUNS, runStamp(run));
  mkdirSync(target, { recursive: true });
  // The report's own files; not a failed run's lab export (whole logs: one copy, beside the report).
  for (const file of readdirSync(dir)) {
    if (statSync(join(dir, file)).isFile() && !file.endsWith('.tar.gz')) copyFileSync(join(dir, file), join(target, file));
  }
  const runs = readdirSync(join(dir, RUNS))
    .filter((d) => statSync(join(dir, RUNS, d)).isDirectory())
    .sort();
  for (const old of runs.slice(0, Math.max(0, runs.length - keep))) rmSync(join(dir, RUNS, old), { recursive: true, force: true });
  return target;
}

/** A run's results.json, from its file or the folder holding it. */
export function readRun(path: string): ConformanceRun {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'results.json') : path;
  if (!existsSync(file))
    throw new LabError(`no results.json in ${resolve(path)}`, 'make conformance first, or name a run folder under runs/');
  return JSON.parse(readFileSync(file, 'utf8')) as ConformanceRun;
}

/** A report folder's kept runs, oldest first (each a folder with its results.json). */
export function keptRuns(dir: string): string[] {
  const runs = join(dir, RUNS);
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .map((d) => join(runs, d))
    .filter((d) => existsSync(join(d, 'results.json')))
    .sort();
}

/** Every number in a check's figures, by its path (`stop.rtoMs`); texts and flags left out. */
export function numericFigures(figures: Figures, prefix = ''): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(figures ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'number' && Number.isFinite(value)) out[path] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) Object.assign(out, numericFigures(value as Figures, path));
  }
  return out;
}

/**
 * Figures where less is better: times, sizes, failures, stalls, losses. Their rise past the ratio
 * is flagged; other figures (counts of requests, bounds) are shown without a judgement.
 */
const LESS_IS_BETTER = /(Ms|MB|Seconds)$|[Ff]ail|[Ss]tall|[Ll]ost|[Dd]uplicated|^forbiddenReached$|NotOnLoopback$/;
/** Figures that are no measurement to judge (a bound the run was held to) or where more is better. */
const NOT_JUDGED = /[Bb]ound|lightest|^stallMs$|\.stallMs$/;
/** How much worse a figure may get before it is flagged. */
export const WORSE_RATIO = 1.5;

export interface FigureChange {
  readonly check: string;
  readonly figure: string;
  readonly before?: number;
  readonly now?: number;
  /** now / before, where both are positive. */
  readonly ratio?: number;
  /** A less-is-better figure that rose past {@link WORSE_RATIO} (or from 0 to more). */
  readonly worse: boolean;
}

export interface RunComparison {
  readonly before: ConformanceRun;
  readonly now: ConformanceRun;
  readonly verdicts: readonly { readonly check: string; readonly before?: string; readonly now?: string }[];
  readonly figures: readonly FigureChange[];
}

/** Each check's verdict and each figure of two runs side by side, and which figures got worse. */
export function compareRuns(before: ConformanceRun, now: ConformanceRun, ratio = WORSE_RATIO): RunComparison {
  const ids = [...new Set([...now.checks.map((c) => c.id), ...before.checks.map((c) => c.id)])];
  const verdicts = ids.map((check) => ({
    check,
    before: before.checks.find((c) => c.id === check)?.status,
    now: now.checks.find((c) => c.id === check)?.status,
  }));
  const figures: FigureChange[] = [];
  const nowCheck = (id: string) => now.checks.find((c) => c.id === id && c.status !== 'skipped' && c.status !== 'not-run');
  for (const check of ids) {
    const b = numericFigures(before.checks.find((c) => c.id === check)?.figures ?? {});
    const n = numericFigures(now.checks.find((c) => c.id === check)?.figures ?? {});
    for (const figure of [...new Set([...Object.keys(n), ...Object.keys(b)])]) {
      const [x, y] = [b[figure], n[figure]];
      const both = x !== undefined && y !== undefined;
      const r = both && x > 0 ? y / x : undefined;
      const judged = LESS_IS_BETTER.test(figure) && !NOT_JUDGED.test(figure);
      // A measurement that had a value and has none now (a p99 of "none served") is worse too.
      const worse =
        judged && (both ? (x > 0 ? y / x > ratio : y > 0) : x !== undefined && y === undefined && nowCheck(check) !== undefined);
      figures.push({ check, figure, before: x, now: y, ratio: r, worse });
    }
  }
  return { before, now, verdicts, figures };
}

const shown = (v: number | undefined) => (v === undefined ? '-' : String(Math.round(v * 10) / 10));

/** The comparison as the CLI prints it: the runs, verdicts that changed, then every figure (flagged ones marked). */
export function comparisonText(c: RunComparison): string {
  const changed = c.verdicts.filter((v) => v.before !== v.now);
  const worse = c.figures.filter((f) => f.worse);
  return [
    `before: ${c.before.startedAt} ${c.before.verdict} (${c.before.product} pattern ${c.before.pattern}, ${(c.before.durationMs / 1000).toFixed(0)} s)`,
    `now:    ${c.now.startedAt} ${c.now.verdict} (${c.now.product} pattern ${c.now.pattern}, ${(c.now.durationMs / 1000).toFixed(0)} s)`,
    changed.length
      ? `verdicts changed: ${changed.map((v) => `${v.check} ${v.before ?? '-'} → ${v.now ?? '-'}`).join('; ')}`
      : 'verdicts: the same for every check',
    worse.length
      ? `worse by more than ×${WORSE_RATIO}: ${worse.map((f) => `${f.check} ${f.figure} ${shown(f.before)} → ${shown(f.now)}`).join('; ')}`
      : `no figure worse by more than ×${WORSE_RATIO}`,
    '',
    table([
      ['CHECK', 'FIGURE', 'BEFORE', 'NOW', 'CHANGE'],
      ...c.figures.map((f) => [
        f.check,
        f.figure,
        shown(f.before),
        shown(f.now),
        `${f.ratio === undefined ? '' : `×${f.ratio.toFixed(2)}`}${f.worse ? ' WORSE' : ''}`,
      ]),
    ]),
  ].join('\n');
}
