import { readContainerLogs } from '../../generator/runtime/engine';
import type { ProductSpec } from '../../generator/products/product';
import { Check, CheckContext, CheckFailure, planOf } from '../check';

/**
 * A Carbon log line at ERROR: its level right after the time (`[time] ERROR {Class} - …`; Carbon
 * 4.4's file format puts `TID: [tenant] [] ` first), or the stand-in's own `ERROR {sim}`. The word
 * inside a message at another level does not count.
 */
const ERROR_LINE = /^(?:TID: \[[^\]]*\] \[[^\]]*\] )?(?:\[[^\]]+\]\s+)?ERROR\s+\{/;
/** Lines of a node's log read at most (a node's whole life in a lab). */
const MAX_LINES = 200_000;
/** Lines of each offender shown in the verdict. */
const SHOWN = 3;

/** A node's ERROR lines that the product's allow-list does not excuse. */
export function unexpectedErrors(log: string, product: Pick<ProductSpec, 'allowedErrors'>): string[] {
  return log.split('\n').filter((line) => ERROR_LINE.test(line) && !(product.allowedErrors ?? []).some((a) => a.match.test(line)));
}

export type LogFigures = {
  nodes: number;
  linesRead: number;
  errorLines: number;
  allowedLines: number;
  silentNodes: number;
  /** Each node with ERROR lines its product does not allow: how many, and the first few (shortened). */
  offenders: Record<string, { lines: number; shown: string[] }>;
};

/**
 * WSO2's own integration tests fail on unexpected ERROR lines in the server logs: so does this
 * check, on every product node, over what the harness watched (from before a lab it started, or
 * from when it found the lab running). In a run it comes after the checks that change nothing but
 * the lab's content and before those that break nodes on purpose, whose errors are the point.
 */
export const logsClean: Check<LogFigures> = {
  id: 'logs-clean',
  title: "No product node logs an ERROR line outside its product's allow-list (each entry with its reason), while the lab boots and serves",
  headline: (f) =>
    `${f.errorLines ?? '?'} ERROR lines (${f.allowedLines ?? '?'} allowed) in ${f.linesRead ?? '?'} lines of ${f.nodes ?? '?'} nodes${f.silentNodes ? ` (${f.silentNodes} said nothing)` : ''}`,
  plan: (lab) =>
    planOf({
      floorMs: 0,
      workMs: 1_000,
      requestTimeoutMs: lab.product.timing.requestTimeoutMs,
      why: `${lab.nodes.length} nodes' logs read`,
    }),
  async run(ctx: CheckContext<LogFigures>) {
    const { lab } = ctx;
    // A log that cannot be read is no evidence of a clean node: the check fails and says whose.
    // Anything but text is a failed read: an engine that does not answer fails with an error of
    // Node's own realm, which is no `instanceof Error` where the check runs in a sandbox (Jest).
    const read = await Promise.all(
      lab.lab.nodes.map(
        async (n) =>
          [
            n.name,
            await readContainerLogs(await lab.container(n.name), MAX_LINES, undefined, lab.since).catch((err: unknown) => err),
          ] as const,
      ),
    );
    const unreadable = read.filter((r): r is readonly [string, Error] => typeof r[1] !== 'string');
    if (unreadable.length)
      throw new CheckFailure(
        `could not read the logs of ${unreadable.map(([n, err]) => `${n} (${err.message.slice(0, 150)})`).join(', ')}: their ERROR lines cannot be judged`,
        unreadable.map(([n]) => n),
      );
    const logs = read as readonly (readonly [string, string])[];
    const offenders = logs
      .map(([node, text]) => [node, unexpectedErrors(text, lab.lab.product)] as const)
      .filter(([, lines]) => lines.length);
    const all = logs.reduce((sum, [, text]) => sum + text.split('\n').filter((l) => ERROR_LINE.test(l)).length, 0);
    const unexpected = offenders.reduce((sum, [, lines]) => sum + lines.length, 0);
    // A node with no line since then (nothing happened to it) proves nothing either way: said, with the count.
    const silent = logs.filter(([, t]) => !t.trim()).map(([n]) => n);
    Object.assign(ctx.figures, {
      nodes: logs.length,
      linesRead: logs.reduce((sum, [, t]) => sum + t.split('\n').filter(Boolean).length, 0),
      errorLines: unexpected,
      allowedLines: all - unexpected,
      silentNodes: silent.length,
      offenders: Object.fromEntries(
        offenders.map(([node, lines]) => [
          node,
          { lines: lines.length, shown: lines.slice(0, SHOWN).map((l) => l.replace(/^.*?\bERROR\s+/, 'ERROR ').slice(0, 200)) },
        ]),
      ),
    });
    ctx.evidence.push(
      `read from ${new Date(lab.since).toISOString()}: ${logs.map(([n, t]) => `${n} ${t.split('\n').filter(Boolean).length} lines`).join(', ')}${silent.length ? `; no line from ${silent.join(', ')}` : ''}`,
    );
    for (const [node, lines] of offenders) ctx.evidence.push(`${node}:\n${lines.join('\n')}`);
  },
  problems: (f) =>
    Object.keys(f.offenders).length
      ? [
          `ERROR lines in the logs: ${Object.entries(f.offenders)
            .map(([node, o]) => `${node} (${o.lines}): ${o.shown.join(' | ')}`)
            .join('; ')}`,
        ]
      : [],
  suspects: (f) => Object.keys(f.offenders),
};
