import { mkdirSync, writeFileSync } from 'fs';
import { VERSION } from '../../generator/paths';
import { join } from 'path';
import type { CheckResult } from '../check';
import { figureTables, markdownTable } from './figures';
import { CHECKS } from '../checks';
import type { ConformanceRun } from '../conformance';
import { propagationSvg, timelineSvg } from './plots';
import { numericFigures } from './history';

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
  if (r.status === 'not-run') return `not run: ${r.reason}`;
  return CHECKS.find((c) => c.id === r.id)?.headline(r.figures) ?? '';
}

/**
 * One line per check that failed or could not run, with its reason: printed last, so that the tail
 * of a long log (all CI keeps of it) says what failed and why, not only that something did.
 */
export function whatFailed(run: Pick<ConformanceRun, 'checks'>, maxReason = 600): string[] {
  return run.checks
    .filter((c) => c.status === 'failed' || c.status === 'not-run')
    .map((c) => `${c.status === 'failed' ? 'FAILED' : 'not run'}: ${c.id}: ${(c.reason ?? 'no reason recorded').slice(0, maxReason)}`);
}

const state = (run: ConformanceRun) => (run.complete ? run.verdict.toUpperCase() : `${run.verdict.toUpperCase()} SO FAR, INCOMPLETE`);

/** The version of the shape of results.json (raised when a field changes meaning or goes). */
export const RESULTS_SCHEMA_VERSION = 1;

/** results.json: the run, with the version of its shape and of the carbon-labs that made it first. */
export function resultsJson(run: ConformanceRun): string {
  return `${JSON.stringify({ schemaVersion: RESULTS_SCHEMA_VERSION, carbonLabs: { version: VERSION, commit: run.provenance.commit }, ...run }, null, 2)}\n`;
}

/** Writes results.json, junit.xml, report.md (with SVG plots beside it) and report.html into `dir`. */
export async function writeReports(run: ConformanceRun, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), resultsJson(run));
  writeFileSync(join(dir, 'junit.xml'), junitXml(run));
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
    `# Conformance: ${run.product}, pattern ${run.pattern}${onSwarm(run)}${paced(run)} — ${state(run)}`,
    '',
    ...(run.complete ? [] : ['**This run is not complete** (it goes on, or was interrupted): the checks below are those that ended.', '']),
    `${passed} of ${run.checks.length} checks passed in ${(run.durationMs / 1000).toFixed(1)} s, expected about ${(run.expectedMs / 1000).toFixed(0)} s, at most ${(run.deadlineMs / 1000).toFixed(0)} s (lab ${run.project}: ${run.managers} manager${run.managers === 1 ? '' : 's'}, ${run.workers} worker${run.workers === 1 ? '' : 's'}; started ${run.startedAt}, up in ${run.labStartSeconds.toFixed(1)} s).`,
    '',
    `Made by carbon-labs ${run.provenance.commit ?? '(no git)'} on Docker ${run.provenance.engine ?? '?'}, Compose ${run.provenance.compose ?? '?'}; images: ${byImage(run.provenance.images)}.`,
    '',
    ...(placementLine(run) ? [placementLine(run)!, ''] : []),
    '## Bounds of this lab',
    '',
    '| bound | value |',
    '|---|---|',
    ...Object.entries(run.bounds).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '## Checks',
    '',
    '| check | status | figures | time | expected / deadline |',
    '|---|---|---|---|---|',
    ...run.checks.map(
      (c) =>
        `| \`${c.id}\` | ${c.status} | ${headline(c).replace(/\|/g, '/')} | ${(c.durationMs / 1000).toFixed(1)} s | ${c.plan ? `${(c.plan.expectedMs / 1000).toFixed(0)} / ${(c.plan.deadlineMs / 1000).toFixed(0)} s` : '—'} |`,
    ),
    '',
    ...run.checks.flatMap((c) => [
      `### ${c.id}: ${c.status}`,
      '',
      c.title,
      '',
      ...(c.reason && c.status === 'failed' ? ['**Failure:** ' + c.reason, ''] : []),
      ...(c.reason && c.status === 'not-run' ? ['**Not run:** ' + c.reason, ''] : []),
      ...(c.plan
        ? [
            `Planned: about ${(c.plan.expectedMs / 1000).toFixed(0)} s, deadline ${(c.plan.deadlineMs / 1000).toFixed(0)} s (${c.plan.why}).`,
            '',
          ]
        : []),
      ...figureTables(c.figures).flatMap((t) => [...(t.title === 'figures' ? [] : [`**${t.title}**`, '']), ...markdownTable(t), '']),
      ...plots.filter((p) => p.file.startsWith(c.id)).map((p) => `![${c.id}](${p.file})\n`),
      ...(c.status === 'failed'
        ? ['<details><summary>evidence</summary>', '', '```', ...c.evidence.slice(-20), '```', '</details>', '']
        : []),
    ]),
  ].join('\n');
  writeFileSync(join(dir, 'report.md'), `${md}\n`);

  const html = `<!doctype html><html><head><meta charset="utf-8"><title>carbon-labs conformance ${run.product} pattern ${run.pattern}</title>
<style>body{font:14px system-ui,sans-serif;max-width:980px;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.passed{color:#2b8a3e}.failed{color:#e03131}.skipped{color:#868e96}code{font-size:12px}pre{white-space:pre-wrap;font-size:12px}</style></head><body>
<h1>Conformance: ${run.product}, pattern ${run.pattern}${onSwarm(run)}${paced(run)} — <span class="${run.verdict}">${state(run)}</span></h1>
<p>${passed} of ${run.checks.length} checks passed in ${(run.durationMs / 1000).toFixed(1)} s. Lab ${run.project}, up in ${run.labStartSeconds.toFixed(1)} s.</p>${placementLine(run) ? `<p>${escapeHtml(placementLine(run)!)}</p>` : ''}
<h2>Bounds</h2><table>${Object.entries(run.bounds)
    .map(([k, v]) => `<tr><th>${k}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join('')}</table>
