import * as vega from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';
import type { CheckResult } from '../check';
import { figuresOf } from '../check';
import { artifactsPropagate } from '../checks/artifacts-propagate';

async function svg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/** Each request's outcome over time, one panel per fault in the order they were applied, the fault as a red rule. */
export async function timelineSvg(result: CheckResult): Promise<string | undefined> {
  if (!result.timelines.length) return undefined;
  const values = result.timelines.flatMap((tl) =>
    tl.points.map((p) => ({ ...p, fault: tl.name, seconds: (p.t - tl.faultAt) / 1000, outcome: p.ok ? 'ok' : 'failed' })),
  );
  return svg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${result.id}: requests around the fault (t = 0)`,
    data: { values },
    // Vega-Lite sorts panels by name unless told: keep the run order (stop, kill, pause, ...).
    facet: { row: { field: 'fault', type: 'nominal', title: null, sort: result.timelines.map((tl) => tl.name) } },
    spec: {
      width: 640,
      height: 140,
      layer: [
        {
          mark: { type: 'point', filled: true, size: 28 },
          encoding: {
            x: { field: 'seconds', type: 'quantitative', title: 'seconds from the fault' },
            y: { field: 'ms', type: 'quantitative', title: 'latency (ms)', scale: { type: 'symlog' } },
            color: { field: 'outcome', type: 'nominal', scale: { domain: ['ok', 'failed'], range: ['#2b8a3e', '#e03131'] } },
            shape: { field: 'method', type: 'nominal' },
          },
        },
        {
          mark: { type: 'rule', color: '#e03131', strokeDash: [4, 3] },
          data: { values: [{ seconds: 0 }] },
          encoding: { x: { field: 'seconds', type: 'quantitative' } },
        },
      ],
    },
  } as TopLevelSpec);
}

/** Deploy → first 200, per worker and through the worker balancer. */
export async function propagationSvg(result: CheckResult): Promise<string | undefined> {
  const perTarget = figuresOf([result], artifactsPropagate)?.perTargetMs;
  if (!perTarget) return undefined;
  const values = Object.entries(perTarget).flatMap(([target, list]) => list.map((ms, i) => ({ target, ms, api: i + 1 })));
  return svg({
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'artifacts-propagate: deploy → first 200',
    width: 420,
    height: 180,
    data: { values },
    mark: { type: 'tick', thickness: 2, size: 24 },
    encoding: {
      y: { field: 'target', type: 'nominal', title: null },
      x: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
      color: { field: 'target', type: 'nominal', legend: null },
    },
  } as TopLevelSpec);
}
