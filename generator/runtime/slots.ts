import { existsSync, readdirSync } from 'fs';
import { join } from 'path';
import { LabError } from '../errors';
import { NAMED_SLOTS } from '../model/lab';
import { hostPortBase, networksFor } from '../patterns/common';
import { readLabIdentity } from '../synth/writer';
import { dockerAvailable } from './docker';
import { portFree } from './lab';
import { listNetworks } from './engine';

/** Slots that named labs in `localRoot` (one folder per name) already hold. */
function slotsOfFolders(localRoot: string): Set<number> {
  const taken = new Set<number>();
  if (!existsSync(localRoot)) return taken;
  for (const name of readdirSync(localRoot)) {
    try {
      const slot = readLabIdentity(join(localRoot, name)).named?.slot;
      if (slot !== undefined) taken.add(slot);
    } catch { /* not a lab folder */ }
  }
  return taken;
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
  const taken = slotsOfFolders(localRoot);
  const subnets = await subnetsInUse();
  for (let slot = NAMED_SLOTS.first; slot <= NAMED_SLOTS.last; slot++) {
    if (taken.has(slot)) continue;
    if (networksFor(slot).some((n) => subnets.has(n.subnet))) continue;
    const base = hostPortBase(slot);
    if (!(await portFree(base + 443)) || !(await portFree(base + 243))) continue;
    return slot;
  }
  throw new LabError(`every slot for named labs (${NAMED_SLOTS.last - NAMED_SLOTS.first + 1}) is taken`, 'remove labs you no longer need: carbon-labs down --all, and their folders under labs/local/');
}
