import type { Role } from '../model/lab';

export type ProductId =
  'apim-4.3.0' | 'sim' | 'apim-4.5.0' | 'sim-apim-4.5.0' | 'apim-4.7.0' | 'sim-apim-4.7.0' | 'apim-2.6.0' | 'sim-apim-2.6.0';

/**
 * The product's pace: how long its nodes take and how long the harness and `make lab` may wait
 * for them; printed in every report. Every deadline of the harness is derived from these figures
 * and the lab's size (see `model/timing.ts` and each check's plan), never from the stand-in's speed.
 */
export interface ProductTiming {
  /**
   * Seconds a node of each role takes from its container's start to healthy, its boot (again
   * after every restart). A real product's from WSO2's own probes and logs (docs/real-product.md,
   * "How long a real run takes"); a stand-in's as measured, unless it runs at a JVM's pace.
   */
  readonly bootSeconds: Readonly<Record<Role, number>>;
  /** A manager failover that users feel for longer than this fails `managers-fail-over`. */
  readonly rtoBoundMs: number;
  /** A request slower than this during a fault is a stalled one: users felt it as much as a failure. */
  readonly stallMs: number;
  /** Deploy → first 200 on a worker slower than this fails `artifacts-propagate`. */
  readonly propagationBoundMs: number;
  /**
   * A subscription blocked or unblocked at the manager is enforced by every worker within this
   * (`policies-propagate`). Unset: `propagationBoundMs`, the 4.x event path. The classic product's
   * gateways keep serving a token's cached answer until their token cache's expiry and its sweep.
   */
  readonly blockBoundMs?: number;
  /**
   * A quota reached is refused by every worker within this (`policies-propagate`): a traffic
   * manager's decision goes to the gateways on its broker, no sync or tick on its way. Unset:
   * `propagationBoundMs` (4.x, whose deploys take that path too). The classic product's
   * `propagationBoundMs` carries its artifact sync and deployment tick, which decisions do not take.
   */
  readonly decisionBoundMs?: number;
  /** Timeout of one REST call from the harness. */
  readonly requestTimeoutMs: number;
  /**
   * Seconds the manager balancer waits for a manager's answer (NGINX `proxy_read_timeout`) before
   * it gives up on it: above the slowest legitimate admin call of the product, and below the RTO
   * bound, since it is how long a hung active manager holds the requests it got.
   */
  readonly managerReadSeconds: number;
}

/** What runs one role of a product: its image, home, and how that image is told the role. */
export interface RoleRuntime {
  readonly image: string;
  /** `WSO2_SERVER_HOME` inside the image (the dbscripts and the stock truststore are under it). */
  readonly home: string;
  /** Environment that picks the role in the image (4.3: `PROFILE_NAME`); none when the image is the role. */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Server arguments that pick the role (the container's `command`, which the entrypoint hands to
   * `wso2server.sh`): the classic product's workers, `-Dprofile=gateway-worker -DworkerNode=true`.
   */
  readonly args?: readonly string[];
  /** `[server] server_role` of the role's deployment.toml; the classic product's OSGi profile. */
  readonly serverRole: string;
  /**
   * The lab's databases the role's deployment.toml points at. A node without one falls back to
   * the embedded H2 database of its distribution's `default.json`, local to the node.
   */
  readonly databases: readonly SharedDatabase[];
  /**
   * Which WSO2 distribution the image is: `all-in-one` (`wso2am`, its role by profile), or a 4.5+
   * distribution (`acp`, `universal-gw`, `tm`), or the classic Carbon 4.4 pack (`classic`: `bin/wso2server.sh`).
   * Names the key catalogue a node is checked against and the stand-in image built for the role.
   */
  readonly distribution: 'all-in-one' | 'acp' | 'universal-gw' | 'tm' | 'classic';
}

/** `[database.apim_db]` (WSO2AM_DB: APIs, applications, subscriptions) and `[database.shared_db]` (user store, registry). */
export type SharedDatabase = 'apim_db' | 'shared_db';

/**
 * How a product's deployment.toml is laid out:
 * - `apim-4.3`: the control plane holds the traffic manager and its broker; gateways hear events
 *   from `throttle_decision_endpoints` (profiles of the `wso2am` 4.3 image);
 * - `apim-4.5`: separate traffic managers; gateways hear events from the control planes'
 *   `[apim.event_hub] event_listening_endpoints` and throttling from the traffic managers
 *   (the 4.5+ distributions: API Control Plane, Universal Gateway, Traffic Manager).
 */
export type ConfigLayout = 'apim-4.3' | 'apim-4.5' | 'carbon-4.4';

/** Whether a product is the classic Carbon 4.4 one (`model/lab.ts`, where the start order reads it too). */
export { isClassic } from '../model/lab';

