/**
 * The names a lab's Swarm stack gives its files, node labels and variables: what
 * render/stack.ts writes and runtime/swarm.ts reads (the files of the stack live in `swarm/`).
 */
export const SWARM_DIR = 'swarm';

/**
 * Node labels a stack places its services by. One key per role, not one `role` key with two
 * values: a single-node swarm must hold managers and workers on the one node.
 */
export const SWARM_LABELS = {
  manager: 'carbon-labs.role.manager',
  worker: 'carbon-labs.role.worker',
  /** The one node that keeps the database's volume. */
  db: 'carbon-labs.db',
} as const;
export type SwarmPlacement = keyof typeof SWARM_LABELS;

/**
 * The node label that says how this machine reaches a node's Docker engine (`unix:///…sock`, or
 * `tcp://host:2375`): the harness then acts on that node's tasks (stop, kill, exec, logs, stats).
 * Without it, a task on another node is awaited as Swarm reports it, and no more.
 */
export const SWARM_ENGINE_LABEL = 'carbon-labs.engine';

/** Files made at `up` (not generated): the product's SQL, copied out of its image. */
export const SWARM_DBSCRIPTS = { shared: `${SWARM_DIR}/dbscripts/mysql.sql`, apim: `${SWARM_DIR}/dbscripts/apimgt/mysql.sql` } as const;

/**
 * The variable that holds a service's replica count (default 1). `up` deploys the stack in waves,
 * the order compose's `depends_on` gives (Swarm has none), by raising these from 0.
 */
export const replicasVariable = (service: string): string => `CARBON_LABS_REPLICAS_${service.toUpperCase().replace(/-/g, '_')}`;
