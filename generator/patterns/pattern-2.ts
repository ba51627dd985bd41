import type { LabSpec } from '../model/lab';
import { assemble, slotOf, managerNode, PatternProps, sharedBalancer, workerNode } from './common';

/**
 * Pattern 2: two managers active/passive in one cluster, two workers in another, one shared balancer.
 * `manager-2` is the NGINX `backup` of `manager-1`.
 */
export function pattern2(props: PatternProps): LabSpec {
  const index = slotOf(props, 2);
  const managers = [managerNode(1), managerNode(2)];
  const workers = [workerNode(1, index), workerNode(2, index)];
  const lb = sharedBalancer(managers.map((m) => m.name), workers.map((w) => w.name), index);
  return assemble(2, props, [...managers, ...workers], [lb]);
}
