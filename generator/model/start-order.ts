import type { LabSpec, NodeSpec } from './lab';
import { isClassic, managers, ONE_SHOT_SERVICES, SYNC_SERVICE, trafficManagers, workers } from './lab';

/**
 * The order a lab starts in, as model facts: compose renders them as `depends_on`, Swarm deploys
 * its waves from them, and the startup budget follows their longest chain.
 */
export type Condition = 'service_healthy' | 'service_completed_successfully' | 'service_started';
export interface Dependency {
  readonly service: string;
  readonly condition: Condition;
}

const healthy = (nodes: readonly NodeSpec[]): Dependency[] => nodes.map((n) => ({ service: n.name, condition: 'service_healthy' }));

/** What a node waits for at `up`: the database and trust, and the nodes whose work it needs first. */
export function nodeDependencies(lab: LabSpec, node: NodeSpec): Dependency[] {
  const base: Dependency[] = [
    { service: 'db', condition: 'service_healthy' },
    { service: 'truststore', condition: 'service_completed_successfully' },
  ];
  const all = managers(lab);
  // Managers start one after another: two control planes creating an empty schema's
  // defaults at once race on duplicate keys (product-apim#7914, #9059, #4023).
  if (node.role === 'manager')
    return [
      ...base,
      ...healthy(
        all.slice(
          0,
          Math.max(
            0,
            all.findIndex((m) => m.name === node.name),
          ),
        ),
      ),
    ];
  // A traffic manager subscribes to the control planes' event hub.
  if (node.role === 'traffic-manager') return [...base, ...healthy(all)];
  // A gateway that starts before the control plane misses its startup sync (product-apim#12126);
  // it takes throttle decisions from the traffic managers.
  return [
    ...base,
    ...healthy(all),
    ...healthy(trafficManagers(lab)),
    ...lab.balancers.map((b) => ({ service: b.name, condition: 'service_started' as const })),
  ];
}

/**
 * Seconds a database takes to be ready on a lab's first start: MySQL's own initialisation plus the
 * product's schemas (about 20 s here for MySQL 8.0, under 10 s for MariaDB).
 */
export const DB_READY_SECONDS = 30;

/** The longest chain of boots a lab's start order holds, in seconds (the database first). */
export function startChainSeconds(lab: LabSpec): number {
  const boot = (n: NodeSpec) => lab.product.timing.bootSeconds[n.role];
  const memo = new Map<string, number>();
  const ready = (node: NodeSpec): number => {
    if (!memo.has(node.name)) {
      const before = nodeDependencies(lab, node)
        .map((d) => lab.nodes.find((n) => n.name === d.service))
        .filter((n): n is NodeSpec => !!n);
      memo.set(node.name, boot(node) + Math.max(DB_READY_SECONDS, ...before.map(ready)));
    }
    return memo.get(node.name)!;
  };
  return Math.max(...lab.nodes.map(ready));
}

/**
 * How long `up` may take to every node healthy: twice the longest chain of boots (a busy machine,
 * a health check's interval at each step), and a minute more for images and networks.
 */
export function startupBudgetSeconds(lab: LabSpec): number {
  return Math.ceil(2 * startChainSeconds(lab) + 60);
}

/**
 * What every service of a lab waits for at `up`, the one-shots included: compose renders it as
 * `depends_on`, Swarm deploys its waves from it. The database waits for the product's SQL copied
 * out of the product image; the classic sync for the managers (healthy) and the workers' volumes
 * (their containers made them).
 */
export function serviceDependencies(lab: LabSpec): Record<string, Dependency[]> {
  const deps: Record<string, Dependency[]> = Object.fromEntries(ONE_SHOT_SERVICES.map((s) => [s, []]));
  deps.db = [{ service: 'dbscripts', condition: 'service_completed_successfully' }];
  deps.backend = [];
  for (const b of lab.balancers) deps[b.name] = [];
  for (const n of lab.nodes) deps[n.name] = nodeDependencies(lab, n);
  if (isClassic(lab.product)) {
    deps[SYNC_SERVICE] = [
      ...healthy(managers(lab)),
      ...workers(lab).map((w) => ({ service: w.name, condition: 'service_started' as const })),
    ];
  }
  return deps;
}
