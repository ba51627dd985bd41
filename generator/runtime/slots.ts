import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { LabError } from '../errors';
import { NAMED_SLOTS } from '../model/lab';
import { hostPortBase, networksFor } from '../patterns/common';
import { readLabIdentity } from '../synth/lab-folder';
import { dockerAvailable } from './docker';
import { portFree } from './lab';
import { listNetworks } from './engine';

/** Where named labs written outside `localRoot` (`--name a --out DIR`) leave a note of their slot and folder. */
export const CLAIMS = '.claims';

/**
 * Slots that named labs already hold: those in `localRoot` (one folder per name), and those written
 * elsewhere that left a claim there (a claim whose folder no longer holds a lab at that slot is
 * stale and does not count).
 */
function slotsOfFolders(localRoot: string): Set<number> {
  const taken = new Set<number>();
  if (!existsSync(localRoot)) return taken;
  const slotIn = (dir: string) => {
    try {
      return readLabIdentity(dir).named?.slot;
    } catch {
      return undefined;
    }
  };
  for (const name of readdirSync(localRoot).filter((n) => n !== CLAIMS)) {
    const slot = slotIn(join(localRoot, name));
    if (slot !== undefined) taken.add(slot);
  }
  const claims = join(localRoot, CLAIMS);
  for (const file of existsSync(claims) ? readdirSync(claims) : []) {
    try {
      const claim = JSON.parse(readFileSync(join(claims, file), 'utf8')) as { slot: number; dir: string };
      if (slotIn(claim.dir) === claim.slot) taken.add(claim.slot);
    } catch {
      /* not a claim */
    }
  }
  return taken;
}

/** Notes that the named lab in `dir` (outside `localRoot`) holds `slot`, so no other named lab is given it. */
export function claimSlot(localRoot: string, name: string, slot: number, dir: string): void {
  mkdirSync(join(localRoot, CLAIMS), { recursive: true });
  writeFileSync(join(localRoot, CLAIMS, `${name}.json`), `${JSON.stringify({ slot, dir })}\n`);
}

/** Subnets some Docker network holds (any project's). */
async function subnetsInUse(): Promise<Set<string>> {
  if (!(await dockerAvailable())) return new Set();
  const networks = await listNetworks();
  return new Set(networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? '')).filter(Boolean));
}

/**
 * A free block of subnets and host ports for a new named lab: no lab folder under `localRoot`
 * claims it, no Docker network holds its subnets, and its listeners' host ports are free.
 */
export async function allocateSlot(localRoot: string): Promise<number> {
  return (await allocateSlots(localRoot, 1, slotRange(process.env)))[0];
}

/** Fewer slots free than wanted (every one of the range held by a lab, its folder or its ports). */
export class NoFreeSlot extends LabError {}

/**
 * The named slots this process may take: `CARBON_LABS_SLOTS=first-last` (a test leg's own, so legs
 * running side by side never race for one), else every named slot.
 */
export function slotRange(
  env: NodeJS.ProcessEnv,
  fallback: { readonly first: number; readonly last: number } = NAMED_SLOTS,
): { first: number; last: number } {
  const asked = env.CARBON_LABS_SLOTS;
  if (!asked) return { ...fallback };
  const m = /^(\d+)-(\d+)$/.exec(asked);
  if (!m || Number(m[1]) < NAMED_SLOTS.first || Number(m[2]) > NAMED_SLOTS.last || Number(m[1]) > Number(m[2])) {
    throw new LabError(
      `CARBON_LABS_SLOTS must be first-last within ${NAMED_SLOTS.first}-${NAMED_SLOTS.last} (got "${asked}")`,
      `CARBON_LABS_SLOTS=${NAMED_SLOTS.first}-${NAMED_SLOTS.last}`,
    );
  }
  return { first: Number(m[1]), last: Number(m[2]) };
}

/**
 * `count` different free slots at once, for labs made side by side, from `range` (default every
 * named slot), leaving out `exclude` (slots this process holds but may not have made yet).
 */
export async function allocateSlots(
  localRoot: string,
  count: number,
  range: { readonly first: number; readonly last: number } = NAMED_SLOTS,
  exclude: ReadonlySet<number> = new Set(),
): Promise<number[]> {
  const taken = slotsOfFolders(localRoot);
  const subnets = await subnetsInUse();
  const free: number[] = [];
  for (let slot = range.first; slot <= range.last && free.length < count; slot++) {
    if (taken.has(slot) || exclude.has(slot)) continue;
    if (networksFor(slot).some((n) => subnets.has(n.subnet))) continue;
    const base = hostPortBase(slot);
    if (!(await portFree(base + 443)) || !(await portFree(base + 243))) continue;
    free.push(slot);
  }
  if (free.length < count)
    throw new NoFreeSlot(
      `${count} slot${count === 1 ? '' : 's'} for named labs wanted, ${free.length} free of ${NAMED_SLOTS.last - NAMED_SLOTS.first + 1}`,
      'remove labs you no longer need: carbon-labs down --all, and their folders under labs/local/',
    );
  return free;
}
