import { existsSync, mkdirSync } from 'fs';
import { hostname } from 'os';
import { dirname, join } from 'path';
import { LabError } from '../errors';
import { isClassic } from '../products/product';
import type { LabSpec, Target } from '../model/lab';
import { makeArgs, TARGETS, TRUST } from '../model/lab';
import { productImage } from '../products/images';
import { serviceDependencies } from '../model/start-order';
import { truststoreOneShot } from '../model/one-shots';
import type { SwarmPlacement } from '../model/swarm';
import { replicasVariable, SWARM_DBSCRIPTS, SWARM_DIR, SWARM_ENGINE_LABEL, SWARM_LABELS } from '../model/swarm';
import { runtimeOf } from '../products/product';
import { requireDocker } from './docker';
import { run } from './exec';
import type { Log } from './images';
import type { ContainerState } from './lab';
import { accessProject, labContainers, labRunning, longRunningServices, prepareLab, readLabEnv, STACK_NAMESPACE, waitHealthy } from './lab';
import { retryUntil } from './retry';
import { composeDown, composeUp } from './compose-cli';
import { engineInfo, listNetworks, listNodes, listServices, listTasks, remoteContainer, removeVolume } from './engine';

/** What a target adds to the names of a lab's folders and reports (`pattern-3-swarm`). */
export const TARGET_SUFFIX: Record<Target, string> = { compose: '', swarm: '-swarm' };

export function parseTarget(value: string): Target {
  if (!(TARGETS as readonly string[]).includes(value))
    throw new LabError(`--target must be ${TARGETS.join(' or ')}, not "${value}"`, 'make lab PATTERN=3 TARGET=swarm');
  return value as Target;
}

/** What the Docker API says of a stack's service (the parts read here). */
export interface StackService {
  readonly ID?: string;
  readonly Spec?: {
    readonly Name?: string;
    readonly Mode?: { readonly Replicated?: { readonly Replicas?: number } };
    readonly EndpointSpec?: {
      readonly Ports?: readonly { readonly TargetPort?: number; readonly PublishedPort?: number; readonly PublishMode?: string }[];
    };
  };
}

/** The services of a stack on this engine's swarm; none when the engine is no swarm manager. */
export async function stackServices(project: string, ms?: number): Promise<StackService[]> {
  const info = await engineInfo(ms);
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) return [];
  return (await listServices([`${STACK_NAMESPACE}=${project}`], ms)) as StackService[];
}

/** What the Docker API says of a swarm task (the parts read here). */
export interface SwarmTask {
  readonly ServiceID?: string;
  readonly NodeID?: string;
  readonly CreatedAt?: string;
  readonly Status?: { readonly State?: string; readonly ContainerStatus?: { readonly ContainerID?: string } };
}

/**
 * The stack's tasks on other nodes than `self`, as the states a lab's containers have: Swarm keeps a
 * task with a health check `starting` until its first healthy probe, then `running` (and replaces
 * it when it turns unhealthy), so a running task is a healthy container. By service, the newest;
 * its container on the node's engine when the node's `carbon-labs.engine` label says how to reach it.
 */
export function tasksElsewhere(
  project: string,
  services: readonly StackService[],
  tasks: readonly SwarmTask[],
  nodes: readonly SwarmNode[],
  self: string | undefined,
): ContainerState[] {
  const names = new Map(services.map((s) => [s.ID, s.Spec?.Name?.slice(project.length + 1)]));
  const newest = new Map<string, SwarmTask>();
  for (const t of tasks) {
    const service = names.get(t.ServiceID);
    if (!service || t.NodeID === self || !t.Status?.ContainerStatus?.ContainerID) continue;
    const seen = newest.get(service);
    if (!seen || (seen.CreatedAt ?? '') < (t.CreatedAt ?? '')) newest.set(service, t);
  }
  return [...newest].map(([service, t]) => {
    const state = t.Status?.State ?? 'unknown';
    const node = nodes.find((n) => n.id === t.NodeID);
    const engine = node?.labels[SWARM_ENGINE_LABEL];
    const id = t.Status!.ContainerStatus!.ContainerID!;
    return {
      service,
      state: state === 'starting' ? 'running' : state,
      health: state === 'running' ? 'healthy' : state === 'starting' ? 'starting' : undefined,
      id: engine ? remoteContainer(id, engine) : id,
      node: node?.name ?? t.NodeID,
    };
  });
}

