#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { startupBudgetSeconds } from './model/start-order';
import { existsSync, realpathSync } from 'fs';
import { join, resolve } from 'path';
import { PROJECT_ROOT, RUNS, VERSION } from './paths';
import { ChecksFailed, LabError } from './errors';
import type { LabScale, LabSpec } from './model/lab';
import { cliLabArgs, makeArgs, managers, NAMED_SLOTS, PATTERN_IDS, scaleArgs, workers } from './model/lab';
import type { PatternProps } from './patterns';
import { buildLab, labInDir, parseLabName, parseManagers, parsePattern, parseWorkers, WORKER_COUNTS } from './patterns';
import { DEFAULT_PRODUCT, PRODUCTS, resolveProduct } from './products';
import { isClassic, productImages } from './products/product';
import { BOOT_SECONDS, paceFromName, parsePace, withPace } from './products/pace';
import { ensureImages } from './runtime/images';
import { exportLab, FAILURE_EXPORT } from './runtime/export';
import {
  ContainerState,
  provideDrivers,
  refuseWithoutDriver,
  downLab,
  downProject,
  labContainers,
  labDirOf,
  labProjects,
  labRunning,
  labEndpoints,
  labUrls,
  longRunningServices,
  oneShot,
  readLabEnv,
  resumeLab,
  stopLab,
  upLab,
} from './runtime/lab';
import { dockerAvailable, imagePresent, requireDocker, tryPull } from './runtime/docker';
import { run, runAttached } from './runtime/exec';
import { MANIFEST, readLabIdentity, readLabScale, synthLab } from './synth/writer';
import { allocateSlot, claimSlot } from './runtime/slots';
import { downStack, parseTarget, stackExists, upStack } from './runtime/swarm';
import type { Target } from './runtime/swarm';
import { speak } from './hints';
import { table } from './table';
import { completionScript } from './completion';

