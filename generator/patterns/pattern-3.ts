import type { LabSpec } from '../model/lab';
import { assemble, managerBalancer, managerNodes, namesOf, PatternProps, slotOf, workerBalancer, workerNodes } from './common';
import { ManagerRule, scaleOf } from './scale';

const MANAGERS: ManagerRule = { allowed: [1, 2], default: 2, means: 'one or two managers', instead: 'PATTERN=3 MANAGERS=2' };

/**
 * Pattern 3: managers and workers in two sub-domains of one cluster domain, each behind its own
 * balancer (`lb-manager`, `lb-worker`), so admin load cannot hurt worker traffic. Each sub-domain
 * scales on its own: `managers` 1 or 2 (active/passive), `workers` 1–5.
 */
export function pattern3(props: PatternProps): LabSpec {
  const index = slotOf(props, 3);
  const scale = scaleOf(3, MANAGERS, props);
  const managers = managerNodes(scale);
  const workers = workerNodes(scale, index);
  return assemble(
    3,
    props,
    scale,
    [...managers, ...workers],
    [managerBalancer(namesOf(managers), index), workerBalancer(namesOf(workers), index)],
  );
}