/**
 * A stack's containers: this engine's own (their health as the engine has it), and the tasks Swarm
 * placed on other nodes (their state as Swarm has it), each with its node.
 */
export async function stackContainers(project: string, ms?: number): Promise<ContainerState[]> {
  const [local, info] = await Promise.all([labContainers(project, ms), engineInfo(ms)]);
  const self = info.Swarm?.NodeID;
  if (info.Swarm?.LocalNodeState !== 'active' || !info.Swarm.ControlAvailable) return local;
  const services = (await listServices([`${STACK_NAMESPACE}=${project}`], ms)) as StackService[];
  const ids = services.map((s) => s.ID).filter((id): id is string => Boolean(id));
  if (ids.length === 0) return local;
  const [tasks, nodes] = await Promise.all([listTasks(ids, ms) as Promise<SwarmTask[]>, swarmNodes()]);
  const here = nodes.find((n) => n.id === self)?.name;
  const elsewhere = tasksElsewhere(project, services, tasks, nodes, self).filter(
    (t) => !local.some((c) => c.service === t.service && c.state === 'running'),
  );
  return [...local.filter((c) => !elsewhere.some((t) => t.service === c.service)).map((c) => ({ ...c, node: here })), ...elsewhere].sort(
    (a, b) => a.service.localeCompare(b.service),
  );
}

/** Whether a swarm stack of that name has services on this engine's swarm. */
export async function stackExists(project: string, ms?: number): Promise<boolean> {
  return (await stackServices(project, ms)).length > 0;
}

/** Whether every long-running service of the lab exists in the stack with a task asked for. */
async function stackComplete(lab: LabSpec): Promise<boolean> {
  const replicas = new Map((await stackServices(lab.project)).map((s) => [s.Spec?.Name, s.Spec?.Mode?.Replicated?.Replicas ?? 0]));
  return longRunningServices(lab).every((name) => (replicas.get(`${lab.project}_${name}`) ?? 0) >= 1);
}

/** `${FOO:-default}` of a compose or stack file, as Docker fills it in from `env`. */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)(?::-([^}]*))?\}/g, (_m, name: string, fallback?: string) => env[name] || fallback || '');
}

/**
 * The lab's start order (the model's, which compose renders as `depends_on`) as waves for Swarm
 * (which has none): each service comes in the first wave after every service it depends on
 * (one-shots are run before).
 */
export function deployWaves(lab: LabSpec): string[][] {
  const dependencies = serviceDependencies(lab);
  const longRunning = new Set(longRunningServices(lab));
  const wave = new Map<string, number>();
  const waveOf = (name: string): number => {
    if (!wave.has(name)) {
      const deps = dependencies[name].map((d) => d.service).filter((d) => longRunning.has(d));
      wave.set(name, deps.length ? 1 + Math.max(...deps.map(waveOf)) : 0);
    }
    return wave.get(name)!;
  };
  const waves: string[][] = [];
  for (const name of longRunning) (waves[waveOf(name)] ??= []).push(name);
  return waves.filter(Boolean);
}

export interface SwarmNode {
  readonly id?: string;
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ready: boolean;
}

async function swarmNodes(): Promise<SwarmNode[]> {
  const nodes = (await listNodes()) as {
    ID?: string;
    Description?: { Hostname?: string };
    Spec?: { Labels?: Record<string, string>; Availability?: string };
    Status?: { State?: string };
  }[];
  return nodes.map((n) => ({
    id: n.ID,
    name: n.Description?.Hostname ?? '?',
    labels: n.Spec?.Labels ?? {},
    ready: n.Status?.State === 'ready' && n.Spec?.Availability === 'active',
  }));
}

/** What `docker info` says of the engine's swarm. */
export interface SwarmInfo {
  readonly LocalNodeState?: string;
  readonly ControlAvailable?: boolean;
}

/**
 * What a stack needs of the engine, each refusal naming its fix: a swarm, this node one of its
 * managers, a ready node labelled for each role, and one node for the database's volume (its own
 * host, or the managers': behind the firewall either way, on `cluster` alone). Undefined when the swarm can take the stack.
 */