const AUTO_PRODUCT = 'auto';
/** Diagnostics and progress go to stderr; data (URLs, states, JSON) to stdout. */
/** The command the user named: an error's fix names it again (hints in the CLI's words). */
let askedCommand: string | undefined;
const log = (line: string) => process.stderr.write(`carbon-labs: ${speak(line)}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);

interface LabOptions {
  pattern?: string;
  product?: string;
  out?: string;
  force?: boolean;
  name?: string;
  workers?: string;
  managers?: string;
  target?: string;
  pace?: string;
  bootSeconds?: string;
}

/** Where named labs live unless `--out` says otherwise (git-ignored). */
const LOCAL_LABS = join('labs', 'local');

/**
 * An unnamed lab's folder: `labs/<product>/pattern-<n>`, committed; at a JVM's pace
 * `pattern-<n>-<pace>` (not committed), so a paced lab never rewrites the committed one.
 */
export function labDir(lab: LabSpec, out?: string): string {
  return resolve(out ?? `labs/${lab.product.id}/pattern-${lab.pattern}${paceSuffix(lab)}`);
}

/** `-<pace>` of a lab at a JVM's pace (its folder, its reports), nothing at the stand-in's own. */
const paceSuffix = (lab: LabSpec) => (lab.product.pace ? `-${lab.product.pace.name}` : '');

/** `a, b,c` as `['a', 'b', 'c']`: the CLI's comma-separated lists. */
const commaList = (value: string) =>
  value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * `auto` (the Makefile's default): the real product where its image is here or can be pulled,
 * otherwise the stand-in, said in one line.
 */
async function chooseProduct(id: string, canPull: boolean): Promise<string> {
  if (id !== AUTO_PRODUCT) return id;
  const real = resolveProduct(DEFAULT_PRODUCT);
  const images = productImages(real);
  if (
    (await dockerAvailable()) &&
    (await everyImage(images, async (image) => (await imagePresent(image)) || (canPull && (await tryPull(image)))))
  )
    return real.id;
  log(`${images.join(', ')} is not available here (no registry): using the stand-in product "sim". Set PRODUCT=${real.id} to insist.`);
  return 'sim';
}

async function everyImage(images: readonly string[], has: (image: string) => Promise<boolean>): Promise<boolean> {
  for (const image of images) if (!(await has(image))) return false;
  return true;
}

/** The node counts the user gave (`--workers`, `--managers`), each within the bounds every pattern shares. */
function askedScale(o: LabOptions): LabScale {
  return {
    ...(o.workers === undefined ? {} : { workers: parseWorkers(o.workers) }),
    ...(o.managers === undefined ? {} : { managers: parseManagers(o.managers) }),
  };
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
const sizeOf = (lab: LabSpec) => `${plural(workers(lab).length, 'worker')} and ${plural(managers(lab).length, 'manager')}`;

/**
 * The lab as it was made, for the commands that act on one (status, down, logs, exec,
 * conformance): its recorded scale; a count the user gave that differs is an error, not a resize.
 */
function asMade(
  pattern: LabSpec['pattern'],
  props: Omit<PatternProps, keyof LabScale>,
  recorded: LabScale,
  asked: LabScale,
  dir: string,
): LabSpec {
  const lab = buildLab(pattern, { ...props, ...recorded });
  const resized = buildLab(pattern, { ...props, ...recorded, ...asked });
  if (sizeOf(lab) !== sizeOf(resized)) {
    throw new LabError(
      `${lab.project} (${dir}) has ${sizeOf(lab)}, not ${sizeOf(resized)}`,
      `leave WORKERS and MANAGERS out (a lab remembers its size), or resize it: make down ${makeArgs(lab)}, then make lab ${makeArgs(resized)}`,
    );
  }
  return lab;
}

/**
 * The lab a command means. Unnamed: one per product and pattern, in labs/<product>/pattern-<n>.
 * Named (`--name`): its own folder (labs/local/<name>), project, subnets and host ports; once
 * generated, its pattern, product (`auto` resolved once) and slot are read back from its manifest.
 * Its size: `generate`/`up` make the one asked (a named lab keeps its own unless asked), the other
 * commands read it from the lab's manifest.
 */
async function resolveLab(
  o: LabOptions,
  mode: { create?: boolean; createNamed?: boolean; canPull?: boolean } = {},
): Promise<{ lab: LabSpec; dir: string }> {
  const pattern = o.pattern === undefined ? undefined : parsePattern(o.pattern);
  const asked = askedScale(o);
  if (o.name) {
    const name = parseLabName(o.name);
    const dir = resolve(o.out ?? join(LOCAL_LABS, name));
    if (existsSync(join(dir, MANIFEST))) {
      const known = readLabIdentity(dir);
      if (pattern !== undefined && pattern !== known.pattern)
        throw new LabError(
          `lab ${name} is pattern ${known.pattern} (${dir}), not ${pattern}`,
          `make down NAME=${name}, remove ${dir}, then make lab PATTERN=${pattern} NAME=${name}; or choose another NAME`,
        );
      if (o.product && o.product !== AUTO_PRODUCT && o.product !== known.product)
        throw new LabError(
          `lab ${name} runs ${known.product} (${dir}), not ${o.product}`,
          `make down NAME=${name}, remove ${dir}, then make lab PRODUCT=${o.product} NAME=${name}; or choose another NAME`,
        );
      // A lab named before products were added may hold a slot an unnamed lab now takes.
      if ((mode.create || mode.createNamed) && known.named && known.named.slot < NAMED_SLOTS.first) {
        throw new LabError(
          `lab ${name} was made at slot ${known.named.slot}, whose subnets and host ports the unnamed labs of a product added since now take`,
          `make down NAME=${name}, remove ${dir}, then make lab PATTERN=${known.pattern} PRODUCT=${known.product} NAME=${name} (a free slot is chosen)`,
        );
      }
      // Its pace as recorded, unless one is asked for (only when it is made again).
      const pace = o.pace !== undefined || o.bootSeconds !== undefined ? parsePace(o.pace, o.bootSeconds) : paceFromName(known.pace);
      const props = {
        product: withPace(resolveProduct(known.product), pace),
        named: known.named ?? { name, slot: await allocateSlot(resolve(LOCAL_LABS)) },
      };
      const recorded = known.scale ?? {};
      return {
        lab: mode.create
          ? buildLab(known.pattern, { ...props, ...recorded, ...asked })
          : asMade(known.pattern, props, recorded, asked, dir),
        dir,
      };
    }
    if (!mode.create && !mode.createNamed)
      throw new LabError(`no lab named ${name} (nothing in ${dir})`, `make lab PATTERN=3 NAME=${name}`);
    if (pattern === undefined) throw new LabError(`a new lab needs a pattern`, `make lab PATTERN=3 NAME=${name}`);
    const product = withPace(
      resolveProduct(await chooseProduct(o.product ?? AUTO_PRODUCT, !!mode.canPull)),
      parsePace(o.pace, o.bootSeconds),
    );
    return { lab: buildLab(pattern, { product, named: { name, slot: await allocateSlot(resolve(LOCAL_LABS)) }, ...asked }), dir };
  }
  if (pattern === undefined) {
    // A command on an existing lab: which labs there are is the user's next question.
    throw mode.create
      ? new LabError('--pattern N is needed (or --name NAME of a named lab)', 'make lab PATTERN=3')
      : new LabError(
          '--pattern N is needed (or --name NAME of a named lab) to say which lab',
          'make list (every lab on this engine, with its pattern and name)',
        );
  }
  const unpaced = resolveProduct(await chooseProduct(o.product ?? AUTO_PRODUCT, !!mode.canPull));
  const asking = o.pace !== undefined || o.bootSeconds !== undefined;
  const lab = buildLab(pattern, { product: withPace(unpaced, parsePace(o.pace, o.bootSeconds)), ...asked });
  const dir = labDir(lab, o.out);
  // A folder named with --out that holds another lab would become it: another compose project,
  // which `down --out` would no longer reach while the first runs.
  if (o.out && (mode.create || mode.createNamed) && existsSync(join(dir, MANIFEST))) {
    const known = readLabIdentity(dir);
    if (known.named || known.pattern !== lab.pattern || known.product !== lab.product.id) {
      const held = known.named ? `the named lab ${known.named.name}` : `the pattern ${known.pattern} lab of ${known.product}`;
      const itsDown = `${cliLabArgs({ pattern: known.pattern, product: withPace(resolveProduct(known.product), paceFromName(known.pace)), named: known.named })} --out ${dir}`;
      throw new LabError(
        `${dir} holds ${held}; writing pattern ${lab.pattern} of ${lab.product.id} there would make it another lab (compose project ${lab.project})`,
        `carbon-labs down ${itsDown} and remove the folder first, or choose another --out`,
      );
    }
  }
  if (mode.create) return { lab, dir };
  // A command on a lab that exists: its size and pace as its manifest records them, unless asked.
  const recordedPace = existsSync(join(dir, MANIFEST)) ? readLabIdentity(dir).pace : undefined;
  const product = withPace(unpaced, asking ? parsePace(o.pace, o.bootSeconds) : paceFromName(recordedPace));
  return { lab: asMade(pattern, { product }, readLabScale(dir) ?? asked, asked, dir), dir };
}

/** A lab that must already be on disk (down, logs, exec act on one). */
async function existingLab(options: LabOptions): Promise<{ lab: LabSpec; dir: string }> {
  const found = await resolveLab(options);
  if (!existsSync(join(found.dir, 'docker-compose.yml'))) {
    throw new LabError(`no lab in ${found.dir}`, `make lab ${makeArgs(found.lab)}, or give the lab's folder with --out DIR`);
  }
  return found;
}

