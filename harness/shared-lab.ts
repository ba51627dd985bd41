import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { isDeepStrictEqual } from 'util';
import YAML from 'yaml';
import type { LabSpec } from '../generator/model/lab';
import { startupBudgetSeconds } from '../generator/model/start-order';
import type { Log } from '../generator/runtime/images';
import { ensureImages } from '../generator/runtime/images';
import { composeConfigHashes, composeUp } from '../generator/runtime/compose-cli';
import { oneShot, serviceConfigHashes, waitHealthy } from '../generator/runtime/lab';
import { generatedFiles, MANIFEST } from '../generator/synth/lab-folder';
import { GATE_WAIT_MS, labWeight, machineGate } from './gate';
import type { LabFault, StartedLab } from './lab-target';
import { awaitServing, FAULT_OVERRIDE, LabTarget, writeFaultedLab } from './lab-target';

/**
 * What it takes to bring a written lab from one folder's content to another's: the services to
 * recreate and the files that differ, or why the two cannot be one running lab (`apart`).
 * A change that stays inside services (their compose definitions, the files only they mount) can
 * be made to a running lab, as a user changing a lab would; a change to the lab's shape (its
 * services, networks, volumes), to what a one-shot makes, to the database (it would start
 * empty), or to a file no service reads alone needs a lab of its own.
 */
export type LabDelta = { readonly services: readonly string[]; readonly paths: readonly string[] } | { readonly apart: string };

/** Files of a written lab that a running compose lab does not read. */
const UNREAD = [/(^|\/)README\.md$/, new RegExp(`^${MANIFEST.replace(/\./g, '\\.')}$`), /^swarm\//];

const read = (dir: string, path: string): string | undefined =>
  existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : undefined;
const composeOf = (dir: string, path: string): Record<string, unknown> =>
  (YAML.parse(read(dir, path) ?? '{}') as Record<string, unknown> | null) ?? {};
const servicesOf = (doc: Record<string, unknown>) => (doc.services ?? {}) as Record<string, unknown>;
/** The generated files of a written lab (its manifest's list) and the fault override. */
const writtenFiles = (dir: string): string[] => [...generatedFiles(dir), FAULT_OVERRIDE];

/** The service a generated file belongs to (mounted by it alone), from its path. */
function ownerOf(path: string, services: readonly string[]): string | undefined {
  const m = /^nodes\/([^/]+)\//.exec(path) ?? /^nginx\/([^/]+)\.conf$/.exec(path) ?? /^(backend)\//.exec(path);
  return m && services.includes(m[1]) ? m[1] : undefined;
}

export function labDelta(from: string, to: string): LabDelta {
  const paths = [...new Set([...writtenFiles(from), ...writtenFiles(to)])]
    .sort()
    .filter((p) => !UNREAD.some((r) => r.test(p)) && read(from, p) !== read(to, p));
  const [before, after] = [composeOf(from, 'docker-compose.yml'), composeOf(to, 'docker-compose.yml')];
  const shape = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
    (k) => k !== 'services' && !isDeepStrictEqual(before[k], after[k]),
  );
  if (shape.length) return { apart: `the lab's ${shape.join(', ')} change` };
  const names = Object.keys(servicesOf(after));
  const added = names.filter((s) => !(s in servicesOf(before)));
  const removed = Object.keys(servicesOf(before)).filter((s) => !names.includes(s));
  if (added.length || removed.length)
    return { apart: `its services change (${[...added.map((s) => `+${s}`), ...removed.map((s) => `-${s}`)].join(', ')})` };
  const changed = new Set<string>();
  for (const path of paths) {
    if (path === 'docker-compose.yml' || path === FAULT_OVERRIDE) {
      const [a, b] = [servicesOf(composeOf(from, path)), servicesOf(composeOf(to, path))];
      for (const s of names) if (!isDeepStrictEqual(a[s], b[s])) changed.add(s);
      continue;
    }
    const owner = ownerOf(path, names);
    if (!owner) return { apart: `${path} changes, which no one service alone reads` };
    changed.add(owner);
  }
  const oneShots = [...changed].filter(oneShot);
  if (oneShots.length) return { apart: `${oneShots.join(', ')} changes: a one-shot's output reaches the nodes only in a new lab` };
  if (changed.has('db')) return { apart: 'db changes: a recreated database would start empty' };
  return { services: names.filter((s) => changed.has(s)), paths };
}