export function swarmRefusal(swarm: SwarmInfo | undefined, allNodes: readonly SwarmNode[], thisNode = hostname()): LabError | undefined {
  const labelAll = `docker node update ${Object.values(SWARM_LABELS)
    .map((l) => `--label-add ${l}=true`)
    .join(' ')} ${thisNode}`;
  if (swarm?.LocalNodeState !== 'active') {
    return new LabError(
      '--target swarm: this Docker engine is not part of a swarm',
      `make swarm (a one-node swarm, labelled for every role), or: docker swarm init, then ${labelAll}`,
    );
  }
  if (!swarm.ControlAvailable)
    return new LabError(
      '--target swarm: this Docker engine is a swarm worker; stacks are deployed from a manager node',
      'run make lab on a swarm manager (docker node ls there)',
    );
  const nodes = allNodes.filter((n) => n.ready);
  const carrying = (placement: SwarmPlacement) => nodes.filter((n) => n.labels[SWARM_LABELS[placement]] === 'true');
  for (const placement of ['manager', 'worker', 'db'] as const) {
    if (carrying(placement).length === 0) {
      return new LabError(
        `--target swarm: no ready swarm node is labelled ${SWARM_LABELS[placement]}=true, so the stack's ${placement === 'db' ? 'database' : `${placement}s`} cannot be placed`,
        `${labelAll}  (one machine, or make swarm; on several see docs/swarm.md)`,
      );
    }
  }
  const db = carrying('db');
  if (db.length > 1)
    return new LabError(
      `--target swarm: ${db.length} nodes are labelled ${SWARM_LABELS.db}=true (${db.map((n) => n.name).join(', ')}); the database's volume lives on one`,
      `docker node update --label-rm ${SWARM_LABELS.db} ${db
        .slice(1)
        .map((n) => n.name)
        .join(' ')}`,
    );
  return undefined;
}

/** Ready nodes other than this one that carry a carbon-labs role label but no engine label (tasks may land there, out of the harness's reach). */
function otherLabelledNodes(nodes: readonly SwarmNode[], self: string | undefined): string[] {
  return nodes
    .filter(
      (n) => n.ready && n.id !== self && !n.labels[SWARM_ENGINE_LABEL] && Object.values(SWARM_LABELS).some((l) => n.labels[l] === 'true'),
    )
    .map((n) => n.name);
}

/**
 * Refuses a stack the engine's swarm cannot take (see {@link swarmRefusal}), or one whose compose
 * lab runs. Returns the other labelled nodes, where tasks this engine cannot see may land.
 */
export async function swarmPreflight(lab: LabSpec): Promise<string[]> {
  const info = await engineInfo();
  const nodes = info.Swarm?.LocalNodeState === 'active' && info.Swarm.ControlAvailable ? await swarmNodes() : [];
  const refusal = swarmRefusal(info.Swarm, nodes);
  if (refusal) throw refusal;
  if ((await labRunning(lab.project)) && !(await stackExists(lab.project))) {
    throw new LabError(
      `${lab.project} runs as a compose lab on this engine; its stack would take the same networks`,
      `make down ${makeArgs(lab)}`,
    );
  }
  return otherLabelledNodes(nodes, info.Swarm?.NodeID);
}

/**
 * What compose's one-shots do, run once on this host before the stack: the truststore (the
 * model's truststore one-shot, its script with `docker run`), and the product's SQL copied out of
 * its image into `swarm/dbscripts/` for the database's configs (`docker create` and `docker cp`:
 * the stack reads the files as configs, not from a volume).
 */
