import { LabError } from '../errors';
import type { Role } from '../model/lab';
import { PRODUCTS } from '.';
import type { ProductSpec, ProductTiming, RoleRuntime } from './product';
import { productRoles } from './product';

/**
 * A stand-in at a JVM's pace: nothing listens for its role's boot time after its container
 * starts (and after every restart), and the harness judges it with its real product's timing.
 * Only its images differ from the stand-in's own (`<image>-<pace>`, built from them with the boot
 * times baked in), so a paced lab's files differ from the real product's by `image:` alone.
 */
export interface ProductPace {
  /** `jvm` (WSO2's boot times) or `boot-<N>s` (every node N seconds). */
  readonly name: string;
  readonly bootSeconds: Readonly<Record<Role, number>>;
  /** The stand-in's own image of each role, which the paced one is built from. */
  readonly from: Readonly<Partial<Record<Role, string>>>;
}

/** What the user asked for: `PACE=native|jvm`, `BOOT_S=N` (a JVM pace with every boot N s). */
export type PaceChoice = { readonly kind: 'native' } | { readonly kind: 'jvm'; readonly bootSeconds?: number };

export const PACE_NAMES = ['native', 'jvm'] as const;
/** A boot shorter than this is no JVM's; longer than the helm kill point × 5 is a typo. */
export const BOOT_SECONDS = { min: 5, max: 450 } as const;

export type PaceName = (typeof PACE_NAMES)[number];

/** `PACE=` as the user gave it: `native`, `jvm`, or nothing (empty: the stand-in's own). */
export function parsePaceName(value: string): PaceName | undefined {
  const name = value.trim();
  if (!name) return undefined;
  if (!(PACE_NAMES as readonly string[]).includes(name))
    throw new LabError(`PACE must be native or jvm (got "${name}")`, 'make lab PATTERN=3 PRODUCT=sim PACE=jvm');
  return name as PaceName;
}

/** `BOOT_S=` as the user gave it: a whole number of seconds within {@link BOOT_SECONDS}, or nothing. */
export function parseBootSeconds(value: string): number | undefined {
  if (value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < BOOT_SECONDS.min || n > BOOT_SECONDS.max) {
    throw new LabError(
      `BOOT_S must be a whole number of seconds from ${BOOT_SECONDS.min} to ${BOOT_SECONDS.max} (got "${value}")`,
      'make lab PATTERN=1 PRODUCT=sim PACE=jvm BOOT_S=20',
    );
  }
  return n;
}

/** The pace asked for by both (each parsed already): a boot time is a JVM pace's. */
export function choosePace(name: PaceName | undefined, bootSeconds: number | undefined): PaceChoice {
  if (bootSeconds !== undefined) {
    if (name === 'native')
      throw new LabError(
        "BOOT_S is a boot time for PACE=jvm, not for the stand-in's native pace",
        'make lab PATTERN=1 PRODUCT=sim PACE=jvm BOOT_S=20',
      );
    return { kind: 'jvm', bootSeconds };
  }
  return name === 'jvm' ? { kind: 'jvm' } : { kind: 'native' };
}

/** {@link choosePace} of the two as given (a test's or a script's words). */
export function parsePace(pace: string | undefined, bootSeconds: string | undefined): PaceChoice {
  return choosePace(parsePaceName(pace ?? ''), parseBootSeconds(bootSeconds ?? ''));
}

/** The real product a stand-in stands in for (`sim` → `apim-4.3.0`, `sim-apim-4.7.0` → `apim-4.7.0`). */
export function realProductOf(standIn: ProductSpec): ProductSpec {
  const real = Object.values(PRODUCTS).find(
    (p) => p.pulled && (standIn.id === `sim-${p.id}` || (standIn.id === 'sim' && p.id === 'apim-4.3.0')),
  );
  if (!real) throw new Error(`${standIn.id} stands in for no product`);
  return real;
}

/** The product at the pace asked for: the stand-in itself (native), or paced (jvm); a real product is refused. */
export function withPace(product: ProductSpec, choice: PaceChoice): ProductSpec {
  if (choice.kind === 'native') return product;
  if (product.pulled)
    throw new LabError(
      `PACE is for a stand-in: ${product.id} runs at its own pace`,
      `leave PACE out, or make lab PRODUCT=${product.id === 'apim-4.3.0' ? 'sim' : `sim-${product.id}`} PACE=jvm`,
    );
  if (product.pace) return product;
  const real = realProductOf(product);
  const bootSeconds: Record<Role, number> =
    choice.bootSeconds === undefined
      ? { ...real.timing.bootSeconds }
      : { manager: choice.bootSeconds, worker: choice.bootSeconds, 'traffic-manager': choice.bootSeconds };
  const name = choice.bootSeconds === undefined ? 'jvm' : `boot-${choice.bootSeconds}s`;
  const timing: ProductTiming = { ...real.timing, bootSeconds };
  const from: Partial<Record<Role, string>> = {};
  const roles: Partial<Record<Role, RoleRuntime>> = {};
  for (const role of productRoles(product)) {
    const runtime = product.roles[role]!;
    from[role] = runtime.image;
    roles[role] = { ...runtime, image: `${runtime.image}-${name}` };
  }
  return {
    ...product,
    description: `${product.description}, at a JVM's pace (${name}: boots ${productRoles(product)
      .map((r) => `${r} ${bootSeconds[r]} s`)
      .join(', ')})`,
    roles: roles as ProductSpec['roles'],
    timing,
    pace: { name, bootSeconds, from },
  };
}

/** The pace a lab's manifest records (`jvm`, `boot-20s`) as a choice again. */
export function paceFromName(name: string | undefined): PaceChoice {
  if (!name || name === 'native') return { kind: 'native' };
  if (name === 'jvm') return { kind: 'jvm' };
  const boot = /^boot-(\d+)s$/.exec(name);
  if (!boot)
    throw new LabError(
      `a lab's manifest names pace "${name}", which this carbon-labs does not know`,
      'regenerate the lab: make lab ... PACE=jvm',
    );
  return { kind: 'jvm', bootSeconds: Number(boot[1]) };
}
