import type { LabTarget } from './lab-target';

/**
 * What can happen to a running node, as Docker (or the kernel) does it:
 * - `stop`: `docker stop` (the entrypoint ignores SIGTERM like the product's, so it is killed);
 * - `kill`: `docker kill`, SIGKILL at once;
 * - `pause`: the cgroup is frozen: the kernel still accepts connections, nothing answers (a hung JVM);
 * - `partition`: the node is cut off the `cluster` network (`docker network disconnect`): balancer,
 *   database and workers see its address vanish, packets go unanswered;
 * - `db-partition`: the node is cut off the database only (packets from `db` dropped in its network
 *   namespace): it still answers the balancer, and every request that needs the database hangs.
 */
export type NodeFault = 'stop' | 'kill' | 'pause' | 'partition' | 'db-partition';
export const NODE_FAULTS: readonly NodeFault[] = ['stop', 'kill', 'pause', 'partition', 'db-partition'];

/** Parses `CARBON_LABS_FAILOVER_VARIANTS` (comma-separated; default every fault). */
export function parseFaults(value: string | undefined): readonly NodeFault[] {
  if (!value?.trim()) return NODE_FAULTS;
  const asked = value.split(',').map((v) => v.trim());
  const unknown = asked.filter((v) => !NODE_FAULTS.includes(v as NodeFault));
  if (unknown.length)
    throw new Error(`CARBON_LABS_FAILOVER_VARIANTS: no fault "${unknown.join('", "')}"; the faults are ${NODE_FAULTS.join(', ')}`);
  return NODE_FAULTS.filter((f) => asked.includes(f));
}

export async function applyFault(lab: LabTarget, node: string, fault: NodeFault): Promise<void> {
  if (fault === 'stop') await lab.stop(node);
  else if (fault === 'kill') await lab.kill(node);
  else if (fault === 'pause') await lab.pause(node);
  else if (fault === 'partition') await lab.disconnect(node, 'cluster');
  else await lab.isolate(node, 'db');
}

/** Undoes a fault and waits until the whole lab is healthy again. */
export async function undoFault(lab: LabTarget, node: string, fault: NodeFault): Promise<void> {
  if (fault === 'pause') await lab.unpause(node);
  else if (fault === 'partition') await lab.reconnect(node, 'cluster');
  else if (fault === 'db-partition') await lab.rejoin(node, 'db');
  else await lab.start(node);
  await lab.waitHealthy();
}
