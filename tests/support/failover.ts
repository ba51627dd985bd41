import type { VariantRun } from '../../harness/checks/managers-fail-over';

/** Made-up figures of one failover run that held: the write the node held failed, nothing else (unit tests of the verdict). */
export const HELD_RUN: VariantRun = {
  rtoMs: 40,
  firstSuccessMs: 5,
  dockerFaultMs: 300,
  requests: 100,
  failedRequests: 1,
  failedAfterFault: 0,
  failedIdempotent: 0,
  stalledRequests: 0,
  failedByMethod: { 'POST deploy': 1 },
  maxLatencyMs: 80,
  acknowledgedWrites: 20,
  writesAfterFault: 10,
  lostAcknowledgedWrites: 0,
  duplicatedWrites: 0,
  unreachedWorkers: 0,
  unreachedInCrashWindow: 0,
  failbackMs: 300,
};
