import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { CheckResult } from '../check';
import { figureTables, markdownTable } from './figures';
import { CHECKS } from '../checks';
import type { ConformanceRun } from '../conformance';
import { propagationSvg, timelineSvg } from './plots';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `image (id) for service, service; …` */
function byImage(images: Readonly<Record<string, string>>): string {
  const groups = new Map<string, string[]>();
  for (const [service, image] of Object.entries(images)) groups.set(image, [...(groups.get(image) ?? []), service]);
  return [...groups].map(([image, services]) => `${image} for ${services.join(', ')}`).join('; ') || 'none seen';
}

/** The figures a reader looks for first: each check's own headline. */
export function headline(r: CheckResult): string {
  if (r.status === 'skipped') return `skipped: ${r.reason}`;
  return CHECKS.find((c) => c.id === r.id)?.headline(r.figures) ?? '';
}

/** Writes results.json, report.md (with SVG plots beside it) and report.html into `dir`. */
export async function writeReports(run: ConformanceRun, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(run, null, 2)}\n`);
  const plots: { file: string; svg: string }[] = [];
  for (const r of run.checks) {
    const timeline = await timelineSvg(r);
    if (timeline) plots.push({ file: `${r.id}-timeline.svg`, svg: timeline });
    const propagation = r.id === 'artifacts-propagate' ? await propagationSvg(r) : undefined;
    if (propagation) plots.push({ file: `${r.id}.svg`, svg: propagation });
  }
  for (const p of plots) writeFileSync(join(dir, p.file), p.svg);

  const passed = run.checks.filter((c) => c.status === 'passed').length;
  const md = [
    `# Conformance: ${run.product}, pattern ${run.pattern}${onSwarm(run)} — ${run.verdict.toUpperCase()}`,
    '',
    `${passed} of ${run.checks.length} checks passed in ${(run.durationMs / 1000).toFixed(1)} s (lab ${run.project}: ${run.managers} manager${run.managers === 1 ? "" : "s"}, ${run.workers} worker${run.workers === 1 ? "" : "s"}; started ${run.startedAt}, up in ${run.labStartSeconds.toFixed(1)} s).`,
    '',
    `Made by carbon-labs ${run.provenance.commit ?? '(no git)'} on Docker ${run.provenance.engine ?? '?'}, Compose ${run.provenance.compose ?? '?'}; images: ${byImage(run.provenance.images)}.`,
    '',
    '## Bounds of this lab',
    '', '| bound | value |', '|---|---|',
    ...Object.entries(run.bounds).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Checks',
    '', '| check | status | figures | time |', '|---|---|---|---|',
    ...run.checks.map((c) => `| \`${c.id}\` | ${c.status} | ${headline(c)} | ${(c.durationMs / 1000).toFixed(1)} s |`),
    '',
    ...run.checks.flatMap((c) => [
      `### ${c.id}: ${c.status}`, '', c.title, '',
      ...(c.reason && c.status === 'failed' ? ['**Failure:** ' + c.reason, ''] : []),
      ...figureTables(c.figures).flatMap((t) => [...(t.title === 'figures' ? [] : [`**${t.title}**`, '']), ...markdownTable(t), '']),
      ...plots.filter((p) => p.file.startsWith(c.id)).map((p) => `![${c.id}](${p.file})\n`),
      ...(c.status === 'failed' ? ['<details><summary>evidence</summary>', '', '```', ...c.evidence.slice(-20), '```', '</details>', ''] : []),
    ]),
  ].join('\n');
  writeFileSync(join(dir, 'report.md'), `${md}\n`);

  const html = `<!doctype html><html><head><meta charset="utf-8"><title>carbon-labs conformance ${run.product} pattern ${run.pattern}</title>
<style>body{font:14px system-ui,sans-serif;max-width:980px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.passed{color:#2b8a3e}.failed{color:#e03131}.skipped{color:#868e96}code{font-size:12px}pre{white-space:pre-wrap;font-size:12px}</style></head><body>
<h1>Conformance: ${run.product}, pattern ${run.pattern}${onSwarm(run)} — <span class="${run.verdict}">${run.verdict.toUpperCase()}</span></h1>
<p>${passed} of ${run.checks.length} checks passed in ${(run.durationMs / 1000).toFixed(1)} s. Lab ${run.project}, up in ${run.labStartSeconds.toFixed(1)} s.</p>
<h2>Bounds</h2><table>${Object.entries(run.bounds).map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(String(v))}</td></tr>`).join('')}</table>
<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>figures</th></tr>${run.checks.map((c) => `<tr><td><code>${c.id}</code></td><td class="${c.status}">${c.status}</td><td>${escapeHtml(headline(c))}</td></tr>`).join('')}</table>
${run.checks.map((c) => `<h3>${c.id} <span class="${c.status}">${c.status}</span></h3><p>${escapeHtml(c.title)}</p>
${c.status === 'failed' ? `<p class="failed">${escapeHtml(c.reason ?? '')}</p>` : ''}
${figureTables(c.figures).map((t) => `${t.title === 'figures' ? '' : `<h4>${escapeHtml(t.title)}</h4>`}<table><tr>${t.columns.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${t.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</table>`).join('\n')}
${plots.filter((p) => p.file.startsWith(c.id)).map((p) => p.svg).join('\n')}
${c.status === 'failed' ? `<details><summary>evidence</summary><pre>${escapeHtml(c.evidence.slice(-20).join('\n'))}</pre></details>` : ''}`).join('\n')}
</body></html>`;
  writeFileSync(join(dir, 'report.html'), html);
}

/** How a report's title says a lab ran as a swarm stack (nothing for a compose lab). */
function onSwarm(run: ConformanceRun): string {
  return run.target === 'swarm' ? `, as a swarm stack (${run.provenance.swarmNodes ?? '?'} node${run.provenance.swarmNodes === 1 ? '' : 's'})` : '';
}
