import type { LabSpec } from '../model/lab';
import { assemble, slotOf, managerBalancer, managerNode, PatternProps, workerBalancer, workerNode } from './common';

/**
 * Pattern 3: managers and workers in two sub-domains of one cluster domain, each behind its own
 * balancer (`lb-manager`, `lb-worker`), so admin load cannot hurt worker traffic.
 */
export function pattern3(props: PatternProps): LabSpec {
  const index = slotOf(props, 3);
  const managers = [managerNode(1), managerNode(2)];
  const workers = [workerNode(1, index), workerNode(2, index)];
  return assemble(3, props, [...managers, ...workers], [
    managerBalancer(managers.map((m) => m.name), index),
    workerBalancer(workers.map((w) => w.name), index),
  ]);
}
