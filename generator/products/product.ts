import type { Role } from '../model/lab';

export type ProductId = 'apim-4.3.0' | 'sim';

/** How long the harness and `make lab` may wait for this product; printed in every report. */
export interface ProductTiming {
  /** Seconds a lab may take from `up` to every node healthy. */
  readonly startupBudgetSeconds: number;
  /** A manager failover that users feel for longer than this fails `managers-fail-over`. */
  readonly rtoBoundMs: number;
  /** A request slower than this during a fault is a stalled one: users felt it as much as a failure. */
  readonly stallMs: number;
  /** Deploy → first 200 on a worker slower than this fails `artifacts-propagate`. */
  readonly propagationBoundMs: number;
  /** Timeout of one REST call from the harness. */
  readonly requestTimeoutMs: number;
}

/**
 * What a node of an APIM 4.3 product needs. The real product and the stand-in differ in `image`
 * (and in timing, which only the harness reads): everything rendered into a lab is the same.
 * @see ../shared/reference/wso2-apim.md §1–§5
 */
export interface ProductSpec {
  readonly id: ProductId;
  readonly description: string;
  readonly image: string;
  /** `WSO2_SERVER_HOME` inside the image (the dbscripts are under it). */
  readonly serverHome: string;
  /** Version string answered by /services/Version. */
  readonly version: string;
  /** `PROFILE_NAME` per role, read by the image's entrypoint (3.2–4.4 `wso2am` images). */
  readonly profiles: Readonly<Record<Role, string>>;
  /** `true` when the image comes from a registry, `false` when `make images` builds it. */
  readonly pulled: boolean;
  readonly timing: ProductTiming;
}

/** The mount points of the wso2am image's entrypoint (docker-apim docker-entrypoint.sh). */
export const CONFIG_VOLUME = '/home/wso2carbon/wso2-config-volume';
export const ARTIFACT_VOLUME = '/home/wso2carbon/wso2-artifact-volume';

/**
 * Ports of a WSO2 node (docs-apim default-product-ports): servlet, passthrough, and the gateway's
 * WebSocket inbound endpoints (`WebSocketInboundEndpoint` 9099, `SecureWebSocketInboundEndpoint` 8099).
 */
export const PORTS = {
  servletHttps: 9443, servletHttp: 9763, passthroughHttps: 8243, passthroughHttp: 8280, webSocket: 9099, webSocketSecure: 8099,
} as const;
