import { existsSync, readFileSync } from 'fs';
import type { GateEvent } from './gate';
import { gateUsage, machineShares } from './gate';

/**
 * `node dist/harness/gate-usage.js <trace> [shares]`: how busy the machine gate kept this machine
 * over a run whose processes had CARBON_LABS_GATE_TRACE=<trace> (make test writes
 * reports/legs/gate.jsonl): Markdown lines for the legs' table. Where the lanes' wall time goes.
 */
function main(argv: readonly string[]): number {
  const [file, sharesArg] = argv;
  if (!file) {
    process.stderr.write('usage: gate-usage <trace.jsonl> [shares]\n');
    return 2;
  }
  if (!existsSync(file)) {
    process.stdout.write(`(no gate trace at ${file}: nothing took a share of the machine)\n`);
    return 0;
  }
  const events = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as GateEvent);
  const u = gateUsage(events, sharesArg ? Number(sharesArg) : machineShares());
  const lines = [
    '',
    `The machine gate over ${u.wallS} s (${u.shares} shares): ${Math.round(u.busy * 100)} % of its share-seconds held; ` +
      Object.entries(u.secondsHolding)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([level, s]) => `${level} held ${s} s`)
        .join(', ') +
      `; ${u.waitedWithRoomS} s with a request waiting although there was room for it (behind a whole-machine check); ${u.backfilled} holds passed an earlier request.`,
    '',
    '| held by | share-seconds | holds |',
    '|---|---|---|',
    ...u.byWhat.map((w) => `| ${w.what} | ${w.shareSeconds} | ${w.holds} |`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

process.exitCode = main(process.argv.slice(2));