async function runOneShots(lab: LabSpec, dir: string, env: Record<string, string | undefined>, log: Log): Promise<void> {
  const image = interpolate(productImage(lab, 'manager'), env);
  const truststore = truststoreOneShot();
  if (!existsSync(join(dir, TRUST.truststore))) log(`making ${TRUST.truststore} with ${image}'s keytool`);
  const binds = truststore.mounts.flatMap((m) => ['-v', `${join(dir, m.source)}:${m.target}${m.readOnly ? ':ro' : ''}`]);
  const made = await run(
    'docker',
    ['run', '--rm', '--network', 'none', '--user', 'root', '--entrypoint', '/bin/sh', ...binds, image, '-c', truststore.script],
    { timeoutMs: 120_000 },
  );
  if (made.code !== 0) throw new LabError(`the truststore one-shot failed:\n${(made.stderr || made.stdout).trim()}`);

  // The image's own home (an image built elsewhere may have another than the product's).
  const imageEnv = await run('docker', ['image', 'inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', image], {
    timeoutMs: 30_000,
  });
  const home = /^WSO2_SERVER_HOME=(.+)$/m.exec(imageEnv.stdout)?.[1] ?? runtimeOf(lab.product, 'manager').home;
  const created = await run('docker', ['create', image], { timeoutMs: 60_000 });
  if (created.code !== 0) throw new LabError(`docker create ${image} failed: ${created.stderr.trim()}`);
  const id = created.stdout.trim();
  try {
    for (const [from, to] of [
      [lab.product.database.scripts.shared, SWARM_DBSCRIPTS.shared],
      [lab.product.database.scripts.apim, SWARM_DBSCRIPTS.apim],
    ]) {
      mkdirSync(dirname(join(dir, to)), { recursive: true });
      const copied = await run('docker', ['cp', `${id}:${home}/dbscripts/${from}`, join(dir, to)], { timeoutMs: 60_000 });
      if (copied.code !== 0) throw new LabError(`could not copy ${home}/dbscripts/${from} out of ${image}: ${copied.stderr.trim()}`);
    }
  } finally {
    await run('docker', ['rm', '-f', id], { timeoutMs: 60_000 });
  }
}

export interface StackOptions {
  readonly imagesEnv: Record<string, string>;
  readonly budgetSeconds: number;
  readonly log: Log;
  /** Also publish the balancers' listeners on the nodes' interfaces (`swarm/publish.yml`). */
  readonly publish?: boolean;
  /** Files in the lab folder layered on the stack, in order (the harness's broken labs: environment, image). */
  readonly overrides?: readonly string[];
  /** Services whose health is not awaited (a broken lab keeps them unhealthy). */
  readonly unawaited?: readonly string[];
}

function stackFiles(options: StackOptions): string[] {
  return [join(SWARM_DIR, 'docker-stack.yml'), ...(options.publish ? [join(SWARM_DIR, 'publish.yml')] : []), ...(options.overrides ?? [])];
}

async function deploy(lab: LabSpec, dir: string, env: Record<string, string | undefined>, options: StackOptions): Promise<void> {
  const files = stackFiles(options).flatMap((f) => ['-c', f]);
  // `--resolve-image never`: images of this engine (the stand-in, offline images) are used as they are.
  const r = await run('docker', ['stack', 'deploy', '--resolve-image', 'never', '--prune', ...files, lab.project], {
    cwd: dir,
    env: env as NodeJS.ProcessEnv,
    timeoutMs: 180_000,
  });
  const output = (r.stderr || r.stdout).trim();
  // Configs and secrets cannot change under a running stack: its files were regenerated (or the trust chain made again).
  if (r.code !== 0 && /only updates to Labels are allowed/.test(output)) {
    throw new LabError(
      `${lab.project} runs with files that have changed since it was deployed (Swarm configs cannot change in place): ${output.split('\n').slice(-1)[0]}`,
      `make down ${makeArgs(lab)}, then make lab ${makeArgs(lab)} TARGET=swarm`,
    );
  }
  if (r.code !== 0) throw new LabError(`docker stack deploy failed for ${lab.project}:\n${output.split('\n').slice(-6).join('\n')}`);
}

/** The last error Swarm recorded for a service's tasks (why it has none running), if any. */
export async function taskError(project: string, service: string): Promise<string | undefined> {
  const r = await run('docker', ['service', 'ps', '--no-trunc', '--format', '{{.CurrentState}}: {{.Error}}', `${project}_${service}`], {
    timeoutMs: 30_000,
  });
  return r.stdout
    .split('\n')
    .find((l) => /: \S/.test(l))
    ?.trim();
}

/**
 * `up --target swarm`: the stack from the lab's `swarm/` files, deployed in the waves compose's
 * `depends_on` gives, each awaited healthy; then the access proxy for the 127.0.0.1 ports. A
 * running stack is deployed once more with every service (a no-op when nothing changed).
 */
