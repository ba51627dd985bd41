import type { LabSpec } from '../model/lab';
import { assemble, managerNodes, namesOf, PatternProps, sharedBalancer, slotOf, workerNodes } from './common';
import { ManagerRule, scaleOf } from './scale';

const MANAGERS: ManagerRule = {
  allowed: [1],
  default: 1,
  means: 'one manager (no HA)',
  instead: 'PATTERN=2, or PATTERN=3, for two managers active/passive',
};

/**
 * Pattern 1: one manager (no HA) and two workers in a cluster, one load balancer.
 * `workers` scales the workers (1–5); the manager stays one.
 * @see ../shared/reference/wso2-apim.md §9 (seed page)
 */
export function pattern1(props: PatternProps): LabSpec {
  const index = slotOf(props, 1);
  const scale = scaleOf(1, MANAGERS, props);
  const managers = managerNodes(scale);
  const workers = workerNodes(scale, index);
  const lb = sharedBalancer(namesOf(managers), namesOf(workers), index);
  return assemble(1, props, scale, [...managers, ...workers], [lb]);
}
