import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { Log } from '../generator/runtime/images';
import type { CheckStatus } from './check';
import type { ConformanceRun, LabRequest, RunOptions } from './conformance';
import { checkLab } from './conformance';
import { headline, writeReports } from './report/write';
import { archiveRun } from './report/history';

/** One lab of a matrix: what to check and where its reports go. */
export interface MatrixEntry extends LabRequest {
  /** Its name in progress lines and the summary: `sim p3`, `sim-apim-4.7.0 p3`. */
  readonly label: string;
  readonly reports: string;
}

export interface MatrixRun {
  readonly startedAt: string;
  readonly durationMs: number;
  /** How many labs ran at once. */
  readonly parallel: number;
  readonly verdict: 'passed' | 'failed';
  readonly runs: readonly (ConformanceRun & { readonly label: string; readonly reports: string })[];
  /** Labs that could not be brought up or checked, with why. */
  readonly errors: Readonly<Record<string, string>>;
}

/**
 * Checks several labs side by side (each its own compose project, subnets and ports), at most
 * `parallel` at once. Each lab's own lines go to its `run.log`; the console gets one line per lab
 * when its check changes (and every `beatMs` a line per lab), so several runs stay readable.
 */
export async function runMatrix(
  entries: readonly MatrixEntry[],
  options: RunOptions & { readonly parallel?: number; readonly beatMs?: number; readonly console?: Log } = {},
): Promise<MatrixRun> {
  const started = Date.now();
  const say: Log = options.console ?? (() => undefined);
  const parallel = Math.max(1, Math.min(options.parallel ?? entries.length, entries.length));
  const state = new Map<string, string>(entries.map((e) => [e.label, 'waiting']));
  const runs: MatrixRun['runs'][number][] = [];
  const errors: Record<string, string> = {};
  const beat = setInterval(() => say(`${[...state].map(([l, s]) => `[${l}] ${s}`).join('  |  ')}`), options.beatMs ?? 30_000);
  const queue = [...entries];
  const worker = async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      const e = entry;
      mkdirSync(e.reports, { recursive: true });
      const lines: string[] = [];
      const flush = () => writeFileSync(join(e.reports, 'run.log'), `${lines.join('\n')}\n`);
      const log: Log = (line) => {
        lines.push(`${new Date().toISOString()} ${line}`);
        // The check lines of the runner: `[i/n] id: …` (not each check's own detail).
        const progress = /^\[(\d+\/\d+)\] ([a-z-]+): (.*)$/.exec(line);
        if (progress || /checks on |attaching|starting |healthy \d+\//.test(line)) {
          const now = progress ? `${progress[1]} ${progress[2]}: ${progress[3].slice(0, 90)}` : line.slice(0, 110);
          if (state.get(e.label) !== now) {
            state.set(e.label, now);
            if (progress && !/ of about /.test(progress[3])) say(`[${e.label}] ${now}`);
          }
        }
        if (lines.length % 50 === 0) flush();
      };
      try {
        const run = await checkLab(e, {
          ...options,
          log,
          exportOnFailure: e.reports,
          onProgress: (partial) => writeReports(partial, e.reports),
        });
        if (run.complete) archiveRun(run, e.reports);
        runs.push({ ...run, label: e.label, reports: e.reports });
        state.set(e.label, `${run.verdict} in ${(run.durationMs / 1000).toFixed(0)} s`);
        say(`[${e.label}] ${run.verdict} in ${(run.durationMs / 1000).toFixed(0)} s: ${join(e.reports, 'report.md')}`);
      } catch (err) {
        errors[e.label] = (err as Error).message.split('\n').slice(0, 3).join(' ');
        state.set(e.label, `error: ${errors[e.label].slice(0, 90)}`);
        say(`[${e.label}] could not be checked: ${errors[e.label]}`);
      } finally {
        flush();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: parallel }, worker));
  } finally {
    clearInterval(beat);
  }
  const order = (label: string) => entries.findIndex((e) => e.label === label);
  runs.sort((a, b) => order(a.label) - order(b.label));
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    parallel,
    verdict: runs.every((r) => r.verdict === 'passed') && !Object.keys(errors).length ? 'passed' : 'failed',
    runs,
    errors,
  };
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const mark: Record<CheckStatus, string> = { passed: 'passed', failed: '**FAILED**', skipped: 'skipped', 'not-run': '**not run**' };

/** The summary of a matrix: one row per lab × check, figures side by side (Markdown, HTML and JSON). */
export function writeSummary(matrix: MatrixRun, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const rows = matrix.runs.flatMap((r) =>
    r.checks.map((c) => ({ lab: r.label, check: c.id, status: c.status, seconds: (c.durationMs / 1000).toFixed(1), figures: headline(c) })),
  );
  const title = `Conformance of ${matrix.runs.length + Object.keys(matrix.errors).length} labs side by side — ${matrix.verdict.toUpperCase()}`;
  const md = [
    `# ${title}`,
    '',
    `${matrix.runs.map((r) => `${r.label}: ${r.verdict} in ${(r.durationMs / 1000).toFixed(0)} s`).join('; ')}. Wall ${(matrix.durationMs / 1000).toFixed(0)} s, ${matrix.parallel} at once (started ${matrix.startedAt}).`,
    '',
    ...Object.entries(matrix.errors).map(([l, e]) => `**${l} could not be checked:** ${e}\n`),
    '| lab | check | status | figures | time |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.lab} | \`${r.check}\` | ${mark[r.status]} | ${r.figures.replace(/\|/g, '/')} | ${r.seconds} s |`),
    '',
    ...matrix.runs.map((r) => `- ${r.label}: [report](${join(r.reports, 'report.md')})`),
  ].join('\n');
  writeFileSync(join(dir, 'summary.md'), `${md}\n`);
  writeFileSync(
    join(dir, 'summary.json'),
    `${JSON.stringify({ ...matrix, runs: matrix.runs.map((r) => ({ label: r.label, reports: r.reports, verdict: r.verdict, durationMs: r.durationMs, complete: r.complete, checks: r.checks.map((c) => ({ id: c.id, status: c.status, reason: c.reason, figures: c.figures })) })) }, null, 2)}\n`,
  );
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}.passed{color:#2b8a3e}.failed,.not-run{color:#e03131}.skipped{color:#868e96}</style></head><body>
<h1>${escapeHtml(title)}</h1><p>Wall ${(matrix.durationMs / 1000).toFixed(0)} s, ${matrix.parallel} at once.</p>
${Object.entries(matrix.errors)
  .map(([l, e]) => `<p class="failed">${escapeHtml(l)} could not be checked: ${escapeHtml(e)}</p>`)
  .join('')}
<table><tr><th>lab</th><th>check</th><th>status</th><th>figures</th><th>time</th></tr>${rows.map((r) => `<tr><td>${escapeHtml(r.lab)}</td><td><code>${r.check}</code></td><td class="${r.status}">${r.status}</td><td>${escapeHtml(r.figures)}</td><td>${r.seconds} s</td></tr>`).join('')}</table>
<ul>${matrix.runs.map((r) => `<li>${escapeHtml(r.label)}: <a href="${escapeHtml(join(r.reports, 'report.html'))}">report</a></li>`).join('')}</ul></body></html>`;
  writeFileSync(join(dir, 'summary.html'), html);
}