<h2>Checks</h2><table><tr><th>check</th><th>status</th><th>figures</th></tr>${run.checks.map((c) => `<tr><td><code>${c.id}</code></td><td class="${c.status}">${c.status}</td><td>${escapeHtml(headline(c))}</td></tr>`).join('')}</table>
${run.checks
  .map(
    (c) => `<h3>${c.id} <span class="${c.status}">${c.status}</span></h3><p>${escapeHtml(c.title)}</p>
${c.status === 'failed' ? `<p class="failed">${escapeHtml(c.reason ?? '')}</p>` : ''}
${figureTables(c.figures)
  .map(
    (t) =>
      `${t.title === 'figures' ? '' : `<h4>${escapeHtml(t.title)}</h4>`}<table><tr>${t.columns.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${t.rows.map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`).join('')}</table>`,
  )
  .join('\n')}
${plots
  .filter((p) => p.file.startsWith(c.id))
  .map((p) => p.svg)
  .join('\n')}
${c.status === 'failed' ? `<details><summary>evidence</summary><pre>${escapeHtml(c.evidence.slice(-20).join('\n'))}</pre></details>` : ''}`,
  )
  .join('\n')}
</body></html>`;
  writeFileSync(join(dir, 'report.html'), html);
}

/** How a report's title says a stand-in ran at a JVM's pace (nothing at its own). */
function paced(run: ConformanceRun): string {
  return run.pace === 'native' ? '' : `, at ${run.pace} pace`;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * JUnit XML of a run, one test case per check: failed ones with their reason and evidence, skipped
 * and not-run ones with their reason, and each with its headline figures as properties (so a CI
 * dashboard shows the RTO, not only pass or fail).
 */
export function junitXml(run: ConformanceRun): string {
  const name = `conformance ${run.product} pattern ${run.pattern}${run.target === 'swarm' ? ' (swarm)' : ''}${run.pace === 'native' ? '' : ` (${run.pace} pace)`}`;
  const failures = run.checks.filter((c) => c.status === 'failed').length;
  const skipped = run.checks.filter((c) => c.status === 'skipped' || c.status === 'not-run').length;
  const cases = run.checks.map((c) => {
    // Every numeric figure as a property (`figure.stop.rtoMs`), for dashboards that read JUnit only.
    const props = [
      ['status', c.status],
      ['headline', headline(c)],
      ...(c.plan
        ? [
            ['expectedSeconds', (c.plan.expectedMs / 1000).toFixed(0)],
            ['deadlineSeconds', (c.plan.deadlineMs / 1000).toFixed(0)],
          ]
        : []),
      ...Object.entries(numericFigures(c.figures)).map(([k, v]) => [`figure.${k}`, String(v)]),
    ];
    const body = [
      `<properties>${props.map(([k, v]) => `<property name="${k}" value="${xml(v)}"/>`).join('')}</properties>`,
      c.status === 'failed'
        ? `<failure message="${xml((c.reason ?? '').slice(0, 500))}">${xml(c.evidence.slice(-20).join('\n'))}</failure>`
        : '',
      c.status === 'skipped' || c.status === 'not-run'
        ? `<skipped message="${xml(`${c.status === 'not-run' ? 'not run: ' : ''}${c.reason ?? ''}`)}"/>`
        : '',
    ].join('');
    return `    <testcase classname="${xml(name)}" name="${xml(c.id)}" time="${(c.durationMs / 1000).toFixed(3)}">${body}</testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="${xml(name)}" tests="${run.checks.length}" failures="${failures}" skipped="${skipped}" time="${(run.durationMs / 1000).toFixed(3)}" timestamp="${run.startedAt}">\n${cases.join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** How a report's title says a lab ran as a swarm stack (nothing for a compose lab). */
function onSwarm(run: ConformanceRun): string {
  return run.target === 'swarm'
    ? `, as a swarm stack (${run.provenance.swarmNodes ?? '?'} node${run.provenance.swarmNodes === 1 ? '' : 's'})`
    : '';
}

/** For a stack: its services by the swarm node they ran on (`host-1: lb-manager, manager-1; host-3: db`). */
export function placementLine(run: Pick<ConformanceRun, 'provenance'>): string | undefined {
  const placement = run.provenance.placement;
  if (!placement || Object.keys(placement).length === 0) return undefined;
  const byNode = new Map<string, string[]>();
  for (const [service, node] of Object.entries(placement)) byNode.set(node, [...(byNode.get(node) ?? []), service]);
  const nodes = [...byNode.keys()].sort();
  return `Placement on ${nodes.length} swarm node${nodes.length === 1 ? '' : 's'}: ${nodes.map((n) => `${n}: ${byNode.get(n)!.sort().join(', ')}`).join('; ')}.`;
}