/** {@link labDelta} of a lab with `faults` against the same lab as written (no Docker): whether they can share a running lab. */
export function faultDelta(spec: LabSpec, faults: readonly LabFault[]): LabDelta {
  const root = mkdtempSync(join(tmpdir(), 'carbon-labs-delta-'));
  try {
    writeFaultedLab(spec, [], join(root, 'sound'));
    writeFaultedLab(
      spec,
      faults.filter((f) => f.kind !== 'live'),
      join(root, 'faulted'),
    );
    return labDelta(join(root, 'sound'), join(root, 'faulted'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * One running lab that several seeded faults take in turn (the self-test's, issue 22): it is
 * brought from one broken state to the next by recreating only the services that differ
 * (`docker compose up --no-deps --force-recreate`, holding a share of the machine as a start does),
 * then healthy again. After each move every service's container carries the compose
 * configuration hash of the state it should be in, or the move fails: a fault left behind by the
 * one before cannot be what the next check catches.
 */
export class SharedLab {
  /** The lab as the last check saw it (what it left in force is taken back before the next move). */
  private current: LabTarget;
  /** The selection each recreated service was last made with (`up --no-deps <selection>`); the rest were made with the lab. */
  private readonly recreatedWith = new Map<string, readonly string[]>();

  /** `started`: the lab as started for the first of its faults; `spec`: the same lab without faults. */
  constructor(
    readonly started: StartedLab,
    private readonly spec: LabSpec,
  ) {
    this.current = started;
  }

  /** The lab brought to the state `faults` make (from the one it is in); the lab as the check sees it. */
  async become(faults: readonly LabFault[], log: Log): Promise<LabTarget> {
    const dir = this.started.dir;
    const next = `${dir}.next`;
    await this.current.takeBack(log);
    const imagesEnv = await ensureImages(this.spec.product, log);
    const { lab, files, unhealthy } = writeFaultedLab(this.spec, faults, next);
    try {
      const delta = labDelta(dir, next);
      if ('apart' in delta) throw new Error(`${this.spec.project} cannot be brought to this fault's state: ${delta.apart}`);
      for (const path of delta.paths) {
        const content = read(next, path);
        if (content === undefined) rmSync(join(dir, path), { force: true });
        else writeFileSync(join(dir, path), content);
      }
      log(
        `shared lab ${this.spec.project}: recreating ${delta.services.join(', ') || 'nothing'} (${delta.paths.join(', ') || 'no file'} changed)`,
      );
      const target = new LabTarget(lab, dir);
      if (delta.services.length) {
        await machineGate().holding(
          labWeight(lab),
          { what: `${this.spec.project}: recreate ${delta.services.join(', ')}`, timeoutMs: GATE_WAIT_MS },
          async () => {
            for (const service of delta.services) this.recreatedWith.set(service, delta.services);
            await composeUp(
              {
                cwd: dir,
                files,
                env: { ...process.env, ...imagesEnv },
                commandOptions: ['--no-deps', '--force-recreate', '--timeout', '0'],
                seconds: startupBudgetSeconds(lab),
              },
              delta.services,
            );
            // Services a fault keeps unhealthy are awaited until they serve instead.
            await waitHealthy(lab, startupBudgetSeconds(lab), log, { unawaited: unhealthy });
            await awaitServing(target, unhealthy);
          },
        );
      }
      await this.assertState(files, imagesEnv);
      this.current = target;
      for (const f of faults) if (f.kind === 'live') await f.apply(target);
      return target;
    } finally {
      rmSync(next, { recursive: true, force: true });
    }
  }

  /** Every running service's container was made from the compose configuration of `files` (its hash), or `become` fails. */
  private async assertState(files: readonly string[], imagesEnv: Record<string, string>): Promise<void> {
    const call = { cwd: this.started.dir, files, env: { ...process.env, ...imagesEnv }, seconds: 30 };
    // Each service as compose made it: with the whole lab at its start, or recreated with a selection.
    const selections = [...new Set(this.recreatedWith.values())];
    const hashes = new Map(
      await Promise.all([undefined, ...selections].map(async (sel) => [sel, await composeConfigHashes(call, sel)] as const)),
    );
    const have = await serviceConfigHashes(this.spec.project);
    const want = (service: string) => hashes.get(this.recreatedWith.get(service))?.[service];
    const wrong = Object.keys(have).filter((s) => !oneShot(s) && have[s] !== want(s));
    if (wrong.length)
      throw new Error(
        `${this.spec.project}: ${wrong.join(', ')} do not run the configuration of ${files.join(' + ')} (compose config hash ${wrong.map((s) => `${s} ${have[s]?.slice(0, 12)}, not ${want(s)?.slice(0, 12)}`).join('; ')})`,
      );
  }
}
