/** The states of an API's default lifecycle (`APILifeCycle` of the product), as the publisher stores them. */
export type LifecycleState = 'CREATED' | 'PROTOTYPED' | 'PUBLISHED' | 'BLOCKED' | 'DEPRECATED' | 'RETIRED';

/** One way out of a state: the action the publisher sends and the state it leads to. */
export interface Transition {
  readonly event: string;
  readonly targetState: string;
}

/**
 * The product's default lifecycle: for each state, the actions it accepts and where each leads.
 * The order of the actions is the order `availableTransitions` lists them in.
 */
export const LIFECYCLE: Readonly<Record<LifecycleState, Readonly<Record<string, LifecycleState>>>> = {
  CREATED: { Publish: 'PUBLISHED', 'Deploy as a Prototype': 'PROTOTYPED' },
  PROTOTYPED: { Publish: 'PUBLISHED', 'Demote to Created': 'CREATED' },
  PUBLISHED: { Block: 'BLOCKED', Deprecate: 'DEPRECATED', 'Demote to Created': 'CREATED', 'Deploy as a Prototype': 'PROTOTYPED' },
  BLOCKED: { 'Re-Publish': 'PUBLISHED', Deprecate: 'DEPRECATED' },
  DEPRECATED: { Retire: 'RETIRED' },
  RETIRED: {},
};

const has = (table: object, key: string): boolean => Object.prototype.hasOwnProperty.call(table, key);

/** A state as the lifecycle REST resources name it: `PUBLISHED` → `Published`. */
export const stateName = (state: string): string => state.charAt(0) + state.slice(1).toLowerCase();

/** The state `action` leads to from `state`, or undefined when the lifecycle does not allow it there. */
export function transition(state: string, action: string): LifecycleState | undefined {
  if (!has(LIFECYCLE, state)) return undefined;
  const actions = LIFECYCLE[state as LifecycleState];
  return has(actions, action) ? actions[action] : undefined;
}

/** The ways out of `state`, as `lifecycleState.availableTransitions` of the publisher lists them. */
export function availableTransitions(state: LifecycleState): Transition[] {
  return Object.entries(LIFECYCLE[state]).map(([event, target]) => ({ event, targetState: stateName(target) }));
}
