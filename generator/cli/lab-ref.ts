/**
 * Which lab a command means, from its options: its folder, its model (pattern, product, pace,
 * size) and the checks on it that every command shares (a lab of another shape in the folder, a
 * resize of a running lab).
 */
import { existsSync, realpathSync } from 'fs';
import { join, resolve } from 'path';
import { LabError } from '../errors';
import type { LabScale, LabSpec, PatternId } from '../model/lab';
import { cliLabArgs, makeArgs, managers, NAMED_SLOTS, scaleArgs, workers } from '../model/lab';
import type { PatternProps } from '../patterns';
import { buildLab } from '../patterns';
import { DEFAULT_PRODUCT, resolveProduct } from '../products';
import { productImages } from '../products/product';
import type { PaceName } from '../products/pace';
import { choosePace, paceFromName, withPace } from '../products/pace';
import { ContainerState, labContainers, labDirOf } from '../runtime/lab';
import { dockerAvailable, imagePresent, requireDocker, tryPull } from '../runtime/docker';
import { MANIFEST, readLabIdentity, readLabScale } from '../synth/lab-folder';
import { synthLab } from '../synth/writer';
import { allocateSlot, claimSlot } from '../runtime/slots';
import { existingDeployment } from '../runtime/deployment';
import type { Target } from '../model/lab';
import { TARGET_SUFFIX } from '../runtime/swarm';
import { log } from './output';

export const AUTO_PRODUCT = 'auto';

/** The options every command on one lab takes, as parsed at the edge (cli/options.ts `labOptions`). */
export interface LabOptions {
  readonly pattern?: PatternId;
  /** A product id, or `auto` (resolved against this engine's images: {@link chooseProduct}). */
  readonly product?: string;
  readonly out?: string;
  readonly force?: boolean;
  readonly name?: string;
  readonly workers?: number;
  readonly managers?: 1 | 2;
  readonly target?: Target;
  readonly pace?: PaceName;
  readonly bootSeconds?: number;
}

/** Where named labs live unless `--out` says otherwise (git-ignored). */
export const LOCAL_LABS = join('labs', 'local');

/**
 * An unnamed lab's folder: `labs/<product>/pattern-<n>`, committed; at a JVM's pace
 * `pattern-<n>-<pace>` (not committed), so a paced lab never rewrites the committed one.
 */
export function labDir(lab: LabSpec, out?: string): string {
  return resolve(out ?? `labs/${lab.product.id}/pattern-${lab.pattern}${paceSuffix(lab)}`);
}

/** `-<pace>` of a lab at a JVM's pace (its folder, its reports), nothing at the stand-in's own. */
export const paceSuffix = (lab: LabSpec) => (lab.product.pace ? `-${lab.product.pace.name}` : '');

/**
 * `auto` (the Makefile's default): the real product where its image is here or can be pulled,
 * otherwise the stand-in, said in one line.
 */
export async function chooseProduct(id: string, canPull: boolean): Promise<string> {
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

export async function everyImage(images: readonly string[], has: (image: string) => Promise<boolean>): Promise<boolean> {
  for (const image of images) if (!(await has(image))) return false;
  return true;
}

/** The node counts the user gave (`--workers`, `--managers`), each within the bounds every pattern shares. */
export function askedScale(o: LabOptions): LabScale {
  return {
    ...(o.workers === undefined ? {} : { workers: o.workers }),
    ...(o.managers === undefined ? {} : { managers: o.managers }),
  };
}

export const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

export const sizeOf = (lab: LabSpec) => `${plural(workers(lab).length, 'worker')} and ${plural(managers(lab).length, 'manager')}`;

/**
 * The lab as it was made, for the commands that act on one (status, down, logs, exec,
 * conformance): its recorded scale; a count the user gave that differs is an error, not a resize.
 */
export function asMade(
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
export async function resolveLab(
  o: LabOptions,
  mode: { create?: boolean; createNamed?: boolean; canPull?: boolean } = {},
): Promise<{ lab: LabSpec; dir: string }> {
  const { pattern } = o;
  const asked = askedScale(o);
  if (o.name) {
    const { name } = o;
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
      const pace = o.pace !== undefined || o.bootSeconds !== undefined ? choosePace(o.pace, o.bootSeconds) : paceFromName(known.pace);
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
      choosePace(o.pace, o.bootSeconds),
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
  const lab = buildLab(pattern, { product: withPace(unpaced, choosePace(o.pace, o.bootSeconds)), ...asked });
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
  const product = withPace(unpaced, asking ? choosePace(o.pace, o.bootSeconds) : paceFromName(recordedPace));
  return { lab: asMade(pattern, { product }, readLabScale(dir) ?? asked, asked, dir), dir };
}

/** A lab that must already be on disk (down, logs, exec act on one). */
export async function existingLab(options: LabOptions): Promise<{ lab: LabSpec; dir: string }> {
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
export const reportsOf = (lab: LabSpec, where: Target) =>
  resolve(
    'reports',
    ...(lab.named ? ['local', lab.named.name] : [lab.product.id, `pattern-${lab.pattern}${TARGET_SUFFIX[where]}${paceSuffix(lab)}`]),
  );

/**
 * The lab `stop` or `start` acts on: one made by `up` on this engine (its containers exist, running
 * or stopped), as a compose project. A stack has no stop: Swarm would start its tasks again.
 */
export async function runningCompose(options: LabOptions, verb: 'stop' | 'start'): Promise<{ lab: LabSpec; dir: string }> {
  const { lab, dir } = await existingLab(options);
  await requireDocker();
  const deployment = await existingDeployment(lab);
  if (deployment.keepsNoStoppedLab)
    throw new LabError(
      `${lab.project} runs as a ${deployment.described}, which cannot be ${verb === 'stop' ? 'stopped and kept' : 'started again'}: ${deployment.keepsNoStoppedLab}`,
      `make down ${makeArgs(lab)} (and make lab ${makeArgs(lab)} TARGET=swarm again)`,
    );
  if (!(await labContainers(lab.project)).length)
    throw new LabError(`${lab.project} has no containers to ${verb}`, `make lab ${makeArgs(lab)}`);
  return { lab, dir };
}

export const scaleText = (scale: LabScale | undefined) => scaleArgs(scale).join(' ') || "the pattern's default size";

/** Writes the lab, saying how many files changed, and when its size changes (an unnamed lab's is what is asked). */
export function writeLab({ lab, dir }: { lab: LabSpec; dir: string }, force?: boolean, out?: string): void {
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
export async function refuseResizeWhileRunning(lab: LabSpec, dir: string): Promise<void> {
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
