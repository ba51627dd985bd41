/** The options every command on one lab takes, and each command's examples for its `--help`. */
import type { Command } from 'commander';
import { LabError } from '../errors';
import type { PatternId } from '../model/lab';
import { PATTERN_IDS } from '../model/lab';
import { parseLabName, parseManagers, parsePattern, parseWorkers, WORKER_COUNTS } from '../patterns';
import { DEFAULT_PRODUCT, PRODUCTS } from '../products';
import { BOOT_SECONDS, parseBootSeconds, parsePaceName } from '../products/pace';
import { parseTarget } from '../runtime/swarm';
import { AUTO_PRODUCT } from './lab-ref';

/** `a, b,c` as `['a', 'b', 'c']`: the CLI's comma-separated lists. */
export const commaList = (value: string) =>
  value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The products, as the options name them: real ones with their stand-ins. */
export const PRODUCT_CHOICES = `${DEFAULT_PRODUCT} (real image), ${Object.values(PRODUCTS)
  .filter((p) => p.pulled && p.id !== DEFAULT_PRODUCT)
  .map((p) => p.id)
  .join(', ')}, their stand-ins ${Object.values(PRODUCTS)
  .filter((p) => !p.pulled)
  .map((p) => p.id)
  .join(', ')}`;

/**
 * `--pattern` of a command on several labs (conformance): `all`, or patterns comma-separated.
 * `all` is kept as said, as the summary's folder names it.
 */
export interface PatternList {
  readonly ids: readonly PatternId[];
  readonly all: boolean;
}

export function parsePatternList(value: string): PatternList {
  if (value.trim() === 'all') return { ids: PATTERN_IDS, all: true };
  const ids = commaList(value).map(parsePattern);
  if (!ids.length)
    throw new LabError(`PATTERN must be 1, 2 or 3, several comma-separated, or all (got "${value}")`, 'make conformance PATTERN=all');
  return { ids: [...new Set(ids)], all: false };
}

/**
 * The options every command that addresses one lab takes, each parsed at the edge into its type
 * (a bad value is refused before the command runs, in one line naming the fix). `patterns`:
 * `several` for a command that checks several labs (`--pattern all`, `--pattern 2,3`).
 */
export function labOptions(command: Command, patterns: 'one' | 'several' = 'one'): Command {
  return (
    patterns === 'one'
      ? command.option('--pattern <n>', 'clustering pattern: 1, 2 or 3 (a named lab remembers its own)', (v: string) => parsePattern(v))
      : command.option(
          '--pattern <n>',
          'clustering pattern: 1, 2 or 3, several comma-separated (2,3), or all: several labs side by side (a named lab remembers its own)',
          parsePatternList,
        )
  )
    .option(
      '--product <id>',
      `${PRODUCT_CHOICES}, or ${AUTO_PRODUCT} (the default, as make's: ${DEFAULT_PRODUCT} when its image can be had, else sim; a named lab resolves it once)`,
    )
    .option(
      '--name <name>',
      'a named lab: its own project, subnets and host ports, so several run side by side (folder labs/local/<name>)',
      parseLabName,
    )
    .option('--out <dir>', 'lab folder (default labs/<product>/pattern-<n>, or labs/local/<name>)')
    .option(
      '--workers <n>',
      `workers, ${WORKER_COUNTS.min} to ${WORKER_COUNTS.max} (default ${WORKER_COUNTS.default}; recorded in the lab: a named lab keeps its own, the commands after up check it)`,
      (v: string) => parseWorkers(v),
    )
    .option(
      '--managers <n>',
      "managers: 1 on pattern 1, 2 on pattern 2, 1 or 2 on pattern 3 (default the pattern's; recorded like --workers)",
      (v: string) => parseManagers(v),
    )
    .option(
      '--pace <pace>',
      "a stand-in's pace: native (its own, the default) or jvm (nothing listens for WSO2's boot time after each start, and the real product's timing judges it; recorded like --workers)",
      parsePaceName,
    )
    .option(
      '--boot-seconds <n>',
      `with --pace jvm: every node boots in N seconds (${BOOT_SECONDS.min}–${BOOT_SECONDS.max}) instead of WSO2's figures`,
      parseBootSeconds,
    );
}

/** `--parallel N`: how many labs at once, a whole number ≥ 1. */
export function parseParallel(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new LabError(`PARALLEL must be a whole number ≥ 1 (got "${value}")`, 'make conformance PATTERN=all PARALLEL=2');
  return n;
}

/** `--target compose|swarm` (compose by default), parsed as the other lab options are. */
export function targetOption(command: Command, description: string): Command {
  return command.option('--target <target>', description, parseTarget, 'compose');
}

/** Each command's examples, shown at the end of its `--help` (kind and docker compose show theirs). */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  generate: [
    'carbon-labs generate --pattern 3 --product sim',
    'carbon-labs generate --pattern 2 --product apim-4.7.0 --workers 3 --out ./my-lab',
    'carbon-labs generate --pattern 3 --target swarm',
    'carbon-labs generate --all    (every committed lab, as make labs)',
  ],
  up: [
    'carbon-labs up --pattern 3 --product sim',
    'carbon-labs up --pattern 1 --product sim --name a    (a second lab beside the first)',
    "carbon-labs up --pattern 3 --product sim --pace jvm    (the product's boot times)",
    'carbon-labs up --pattern 3 --target swarm',
  ],
  down: ['carbon-labs down --pattern 3 --product sim', 'carbon-labs down --name a', 'carbon-labs down --all'],
  stop: ['carbon-labs stop --pattern 3 --product sim', 'carbon-labs stop --name a'],
  start: ['carbon-labs start --pattern 3 --product sim', 'carbon-labs start --name a'],
  export: [
    'carbon-labs export --pattern 3 --product sim',
    'carbon-labs export --name a /tmp/bundles',
    'carbon-labs export --pattern 2 --product sim lab.tar.gz',
  ],
  status: ['carbon-labs status --pattern 3 --product sim', 'carbon-labs status --name a --json'],
  logs: ['carbon-labs logs --pattern 3 --product sim manager-1', 'carbon-labs logs --pattern 3 --product sim worker-2 -f --tail 50'],
  exec: [
    'carbon-labs exec --pattern 3 --product sim manager-1',
    'carbon-labs exec --pattern 3 --product sim db mysql -uroot -proot -e "SHOW DATABASES"',
  ],
  conformance: [
    'carbon-labs conformance --pattern 3 --product sim',
    'carbon-labs conformance --pattern all --product sim',
    'carbon-labs conformance --pattern 2 --product sim --check managers-fail-over',
    'carbon-labs conformance --pattern 3 --product sim,sim-apim-4.7.0',
  ],
  results: [
    'carbon-labs results --pattern 3 --product sim',
    'carbon-labs results --pattern 3 --product sim --compare reports/sim/pattern-3/runs/<time>',
  ],
};

export function labCommand(program: Command, name: string, description: string, patterns: 'one' | 'several' = 'one'): Command {
  const command = labOptions(program.command(name).description(description), patterns);
  const examples = EXAMPLES[name];
  return examples ? command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`) : command;
}