/**
 * Where conformance writes a lab's reports: reports/<product>/pattern-<n>[-swarm][-<pace>]/, or
 * reports/local/<name>/, under the working folder, as the lab itself is under its labs/.
 */
const reportsOf = (lab: LabSpec, where: Target) =>
  resolve(
    'reports',
    ...(lab.named
      ? ['local', lab.named.name]
      : [lab.product.id, `pattern-${lab.pattern}${where === 'swarm' ? '-swarm' : ''}${paceSuffix(lab)}`]),
  );

/**
 * The lab `stop` or `start` acts on: one made by `up` on this engine (its containers exist, running
 * or stopped), as a compose project. A stack has no stop: Swarm would start its tasks again.
 */
async function runningCompose(options: LabOptions, verb: 'stop' | 'start'): Promise<{ lab: LabSpec; dir: string }> {
  const { lab, dir } = await existingLab(options);
  await requireDocker();
  if (await stackExists(lab.project))
    throw new LabError(
      `${lab.project} runs as a swarm stack, which cannot be ${verb === 'stop' ? 'stopped and kept' : 'started again'}: Swarm keeps its tasks running`,
      `make down ${makeArgs(lab)} (and make lab ${makeArgs(lab)} TARGET=swarm again)`,
    );
  if (!(await labContainers(lab.project)).length)
    throw new LabError(`${lab.project} has no containers to ${verb}`, `make lab ${makeArgs(lab)}`);
  return { lab, dir };
}

const healthy = (states: readonly ContainerState[]) =>
  states.length > 0 &&
  states.every((s) => (s.state === 'running' && (s.health === undefined || s.health === 'healthy')) || s.exitCode === 0);

/**
 * A docker command attached to this terminal; its exit code. `timeoutMs` undefined only where
 * the user ends it (`logs -f`, an `exec` shell): everything else the CLI runs has a deadline.
 */
function attachedDocker(args: readonly string[], timeoutMs: number | undefined): number {
  const r = runAttached('docker', args, timeoutMs);
  if (r.error)
    throw new LabError(
      `docker could not run: ${r.error.message}`,
      'install Docker with Compose v2 (on Debian as root: bash scripts/provision-docker.sh)',
    );
  return r.status ?? 1;
}

