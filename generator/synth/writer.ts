import { createHash } from 'crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'fs';
import { dirname, join, relative } from 'path';
import { LabError } from '../errors';
import type { LabSpec } from '../model/lab';
import type { GeneratedFile } from '../render';
import { regenerateCommand, renderLab } from '../render';
import { validateLab } from './validate';
import type { Manifest } from './lab-folder';
import { MANIFEST, readManifest } from './lab-folder';

export interface SynthOptions {
  /** Overwrite generated files the user edited. @default false */
  readonly force?: boolean;
  /** Write a model that breaks the rules: only for the harness's deliberately broken labs. */
  readonly unsafeSkipValidation?: boolean;
  /** The folder as `--out` named it (not the default one): the regenerate command says it. */
  readonly out?: string;
}

export interface SynthResult {
  readonly dir: string;
  readonly written: readonly string[];
  readonly unchanged: readonly string[];
  readonly removed: readonly string[];
  /** Generated files the user edited whose generated content did not change: their copy is kept. */
  readonly kept: readonly string[];
}

/** Where two versions of a file first differ, as one line of each (for a conflict's message). */
export function firstDifference(yours: string, theirs: string): string {
  const [a, b] = [yours.split('\n'), theirs.split('\n')];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  // From a little before the first character that differs, so that two long lines show their difference.
  let col = 0;
  while (a[i] !== undefined && b[i] !== undefined && col < a[i].length && a[i][col] === b[i][col]) col++;
  const from = Math.max(0, col - 20);
  const show = (line: string | undefined) => {
    if (line === undefined) return 'the end of the file';
    const part = line.slice(from, from + 80);
    return JSON.stringify(`${from > 0 ? '...' : ''}${part}${from + 80 < line.length ? '...' : ''}`);
  };
  return `line ${i + 1} is ${show(a[i])} in yours, ${show(b[i])} in the new one`;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Creates a folder and its missing parents one level at a time: Node's recursive mkdir never
 * returns on some pseudo file systems (`--out /proc/x`), a plain one fails at once.
 */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    if (dirname(at) === at) break;
    at = dirname(at);
  }
  if (existsSync(at) && !statSync(at).isDirectory())
    throw new LabError(`${at} is a file, not a folder: no lab can be written under it`, 'choose another folder with --out DIR');
  for (const m of missing) mkdirSync(m);
}

/** Removes `folder` (relative to the lab) and its parents while they are empty: a removed node leaves no `nodes/<name>/`. */
function removeEmptyFolders(dir: string, folder: string): void {
  for (let at = folder; at !== '.' && readdirSync(join(dir, at)).length === 0; at = dirname(at)) rmdirSync(join(dir, at));
}

function writeAtomically(file: string, content: string, executable = false): void {
  makeDirs(dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  chmodSync(tmp, executable ? 0o755 : 0o644);
  renameSync(tmp, file);
}

function manifestFile(lab: LabSpec, files: readonly GeneratedFile[], out?: string): GeneratedFile {
  const manifest: Manifest = {
    generator: 'carbon-labs',
    command: regenerateCommand(lab, { out }),
    pattern: lab.pattern,
    product: lab.product.id,
    ...(lab.named ? { named: lab.named } : {}),
    ...(lab.scale ? { scale: lab.scale } : {}),
    ...(lab.product.pace ? { pace: lab.product.pace.name } : {}),
    files: Object.fromEntries(files.map((f) => [f.path, sha256(f.content)]).sort(([a], [b]) => a.localeCompare(b))),
  };
  return { path: MANIFEST, content: `${JSON.stringify(manifest, null, 2)}\n` };
}

/**
 * The one place that writes a lab. Validates the whole model first (nothing is written on error).
 * A new lab is staged in a sibling folder and renamed into place; an existing lab is updated file
 * by file (each atomically), keeping files the user added and refusing to overwrite generated files
 * the user edited unless `force`.
 */
export function synthLab(lab: LabSpec, dir: string, options: SynthOptions = {}): SynthResult {
  if (!options.unsafeSkipValidation) validateLab(lab);
  const files = renderLab(lab, { out: options.out });
  const all = [...files, manifestFile(lab, files, options.out)];

  if (existsSync(dir) && !statSync(dir).isDirectory())
    throw new LabError(`${dir} is a file, not a folder`, 'choose another folder with --out DIR');
  if (!existsSync(dir) || readdirSync(dir).length === 0) {
    const staging = `${dir}.staging-${process.pid}`;
    try {
      rmSync(staging, { recursive: true, force: true });
      for (const f of all) writeAtomically(join(staging, f.path), f.content, f.executable);
      makeDirs(dirname(dir));
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (!code) throw err;
      throw new LabError(
        `cannot write a lab to ${dir} (${code}: ${(err as Error).message.replace(/^[A-Z]+: /, '').split(',')[0]})`,
        'choose a folder you can write with --out DIR',
      );
    } finally {
      try {
        rmSync(staging, { recursive: true, force: true });
      } catch {
        /* nothing was made there */
      }
    }
    return { dir, written: all.map((f) => f.path), unchanged: [], removed: [], kept: [] };
  }

  const previous = readManifest(dir);
  if (!previous && !options.force) {
    throw new LabError(
      `${dir} exists and is not a carbon-labs lab (no ${MANIFEST}); nothing was written`,
      `a new --out folder, or --force to write into it`,
    );
  }
  const recorded = previous?.files ?? {};
  const onDisk = (path: string) => (existsSync(join(dir, path)) ? readFileSync(join(dir, path), 'utf8') : undefined);
  const editedByUser = (path: string) => {
    const current = onDisk(path);
    if (current === undefined) return false;
    return recorded[path] ? sha256(current) !== recorded[path] : true;
  };

  // Three ways: the user's copy (on disk), what was generated last (the manifest's hash), what is
  // generated now. A copy the user edited is kept while the generator's output for it is the same
  // as last time (an edited .env, as the README advises); only when both changed is it a conflict.
  const differs = files.filter((f) => onDisk(f.path) !== f.content);
  const kept = options.force ? [] : differs.filter((f) => editedByUser(f.path) && recorded[f.path] === sha256(f.content));
  const toWrite = differs.filter((f) => !kept.includes(f));
  const stale = Object.keys(recorded).filter((p) => !files.some((f) => f.path === p) && onDisk(p) !== undefined);
  const conflicts = [...toWrite.map((f) => f.path), ...stale].filter(editedByUser);
  if (conflicts.length && !options.force) {
    const versions = conflicts.map((path) => {
      const now = files.find((f) => f.path === path);
      return `${path} (${now ? firstDifference(onDisk(path) ?? '', now.content) : 'no longer generated'})`;
    });
    throw new LabError(
      `you edited generated files of ${relative(process.cwd(), dir) || dir} that carbon-labs now writes differently: ${versions.join('; ')}; nothing was written`,
      `keep your copy elsewhere, then re-run with --force (or revert the edits)`,
    );
  }

  for (const f of toWrite) writeAtomically(join(dir, f.path), f.content, f.executable);
  for (const p of stale) {
    unlinkSync(join(dir, p));
    removeEmptyFolders(dir, dirname(p));
  }
  const manifest = all[all.length - 1];
  if (onDisk(MANIFEST) !== manifest.content) writeAtomically(join(dir, MANIFEST), manifest.content);
  return {
    dir,
    written: toWrite.map((f) => f.path),
    unchanged: files.filter((f) => !differs.includes(f)).map((f) => f.path),
    removed: stale,
    kept: kept.map((f) => f.path),
  };
}
