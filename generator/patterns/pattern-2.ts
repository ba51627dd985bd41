import type { LabSpec } from '../model/lab';
import { assemble, managerNodes, namesOf, PatternProps, sharedBalancer, slotOf, workerNodes } from './common';
import { ManagerRule, scaleOf } from './scale';

const MANAGERS: ManagerRule = {
  allowed: [2],
  default: 2,
  means: 'two managers active/passive',
  instead: 'PATTERN=1, or PATTERN=3 MANAGERS=1, for one manager',
};

/**
 * Pattern 2: two managers active/passive in one cluster, two workers in another, one shared balancer.
 * `manager-2` is the NGINX `backup` of `manager-1`. `workers` scales the workers (1–5).
 */
export function pattern2(props: PatternProps): LabSpec {
  const index = slotOf(props, 2);
  const scale = scaleOf(2, MANAGERS, props);
  const managers = managerNodes(scale);
  const workers = workerNodes(scale, index);
  const lb = sharedBalancer(namesOf(managers), namesOf(workers), index);
  return assemble(2, props, scale, [...managers, ...workers], [lb]);
}