export async function upStack(lab: LabSpec, dir: string, options: StackOptions): Promise<number> {
  if (isClassic(lab.product)) {
    throw new LabError(
      `--target swarm: ${lab.product.id} runs on compose only (its workers' Synapse files come from a sync service over volumes, which a stack of several hosts cannot share)`,
      `make lab ${makeArgs(lab)}`,
    );
  }
  await requireDocker();
  const others = await swarmPreflight(lab);
  if (others.length)
    options.log(
      `warning: ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} labelled for carbon-labs too: with no ${SWARM_ENGINE_LABEL} label: tasks placed there are awaited as Swarm reports them, but the harness cannot act on them (docs/swarm.md, "Several hosts")`,
    );
  const started = Date.now();
  // Deployed whole before (every service asked for its task): one deploy. A stack left half-way
  // (a wave that failed) goes through the waves again, which only ever raise replicas.
  const complete = await stackComplete(lab);
  await prepareLab(lab, dir, options.log, { portsHeldBy: accessProject(lab.project), driverIn: 'image' });
  const env = { ...process.env, ...readLabEnv(dir), ...options.imagesEnv };
  await runOneShots(lab, dir, env, options.log);
  const waves = complete ? [longRunningServices(lab)] : deployWaves(lab);
  const deployed: string[] = [];
  for (const [i, wave] of waves.entries()) {
    deployed.push(...wave);
    const replicas = Object.fromEntries(longRunningServices(lab).map((s) => [replicasVariable(s), deployed.includes(s) ? '1' : '0']));
    options.log(`deploying stack ${lab.project}${waves.length > 1 ? `, wave ${i + 1}/${waves.length}: ${wave.join(', ')}` : ''}`);
    await deploy(lab, dir, { ...env, ...replicas }, options);
    await waitHealthy(lab, options.budgetSeconds, options.log, {
      services: [...deployed],
      unawaited: options.unawaited,
      containers: () => stackContainers(lab.project),
    }).catch(async (err: Error) => {
      const errors = (await Promise.all(wave.map(async (s) => [s, await taskError(lab.project, s)] as const))).filter(([, e]) => e);
      throw new LabError(
        `${err.message}${errors.length ? `\nSwarm's task errors: ${errors.map(([s, e]) => `${s}: ${e}`).join('; ')}` : ''}`,
        `docker stack ps ${lab.project} --no-trunc`,
      );
    });
  }
  if (options.publish) {
    // The stack holds the ports itself (0.0.0.0 of the balancers' nodes): a proxy on 127.0.0.1 would collide on this node.
    options.log(
      `published by the stack on every interface of the balancers' nodes (PUBLISH=1); the workers' direct ports are not published`,
    );
    return (Date.now() - started) / 1000;
  }
  options.log(`starting the access proxy (127.0.0.1 ports) from ${join(dir, SWARM_DIR, 'access.yml')}`);
  await composeUp({ cwd: join(dir, SWARM_DIR), files: ['access.yml'], env: env as NodeJS.ProcessEnv, seconds: 180 }).catch((e: Error) => {
    throw new LabError(`the access proxy of ${lab.project}: ${e.message}`);
  });
  return (Date.now() - started) / 1000;
}

/** `down` of a stack: the access proxy, the stack (services, networks, configs, secrets), its database volume; nothing else. */
export async function downStack(lab: LabSpec, dir: string, log: Log): Promise<void> {
  await requireDocker();
  log(`removing stack ${lab.project} (services, networks, configs, secrets, the database volume) and its access proxy`);
  if (existsSync(join(dir, SWARM_DIR, 'access.yml'))) {
    // Its containers hold the stack's overlay networks: a failure here is said, not swallowed.
    await composeDown({
      cwd: join(dir, SWARM_DIR),
      files: ['access.yml'],
      env: { ...process.env, ...readLabEnv(dir) },
      commandOptions: ['--timeout', '0'],
      seconds: 120,
    }).catch((e: Error) => {
      throw new LabError(
        `the access proxy of ${lab.project} (it holds the stack's networks): ${e.message.split('\n').slice(-3).join(' ')}`,
        `docker compose -p ${accessProject(lab.project)} down`,
      );
    });
  }
  const r = await run('docker', ['stack', 'rm', lab.project], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new LabError(`docker stack rm failed for ${lab.project}: ${(r.stderr || r.stdout).trim()}`);
  // `stack rm` returns before the tasks are gone; the volume and the networks go after them.
  await retryUntil(
    async () =>
      (await labContainers(lab.project)).length === 0 && (await listNetworks([`${STACK_NAMESPACE}=${lab.project}`])).length === 0
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 500, what: `the tasks and networks of ${lab.project} to go` },
  );
  await retryUntil(
    async () => {
      const gone = await removeVolume(`${lab.project}_db-data`).then(
        () => true,
        () => false,
      );
      return gone ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: `the volume ${lab.project}_db-data to be removed` },
  );
}