const compose = (dir: string, args: readonly string[], timeoutMs: number | undefined) =>
  attachedDocker(['compose', '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), ...args], timeoutMs);

/** The version of the shape of `list --json` and `status --json` (raised when a field changes meaning or goes). */
const JSON_SCHEMA_VERSION = 1;

/** `status` and `list` answer within seconds: a container the engine cannot inspect in time is "engine busy". */
const STATUS_MS = 5_000;

/** How long a one-shot `logs` (no `-f`) may take to print. */
const LOGS_MS = 60_000;

const scaleText = (scale: LabScale | undefined) => scaleArgs(scale).join(' ') || "the pattern's default size";

/** Writes the lab, saying how many files changed, and when its size changes (an unnamed lab's is what is asked). */
function writeLab({ lab, dir }: { lab: LabSpec; dir: string }, force?: boolean, out?: string): void {
  const recorded = readLabScale(dir);
  if (recorded && scaleText(recorded) !== scaleText(lab.scale))
    log(`${dir}: resized from ${scaleText(recorded)} to ${scaleText(lab.scale)}`);
  const result = synthLab(lab, dir, { force, out: out === undefined ? undefined : dir });
  // A named lab outside labs/local/ is not seen there by the next named lab's slot allocation: it leaves a claim.
  const localRoot = resolve(LOCAL_LABS);
  if (lab.named && !resolve(dir).startsWith(`${localRoot}/`)) claimSlot(localRoot, lab.named.name, lab.named.slot, resolve(dir));
  log(
    `${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ''}${result.kept.length ? `; your edits kept: ${result.kept.join(', ')}` : ''}`,
  );
}

/**
 * A running lab changes size only once it is down: its containers keep the files they started
 * with (the writer replaces a file, a bind mount holds on to the old one), so its balancer would
 * never send to a new worker, nor its gateways forget a removed manager.
 */
async function refuseResizeWhileRunning(lab: LabSpec, dir: string): Promise<void> {
  const containers = await labContainers(lab.project).catch(() => [] as ContainerState[]);
  if (!containers.length) return;
  // Two folders of one pattern and product (the default and an --out copy) are one compose project:
  // the second's up would take the first's containers over.
  const from = await labDirOf(lab.project).catch(() => undefined);
  // Compose records the folder with its links resolved.
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  if (from && real(from) !== real(dir)) {
    throw new LabError(
      `${lab.project} already exists from ${from}; the lab in ${dir} is the same compose project, so its up would replace that lab's containers`,
      `carbon-labs down ${cliLabArgs(lab)} --out ${from} first (it removes that one), or give this copy a name of its own: make lab ${makeArgs({ ...lab, named: undefined })} NAME=<name>`,
    );
  }
  if (!containers.some((c) => c.state === 'running')) return;
  const refusal = resizeRefusal(
    lab,
    containers.map((c) => c.service),
  );
  if (refusal) throw refusal;
}

/** The error for asking a running lab (its compose services) for another size; none when it has that size. */
export function resizeRefusal(lab: LabSpec, services: readonly string[]): LabError | undefined {
  const count = (role: string) => services.filter((s) => new RegExp(`^${role}-\\d+$`).test(s)).length;
  const asRunning = buildLab(lab.pattern, { product: lab.product, named: lab.named, workers: count('worker'), managers: count('manager') });
  if (sizeOf(asRunning) === sizeOf(lab)) return undefined;
  return new LabError(
    `${lab.project} is running with ${sizeOf(asRunning)}; it can have ${sizeOf(lab)} only after it is down`,
    `make down ${makeArgs({ ...lab, scale: undefined })}, then make lab ${makeArgs(lab)}; or keep its size: make lab ${makeArgs(asRunning)}`,
  );
}

/** The products, as the options name them: real ones with their stand-ins. */
const PRODUCT_CHOICES = `${DEFAULT_PRODUCT} (real image), ${Object.values(PRODUCTS)
  .filter((p) => p.pulled && p.id !== DEFAULT_PRODUCT)
  .map((p) => p.id)
  .join(', ')}, their stand-ins ${Object.values(PRODUCTS)
  .filter((p) => !p.pulled)
  .map((p) => p.id)
  .join(', ')}`;

/** The options every command that addresses one lab takes. */
function labOptions(command: Command): Command {
  return command
    .option('--pattern <n>', 'clustering pattern: 1, 2 or 3 (a named lab remembers its own)')
    .option(
      '--product <id>',
      `${PRODUCT_CHOICES}, or ${AUTO_PRODUCT} (the default, as make's: ${DEFAULT_PRODUCT} when its image can be had, else sim; a named lab resolves it once)`,
    )
    .option('--name <name>', 'a named lab: its own project, subnets and host ports, so several run side by side (folder labs/local/<name>)')
    .option('--out <dir>', 'lab folder (default labs/<product>/pattern-<n>, or labs/local/<name>)')
    .option(
      '--workers <n>',
      `workers, ${WORKER_COUNTS.min} to ${WORKER_COUNTS.max} (default ${WORKER_COUNTS.default}; recorded in the lab: a named lab keeps its own, the commands after up check it)`,
    )
    .option(
      '--managers <n>',
      "managers: 1 on pattern 1, 2 on pattern 2, 1 or 2 on pattern 3 (default the pattern's; recorded like --workers)",
    )
    .option(
      '--pace <pace>',
      "a stand-in's pace: native (its own, the default) or jvm (nothing listens for WSO2's boot time after each start, and the real product's timing judges it; recorded like --workers)",
    )
    .option(
      '--boot-seconds <n>',
      `with --pace jvm: every node boots in N seconds (${BOOT_SECONDS.min}–${BOOT_SECONDS.max}) instead of WSO2's figures`,
    );
}

/** Each command's examples, shown at the end of its `--help` (kind and docker compose show theirs). */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  generate: [
    'carbon-labs generate --pattern 3 --product sim',
    'carbon-labs generate --pattern 2 --product apim-4.7.0 --workers 3 --out ./my-lab',
    'carbon-labs generate --pattern 3 --target swarm',
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

function labCommand(program: Command, name: string, description: string): Command {
  const command = labOptions(program.command(name).description(description));
  const examples = EXAMPLES[name];
  return examples ? command.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`) : command;
}

/** The CLI; `asked`: the command the user named, for the hint of commander's own errors. */
export function cli(asked?: string): Command {
  const program = new Command('carbon-labs')
    .description('Docker Compose labs and a conformance harness for WSO2 API Manager worker/manager clusters')
    .version(VERSION, '--version', 'print the carbon-labs version')
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    // A command's options come before its arguments, so `exec manager-1 ls -la` hands -la to ls.
    .enablePositionalOptions()
    .exitOverride()
    // Commander's own errors in the project's one-line style, with where to look (kind and compose
    // answer a bad flag with the command's usage; one line and the way to it is the house rule).
    .configureOutput({ outputError: (text, write) => write(`${commanderLine(text, asked)}\n`) });

  labCommand(program, 'generate', 'write the lab folder, nothing else (both targets: docker-compose.yml and swarm/)')
    .option('--force', 'overwrite generated files you edited')
    .option('--target <target>', 'compose or swarm: which of the two the closing line points at (the folder holds both)', 'compose')
    .action(async (o: LabOptions) => {
      const target = parseTarget(o.target ?? 'compose');
      const made = await resolveLab(o, { create: true });
      if (target === 'swarm' && isClassic(made.lab.product))
        throw new LabError(
          `--target swarm: ${made.lab.product.id} runs on compose only (its workers' Synapse files come from a sync service over volumes)`,
          `carbon-labs generate ${cliLabArgs(made.lab)}`,
        );
      writeLab(made, o.force, o.out);
      if (target === 'swarm')
        log(
          `stack: ${join(made.dir, 'swarm', 'docker-stack.yml')} (make lab ${makeArgs(made.lab)} TARGET=swarm deploys it: docs/swarm.md)`,
        );
    });

  labCommand(program, 'up', 'generate the lab, start it, wait until every node is healthy, print URLs')
    .option('--force', 'overwrite generated files you edited')
    .option('--rebuild', 'rebuild the stand-in image first')
    .option('--target <target>', "compose (this engine, the default) or swarm (a stack on the engine's swarm: docs/swarm.md)", 'compose')
    .option(
      '--publish',
      "swarm only: the stack publishes its balancers' listeners itself, on every interface of the node each balancer runs on (no 127.0.0.1 access proxy then)",
    )
    .action(async (o: LabOptions & { rebuild?: boolean; publish?: boolean }) => {
      const target = parseTarget(o.target ?? 'compose');
      if (o.publish && target !== 'swarm')
        throw new LabError(
          '--publish is for --target swarm (a compose lab publishes on 127.0.0.1 only)',
          'make lab PATTERN=N TARGET=swarm PUBLISH=1',
        );
      const { lab, dir } = await resolveLab(o, { create: true, canPull: true });
      await refuseResizeWhileRunning(lab, dir);
      // Refused before anything is written, pulled or started (a stack carries it in its image).
      if (target === 'compose') refuseWithoutDriver(lab, dir);
      writeLab({ lab, dir }, o.force, o.out);
      if (target === 'compose') provideDrivers(lab, dir);
      await requireDocker();
      const imagesEnv = await ensureImages(lab.product, log, { rebuildSim: o.rebuild });
      // From `compose up` (images ready) to every node healthy: compose itself waits for the
      // database and the boot order, so its own time counts.
      const started = Date.now();
      const budgetSeconds = startupBudgetSeconds(lab);
      if (target === 'swarm') await upStack(lab, dir, { imagesEnv, budgetSeconds, log, publish: o.publish });
      else if (await stackExists(lab.project))
        throw new LabError(
          `${lab.project} runs as a swarm stack; its compose lab would take the same networks`,
          `make lab ${makeArgs(lab)} TARGET=swarm (it runs), or make down ${makeArgs(lab)} first`,
        );
      else await upLab(lab, dir, { imagesEnv, budgetSeconds, log });
      log(
        `${lab.project} (pattern ${lab.pattern}, ${lab.product.id}${target === 'swarm' ? ', swarm stack' : ''}) is healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
      );
      for (const line of labUrls(lab, dir, target)) print(speak(line));
    });

  labCommand(program, 'down', 'stop and remove the lab (containers, networks, database volume)')
    .option('--all', 'every carbon-labs lab on this Docker engine')
    .action(async (o: LabOptions & { all?: boolean }) => {
      if (o.all) {
        if (o.pattern || o.name || o.workers || o.managers)
          throw new LabError('--all removes every lab; it takes no --pattern, --name, --workers or --managers', 'carbon-labs down --all');
        await requireDocker();
        const projects = await labProjects();
        if (!projects.length) log('no carbon-labs lab on this Docker engine');
        for (const project of projects) {
          if (await stackExists(project)) {
            const dir = await labDirOf(project).catch(() => undefined);
            if (dir) {
              await downStack(labInDir(dir), dir, log);
              continue;
            }
            const r = await run('docker', ['stack', 'rm', project], { timeoutMs: 120_000 });
            if (r.code !== 0) throw new LabError(`docker stack rm failed for ${project}: ${r.stderr.trim()}`);
            continue;
          }
          await downProject(project, process.cwd(), log);
        }
        return;
      }
      if (!o.pattern && !o.name) throw new LabError('down needs --pattern N, --name NAME or --all', 'make down PATTERN=3');
      const { lab, dir } = await existingLab(o);
      // Whichever runs: the stack, the compose lab (never both, `up` refuses that).
      if (await stackExists(lab.project)) await downStack(lab, dir, log);
      else await downLab(lab, dir, log);
    });

  labCommand(program, 'stop', 'stop the lab and keep it: containers, networks and the database volume stay (start brings it back)').action(
    async (o: LabOptions) => {
      const { lab, dir } = await runningCompose(o, 'stop');
      await stopLab(lab, dir, log);
      log(speak(`${lab.project} stopped; its APIs, users and keys are kept. Start it again: make start ${makeArgs(lab)}`));
    },
  );

  labCommand(
    program,
    'start',
    'start a stopped lab again (the same containers and data), wait until every node is healthy, print URLs',
  ).action(async (o: LabOptions) => {
    const { lab, dir } = await runningCompose(o, 'start');
    const started = Date.now();
    await resumeLab(lab, dir, { budgetSeconds: startupBudgetSeconds(lab), log });
    log(
      `${lab.project} (pattern ${lab.pattern}, ${lab.product.id}) is healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
    );
    for (const line of labUrls(lab, dir)) print(speak(line));
  });

  labCommand(
    program,
    'export',
    "save everything about the lab in one tarball: every container's log and docker inspect, the lab folder (no private keys), its last reports",
  )
    .argument('[dir]', 'the folder the tarball goes in (default: this one), or its .tar.gz path')
    .action(async (to: string | undefined, o: LabOptions) => {
      const { lab, dir } = await existingLab(o);
      await requireDocker();
      const swarm = await stackExists(lab.project);
      const file = await exportLab(lab, dir, { to: to ?? process.cwd(), reports: reportsOf(lab, swarm ? 'swarm' : 'compose'), log });
      print(file);
    });

  labCommand(program, 'status', 'show the state of each service of the lab; exit 1 unless every one is healthy')
    .option('--json', 'print the state as JSON (project, pattern, product, folder, services, healthy, urls)')
    .action(async (o: LabOptions & { json?: boolean }) => {
      // A folder named with --out must hold a lab (as for logs, exec, down); the default folder may not exist yet.
      const { lab, dir } = o.out ? await existingLab(o) : await resolveLab(o);
      await requireDocker();
      const states = await labContainers(lab.project, STATUS_MS);
      const ok = healthy(states);
      const urls =
        ok && existsSync(join(dir, '.env'))
          ? labUrls(lab, dir, (await stackExists(lab.project, STATUS_MS)) ? 'swarm' : 'compose').map((l) => speak(l))
          : [];
      if (o.json) {
        const endpoints =
          ok && existsSync(join(dir, '.env'))
            ? labEndpoints(lab, dir, (await stackExists(lab.project, STATUS_MS)) ? 'swarm' : 'compose')
            : [];
        print(
          JSON.stringify(
            {
              schemaVersion: JSON_SCHEMA_VERSION,
              project: lab.project,
              pattern: lab.pattern,
              product: lab.product.id,
              dir,
              healthy: ok,
              services: states.map(({ id: _, ...s }) => s),
              endpoints,
            },
            null,
            2,
          ),
        );
      } else if (!states.length) {
        throw new ChecksFailed(`${lab.project} is not running. Try: make lab ${makeArgs(lab)}`);
      } else {
        print(
          table(
            [
              ['SERVICE', 'STATE', 'HEALTH', 'EXIT'],
              ...states.map((s) => [s.service, s.state, s.health ?? '-', s.exitCode === undefined ? '-' : String(s.exitCode)]),
            ],
            '  ',
          ),
        );
        for (const line of urls) print(line);
      }
      if (!ok) throw new ChecksFailed(`${lab.project} is ${states.length ? 'not healthy' : 'not running'}`);
    });

  program
    .command('list')
    .description('every carbon-labs lab on this Docker engine: name, pattern, product, state, manager URL')
    .option('--json', 'print the list as JSON')
    .action(async (o: { json?: boolean }) => {
      await requireDocker();
      const labs = [];
      for (const project of await labProjects(STATUS_MS)) {
        const dir = await labDirOf(project, STATUS_MS);
        const identity = (() => {
          try {
            return readLabIdentity(dir);
          } catch {
            return undefined;
          }
        })();
        const states = await labContainers(project, STATUS_MS);
        const env = (() => {
          try {
            return readLabEnv(dir);
          } catch {
            return {} as Record<string, string>;
          }
        })();
        // The services that keep running (the one-shots' exits are their success, not a node down).
        const nodes = states.filter((c) => !oneShot(c.service));
        labs.push({
          project,
          pattern: identity?.pattern ?? null,
          product: identity?.product ?? null,
          dir,
          state: healthy(states) ? 'healthy' : states.some((s) => s.state === 'running') ? 'degraded' : 'stopped',
          services: { running: nodes.filter((c) => c.state === 'running').length, total: nodes.length },
          admin: env.ADMIN_HTTPS_PORT ? `https://127.0.0.1:${env.ADMIN_HTTPS_PORT}` : null,
          api: env.API_HTTPS_PORT ? `https://127.0.0.1:${env.API_HTTPS_PORT}` : null,
        });
      }
      if (o.json) {
        print(JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, labs }, null, 2));
        return;
      }
      if (!labs.length) {
        log('no carbon-labs lab on this Docker engine. Start one: make lab PATTERN=3');
        return;
      }
      print(
        table([
          ['LAB', 'PATTERN', 'PRODUCT', 'STATE', 'RUNNING', 'ADMIN', 'FOLDER'],
          ...labs.map((l) => [
            l.project,
            String(l.pattern ?? '?'),
            String(l.product ?? '?'),
            l.state,
            `${l.services.running}/${l.services.total}`,
            l.admin ?? '-',
            l.dir,
          ]),
        ]),
      );
    });

  labCommand(program, 'logs', 'the logs of the lab, or of one service')
    .argument('[service]', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'lines per service to start from (a number, or all)', '200')
    .action(async (service: string | undefined, o: LabOptions & { follow?: boolean; tail: string }) => {
      const { lab, dir } = await existingLab(o);
      if (!/^(\d+|all)$/.test(o.tail))
        throw new LabError(
          `--tail must be a whole number of lines or all (got "${o.tail}")`,
          `carbon-labs logs ${cliLabArgs(lab)}${service ? ` ${service}` : ''} --tail 200`,
        );
      const services = longRunningServices(lab);
      if (service && !services.includes(service))
        throw new LabError(
          `${lab.project} has no service ${service}; its services are ${services.join(', ')}`,
          `carbon-labs logs ${cliLabArgs(lab)} ${services.find((s) => s.startsWith('manager')) ?? services[0]}`,
        );
      await requireDocker();
      if (await stackExists(lab.project)) {
        // A stack: Swarm's service logs (every task's), one service at a time; all of them without -f.
        if (!service && o.follow)
          throw new LabError(
            'logs -f of a swarm stack follows one service',
            `carbon-labs logs ${cliLabArgs(lab)} manager-1 -f  (or docker service logs -f ${lab.project}_<service>)`,
          );
        for (const s of service ? [service] : longRunningServices(lab)) {
          const code = attachedDocker(
            ['service', 'logs', '--tail', o.tail, ...(o.follow ? ['--follow'] : []), `${lab.project}_${s}`],
            o.follow ? undefined : LOGS_MS,
          );
          if (code !== 0) throw new LabError(`docker service logs ${lab.project}_${s} exited ${code}`);
        }
        return;
      }
      // Piped (not a terminal): no colours and no line-clearing codes in the text.
      const code = compose(
        dir,
        [
          ...(process.stdout.isTTY ? [] : ['--ansi', 'never']),
          'logs',
          '--tail',
          o.tail,
          ...(o.follow ? ['--follow'] : []),
          ...(service ? [service] : []),
        ],
        o.follow ? undefined : LOGS_MS,
      );
      if (code !== 0) throw new LabError(`docker compose logs exited ${code}`);
    });

  labCommand(
    program,
    'exec',
    "run a command in a service of the lab (default: a shell); the lab's options come before the service, everything after it is the command's (as docker compose exec)",
  )
    .argument('<service>', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .argument('[command...]', 'the command and its arguments, options too (ls -la)', ['sh'])
    .passThroughOptions()
    .action(async (service: string, given: string[], o: LabOptions) => {
      // `exec manager-1 -- ls -la` (as the help once said) is `exec manager-1 ls -la`.
      const command = given[0] === '--' ? given.slice(1) : given;
      const { lab, dir } = await existingLab(o);
      await requireDocker();
      if (await stackExists(lab.project)) {
        // A stack: the service's running task on this node.
        const task = (await labContainers(lab.project)).find((c) => c.service === service && c.state === 'running');
        if (!task) throw new LabError(`${lab.project} has no running task of ${service} on this node`, `docker stack ps ${lab.project}`);
        process.exitCode = attachedDocker(
          ['exec', ...(process.stdin.isTTY ? ['-it'] : ['-i']), task.id, ...(command.length ? command : ['sh'])],
          undefined,
        );
        return;
      }
      process.exitCode = compose(dir, ['exec', service, ...(command.length ? command : ['sh'])], undefined);
    });

  labCommand(
    program,
    'conformance',
    'run the conformance checks on the lab (attaches to a running one, else starts it), write reports/<product>/pattern-<n>/; --pattern all (or 2,3) and --product a,b check several labs side by side',
  )
    .option(
      '--target <target>',
      'compose or swarm: where to start the lab when it is not running (a running one is checked where it runs)',
      'compose',
    )
    .option(
      '--check <id>',
      'only this check (repeatable, or comma-separated): e.g. managers-fail-over',
      (id: string, ids: string[]) => [...ids, ...commaList(id)],
      [] as string[],
    )
    .option(
      '--parallel <n>',
      'with several labs: how many run at once (default: two per core of the machine; starts and checks take a core each)',
    )
    .action(async (o: LabOptions & { check: string[]; parallel?: string }) => {
      const target: Target = parseTarget(o.target ?? 'compose');
      await requireDocker();
      const products = commaList(o.product ?? AUTO_PRODUCT);
      const patterns = o.pattern === 'all' ? PATTERN_IDS.map(String) : o.pattern?.includes(',') ? commaList(o.pattern) : [o.pattern];
      const several = products.length > 1 || patterns.length > 1;
      if (several && o.out)
        throw new LabError(
          "--out names one lab's folder; --pattern all (or 2,3) and --product a,b check several labs, each in its own",
          'leave --out out, or check one lab: make conformance PATTERN=3',
        );
      if (several && o.name)
        throw new LabError(
          '--name checks one named lab; --pattern all (or 2,3) and --product a,b check unnamed labs side by side',
          'make conformance NAME=a, or make conformance PATTERN=all PRODUCT=sim',
        );
      const labs: { lab: LabSpec; dir: string; where: Target }[] = [];
      for (const product of products) {
        for (const pattern of patterns) {
          // A named lab not made yet is made as asked (as `make lab NAME=` would), then started below.
          const found = await resolveLab({ ...o, product, pattern }, { createNamed: true });
          const running = (await stackExists(found.lab.project)) ? 'swarm' : (await labRunning(found.lab.project)) ? 'compose' : undefined;
          // The harness gets each lab as its folder: the running one's (from compose's labels), or this
          // one written as asked (a lab that is not running is started from it, as a fresh copy).
          if (!running) writeLab(found, false, o.out);
          labs.push({ lab: found.lab, dir: running ? await labDirOf(found.lab.project) : found.dir, where: running ?? target });
        }
      }
      const summary = resolve(
        'reports',
        'summary',
        `${products.join('+')}-${o.pattern === 'all' ? 'all' : `pattern-${patterns.join('+')}`}`,
      );
      const harness = resolve(PROJECT_ROOT, 'dist', 'harness', 'main.js');
      const args = [
        harness,
        'conformance',
        '--target',
        target,
        ...o.check.flatMap((c) => ['--check', c]),
        ...(o.parallel ? ['--parallel', o.parallel] : []),
        ...labs.flatMap((l) => [
          '--dir',
          l.dir,
          '--reports',
          reportsOf(l.lab, l.where),
          '--label',
          `${l.lab.product.id} p${l.lab.pattern}`,
        ]),
        ...(several ? ['--summary', summary] : []),
      ];
      // Bounded by the checks' own deadlines (the harness says them first).
      const r = runAttached(process.execPath, args, undefined);
      if (r.error) throw new LabError(`the conformance harness could not run: ${r.error.message}`, 'make conformance (it builds dist/)');
      if (r.status === 2) throw new LabError('the conformance harness refused the run (see above)');
      const where = several ? join(summary, 'summary.md') : join(reportsOf(labs[0].lab, labs[0].where), 'report.md');
      // A failed lab's logs and configuration, kept beside its report before the lab went.
      const bundles = labs.map((l) => join(reportsOf(l.lab, l.where), FAILURE_EXPORT)).filter((f) => existsSync(f));
      if (r.status !== 0)
        throw new ChecksFailed(
          `conformance of ${labs.map((l) => l.lab.project).join(', ')} ${r.status === 130 ? 'was interrupted' : 'FAILED'} (see ${where}${bundles.length ? `; every node's log and configuration: ${bundles.join(', ')}` : ''})`,
        );
    });

  labCommand(
    program,
    'results',
    "the lab's last conformance run: each check's verdict and headline, then every figure beside the run before (the last 10 runs are kept under runs/ in its report folder)",
  )
    .option('--compare <prev>', 'compare with this run instead: a folder under runs/, or a results.json')
    .option('--target <target>', 'compose or swarm: the runs of the lab as a compose lab (the default) or as a stack', 'compose')
    .action(async (o: LabOptions & { compare?: string }) => {
      const { lab } = await resolveLab(o);
      const reports = reportsOf(lab, parseTarget(o.target ?? 'compose'));
      if (!existsSync(join(reports, 'results.json')))
        throw new LabError(
          `no conformance run of ${lab.project} yet (no ${join(reports, 'results.json')})`,
          `make conformance ${makeArgs(lab)}`,
        );
      // --compare as given, or within the lab's report folder (runs/<time>, or <time> alone).
      const compare =
        o.compare && [resolve(o.compare), join(reports, o.compare), join(reports, RUNS, o.compare)].find((p) => existsSync(p));
      if (o.compare && !compare)
        throw new LabError(
          `--compare ${o.compare}: no such run (looked as given, in ${reports} and in its runs/)`,
          `ls ${join(reports, RUNS)}`,
        );
      const r = runAttached(
        process.execPath,
        [resolve(PROJECT_ROOT, 'dist', 'harness', 'main.js'), 'results', '--reports', reports, ...(compare ? ['--compare', compare] : [])],
        60_000,
      );
      if (r.error) throw new LabError(`the harness could not run: ${r.error.message}`, 'make conformance (it builds dist/)');
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    });

  program
    .command('images')
    .description('build or choose every image a lab needs (stand-in, and offline NGINX/DB)')
    .option('--product <id>', `${PRODUCT_CHOICES}, or ${AUTO_PRODUCT} (the default, as for a lab)`, AUTO_PRODUCT)
    .option('--rebuild', 'rebuild the stand-in image')
    .action(async (o: { product: string; rebuild?: boolean }) => {
      await requireDocker();
      const product = resolveProduct(await chooseProduct(o.product, true));
      const env = await ensureImages(product, log, { rebuildSim: o.rebuild });
      log(`images ready: ${[...productImages(product), ...Object.values(env)].join(', ')}`);
    });

  program
    .command('completion')
    .description('print a shell completion script: eval "$(carbon-labs completion bash)" (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh')
        throw new LabError(`completion is for bash or zsh (got "${shell}")`, 'eval "$(carbon-labs completion bash)"');
      process.stdout.write(
        completionScript(program, shell, {
          '--pattern': ['1', '2', '3', 'all'],
          '--product': [...Object.keys(PRODUCTS), AUTO_PRODUCT],
          '--target': ['compose', 'swarm'],
          '--pace': ['native', 'jvm'],
        }),
      );
    });

  return program;
}