/**
 * What a version adds to its layout's deployment.toml:
 * - `encryption-key`: `[encryption] key`, the same on every node (4.7.0: the symmetric internal
 *   crypto provider is the default, and data one node encrypts in the shared databases another
 *   must decrypt);
 * - `gateway-notification`: the gateways' `[apim.gateway_notification]` (heartbeats to the control
 *   plane, 4.7.0);
 * - `extended-jwt-issuer`: the control planes' `[[oauth.extensions.token_types]]` JWT issuer
 *   `ExtendedJWTTokenIssuer`, which the 4.7.0 pack pairs with token persistence turned off.
 */
export type ConfigAddition = 'encryption-key' | 'gateway-notification' | 'extended-jwt-issuer';

/**
 * Everything that differs between products and versions: adding a version is one product file
 * (and its key catalogue); patterns and renderers read what they need from here.
 * @see ../../docs/products.md
 */
export interface ProductSpec {
  readonly id: ProductId;
  readonly description: string;
  /** Version string answered by /services/Version. */
  readonly version: string;
  /**
   * How a node gets its role: `profile` (one image, an environment variable), `distribution` (an
   * image per role; a traffic-manager role means the lab runs traffic-manager nodes), `args` (one
   * image, server arguments: the classic product's `-Dprofile=… -DworkerNode=true`).
   */
  readonly roleSwitch: 'profile' | 'distribution' | 'args';
  readonly roles: { readonly manager: RoleRuntime; readonly worker: RoleRuntime; readonly 'traffic-manager'?: RoleRuntime };
  readonly layout: ConfigLayout;
  /**
   * The key catalogue the product's deployment.toml files are checked against,
   * `generator/products/<keyCatalogue>.keys.json` (a stand-in has its real product's).
   */
  readonly keyCatalogue: string;
  /** The WSO2 setup whose keys the lab's deployment.toml follows, named in each file's header. */
  readonly configSource: string;
  readonly additions: readonly ConfigAddition[];
  /**
   * `true` when the image's entrypoint traps SIGTERM and stops the server gracefully (docker-apim
   * 4.7); `false` when the entrypoint shell ignores it and `docker stop` ends the node by SIGKILL
   * after the grace period (4.3, 4.5).
   */
  readonly stopOnTerm: boolean;
  /** `true` when the images come from a registry, `false` when `make images` builds them. */
  readonly pulled: boolean;
  readonly timing: ProductTiming;
  /** The database WSO2's own compose runs beside this version, and the JDBC driver its nodes need. */
  readonly database: ProductDatabase;
  /** Set on a stand-in running at a JVM's pace (`PACE=jvm`): its boots and the images it is built from. */
  readonly pace?: import('./pace').ProductPace;
  /**
   * ERROR lines a sound lab of the product logs, each with why it is harmless (the `logs-clean`
   * check lets these pass). None is known for any product here: a sound stand-in lab logs no ERROR.
   */
  readonly allowedErrors?: readonly { readonly match: RegExp; readonly why: string }[];
}

export interface ProductDatabase {
  /** The public MySQL image (docker-apim's compose of the version). */
  readonly image: string;
  /**
   * The JDBC driver a real node needs in `drivers/` (no 4.x WSO2 image ships one): which jar, and
   * what WSO2 uses; `inImage` when the product image already holds it (2.6.0's Dockerfile adds it).
   */
  readonly driver: { readonly jar: string; readonly used: string; readonly inImage?: boolean };
  /** The product's own SQL scripts the lab's database is made from, under the image's `dbscripts/`. */
  readonly scripts: { readonly shared: string; readonly apim: string };
  /** Where WSO2 says so. */
  readonly source: string;
}

/** The runtime of a role the product has; an error for one it has not (a model bug). */
export function runtimeOf(product: ProductSpec, role: Role): RoleRuntime {
  const runtime = product.roles[role];
  if (!runtime) throw new Error(`${product.id} has no ${role} role`);
  return runtime;
}

/** Every image a lab of the product runs, each once. */
export function productImages(product: ProductSpec): string[] {
  return [...new Set(Object.values(product.roles).map((r) => r.image))];
}

/** The roles of the product's nodes, in lab order. */
export function productRoles(product: ProductSpec): Role[] {
  return (['manager', 'worker', 'traffic-manager'] as const).filter((r) => product.roles[r]);
}

/** The mount points of the wso2am image's entrypoint (docker-apim docker-entrypoint.sh). */
export const CONFIG_VOLUME = '/home/wso2carbon/wso2-config-volume';
export const ARTIFACT_VOLUME = '/home/wso2carbon/wso2-artifact-volume';

/**
 * Ports of a WSO2 node (docs-apim default-product-ports): servlet, passthrough, and the gateway's
 * WebSocket inbound endpoints (`WebSocketInboundEndpoint` 9099, `SecureWebSocketInboundEndpoint` 8099).
 */
export const PORTS = {
  servletHttps: 9443,
  servletHttp: 9763,
  passthroughHttps: 8243,
  passthroughHttp: 8280,
  webSocket: 9099,
  webSocketSecure: 8099,
} as const;
