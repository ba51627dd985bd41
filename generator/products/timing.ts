import type { ProductTiming } from './product';

/**
 * The pace of WSO2's 4.x JVM nodes, the same for 4.3, 4.5 and 4.7 (every source gives the same
 * figures for the three): what the harness judges a real lab, and a stand-in at JVM pace, with.
 * @see ../../docs/real-product.md, "How long a real run takes" (each figure's source)
 */
export const REAL_TIMING: ProductTiming = {
  // Container start → healthy. No WSO2 source logs a 4.3–4.7 "WSO2 Carbon started in" line per role;
  // WSO2's probes bound it: helm-apim never probes before 60 s and restarts a node still closed at
  // ≈90 s (initialDelaySeconds 60, period 10, failureThreshold 3; every role, 4.3.0-3 to 4.7.0-1),
  // and WSO2's docs log 77 s for a 4.0.0 all-in-one node. A control plane runs that node's webapps,
  // a gateway fewer but pulls every artifact at startup, a traffic manager has neither.
  bootSeconds: { manager: 75, worker: 60, 'traffic-manager': 45 },
  rtoBoundMs: 15_000,
  stallMs: 5_000,
  propagationBoundMs: 30_000,
  requestTimeoutMs: 60_000,
  // WSO2's own admin client (apictl, DefaultHttpRequestTimeout 10000 ms) gives every admin call
  // 10 s; WSO2's balancer docs write 5 min, which would hold a hung manager's requests past any RTO.
  managerReadSeconds: 10,
};

/** The stand-in's own pace: a Node process is healthy a second or two after it starts. */
export const SIM_TIMING: ProductTiming = {
  bootSeconds: { manager: 3, worker: 3, 'traffic-manager': 3 },
  rtoBoundMs: 3_000,
  stallMs: 1_000,
  propagationBoundMs: 2_000,
  requestTimeoutMs: 10_000,
  managerReadSeconds: 2,
};
