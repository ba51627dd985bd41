import type { LabSpec } from '../model/lab';
import { assemble, slotOf, managerNode, PatternProps, sharedBalancer, workerNode } from './common';

/**
 * Pattern 1: one manager (no HA) and two workers in a cluster, one load balancer.
 * @see ../shared/reference/wso2-apim.md §9 (seed page)
 */
export function pattern1(props: PatternProps): LabSpec {
  const index = slotOf(props, 1);
  const managers = [managerNode(1)];
  const workers = [workerNode(1, index), workerNode(2, index)];
  const lb = sharedBalancer(managers.map((m) => m.name), workers.map((w) => w.name), index);
  return assemble(1, props, [...managers, ...workers], [lb]);
}