/** `error: unknown option '--prodct'\n(Did you mean --product?)` as `carbon-labs: unknown option '--prodct' (did you mean --product?). Try: carbon-labs --help`. */
export function commanderLine(text: string, command?: string): string {
  const [first, ...rest] = text
    .trim()
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const suggestion = rest.find((l) => /^\(Did you mean/.test(l));
  return `carbon-labs: ${first}${suggestion ? ` (${suggestion.slice(1, -1).replace(/^Did/, 'did')})` : ''}. Try: carbon-labs ${command ? `${command} ` : ''}--help`;
}

/**
 * Exit codes: 0 ok; 1 checks failed (conformance) or a lab that is not healthy (status);
 * 2 a usage or environment error. Every user error is one line on stderr, never a stack trace.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    // No command at all: the help, on stdout, as kind and docker compose answer it.
    if (!argv.length) {
      process.stdout.write(cli().helpInformation());
      return 0;
    }
    const names = cli().commands.map((c) => c.name());
    const asked = argv.find((a) => names.includes(a));
    askedCommand = asked;
    await cli(asked).parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return 2; // commander already printed the message and the suggestion
    }
    if (err instanceof LabError) {
      process.stderr.write(`carbon-labs: ${speak(err.message, askedCommand)}\n`);
      return err instanceof ChecksFailed ? 1 : 2;
    }
    const system = err as NodeJS.ErrnoException;
    if (system.code && system.path) {
      process.stderr.write(
        `carbon-labs: cannot use ${system.path} (${system.code}: ${system.message.split(',')[0].replace(`${system.code}: `, '')}). Try: a folder you can write, with --out DIR\n`,
      );
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  // Output piped into a reader that stopped (`| head`): done, not a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    else throw err;
  });
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
