import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import { LabError } from '../errors';
import type { LabName, LabScale, LabSpec, PatternId } from '../model/lab';
import { buildLab } from '../patterns';
import { resolveProduct } from '../products';
import { paceFromName, withPace } from '../products/pace';
import type { ProductId } from '../products/product';

/**
 * The one reader of a lab folder: its manifest (what the writer recorded: the pattern, product,
 * name, scale and pace, and every generated file with its hash), and the model it was made from,
 * built again. A lab crosses processes as its folder (the CLI hands the harness folders), so this
 * is how any of them gets a lab back.
 */
export const MANIFEST = '.carbon-labs-manifest.json';

export interface Manifest {
  readonly generator: 'carbon-labs';
  readonly command: string;
  /** What the lab is: how a running lab's folder (from compose's labels) is read back as a model. */
  readonly pattern: PatternId;
  readonly product: ProductId;
  /** A named lab's name and slot (kept across regenerations: its subnets and host ports). */
  readonly named?: LabName;
  /** Node counts other than the pattern's default (`--workers`, `--managers`). */
  readonly scale?: LabScale;
  /** A stand-in's pace other than its own (`jvm`, `boot-20s`). */
  readonly pace?: string;
  readonly files: Readonly<Record<string, string>>;
}

/** The manifest of the lab in `dir`, or undefined where none is. */
export function readManifest(dir: string): Manifest | undefined {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** What a lab folder holds: enough to build its model again (`buildLab(pattern, { product, named, ...scale })`). */
export interface LabIdentity {
  readonly pattern: PatternId;
  readonly product: ProductId;
  readonly named?: LabName;
  readonly scale?: LabScale;
  readonly pace?: string;
}

/** The pattern, product, name, scale and pace of the lab generated in `dir`. */
export function readLabIdentity(dir: string): LabIdentity {
  const manifest = readManifest(dir);
  if (!manifest?.pattern || !manifest.product) {
    throw new LabError(
      `${dir} has no ${MANIFEST} naming its pattern and product (made by an older carbon-labs?)`,
      `regenerate it: carbon-labs generate --out ${dir} --force`,
    );
  }
  return {
    pattern: manifest.pattern,
    product: manifest.product,
    ...(manifest.named ? { named: manifest.named } : {}),
    ...(manifest.scale ? { scale: manifest.scale } : {}),
    ...(manifest.pace ? { pace: manifest.pace } : {}),
  };
}

/** The scale recorded in `dir`'s manifest (`{}`: the default size); undefined when no lab is there. */
export function readLabScale(dir: string): LabScale | undefined {
  const manifest = readManifest(dir);
  return manifest && (manifest.scale ?? {});
}

/** The lab generated in `dir`, as its manifest records it (pattern, product, name, size, pace). */
export function labInDir(dir: string): LabSpec {
  const { pattern, product, named, scale, pace } = readLabIdentity(dir);
  return buildLab(pattern, { product: withPace(resolveProduct(product), paceFromName(pace)), named, ...scale });
}

/** The files the writer made in `dir`, as its manifest lists them (paths relative to it; none where no lab is). */
export function generatedFiles(dir: string): string[] {
  return Object.keys(readManifest(dir)?.files ?? {});
}
