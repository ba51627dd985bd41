import type { LabTarget } from './lab-target';

/**
 * What can happen to a running node, as Docker does it:
 * - `stop`: `docker stop` (the entrypoint ignores SIGTERM like the product's, so it is killed);
 * - `kill`: `docker kill`, SIGKILL at once;
 * - `pause`: the cgroup is frozen: the kernel still accepts connections, nothing answers (a hung JVM);
 * - `partition`: the node is cut off the `cluster` network (`docker network disconnect`): balancer,
 *   database and workers see its address vanish, packets go unanswered.
 */
export type NodeFault = 'stop' | 'kill' | 'pause' | 'partition';
export const NODE_FAULTS: readonly NodeFault[] = ['stop', 'kill', 'pause', 'partition'];

export async function applyFault(lab: LabTarget, node: string, fault: NodeFault): Promise<void> {
  if (fault === 'stop') await lab.stop(node);
  else if (fault === 'kill') await lab.kill(node);
  else if (fault === 'pause') await lab.pause(node);
  else await lab.disconnect(node, 'cluster');
}

/** Undoes a fault and waits until the whole lab is healthy again. */
export async function undoFault(lab: LabTarget, node: string, fault: NodeFault): Promise<void> {
  if (fault === 'pause') await lab.unpause(node);
  else if (fault === 'partition') await lab.reconnect(node, 'cluster');
  else await lab.start(node);
  await lab.waitHealthy();
}
