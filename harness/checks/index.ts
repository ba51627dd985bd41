import type { Check } from '../check';
import { adminLoadIsolation } from './admin-load-isolation';
import { artifactsPropagate } from './artifacts-propagate';
import { balancersRestart } from './balancers-restart';
import { clusterMembership } from './cluster-membership';
import { logsClean } from './logs-clean';
import { databaseRestart } from './database-restart';
import { managerOutageWithoutHa, managersFailOver } from './managers-fail-over';
import { managersUnreachableFromPublic } from './managers-unreachable-from-public';
import { policiesPropagate } from './policies-propagate';
import { revocationReachesWorkers } from './revocation-reaches-workers';
import { workersLighterThanManagers } from './workers-lighter-than-managers';
import { workersRejectAdminWrites } from './workers-reject-admin-writes';
import { workersSurviveWorkerLoss } from './workers-survive-worker-loss';

/**
 * In run order: the cheap, read-only checks first, then the logs while no check has broken a node
 * on purpose, then the faults; memory after the lab has worked.
 */
export const CHECKS: readonly Check[] = [
  workersRejectAdminWrites,
  clusterMembership,
  managersUnreachableFromPublic,
  artifactsPropagate,
  policiesPropagate,
  revocationReachesWorkers,
  logsClean,
  adminLoadIsolation,
  workersSurviveWorkerLoss,
  managersFailOver,
  managerOutageWithoutHa,
  databaseRestart,
  balancersRestart,
  workersLighterThanManagers,
];

export function checkById(id: string): Check {
  const check = CHECKS.find((c) => c.id === id);
  if (!check) throw new Error(`no check "${id}"; the checks are ${CHECKS.map((c) => c.id).join(', ')}`);
  return check;
}
