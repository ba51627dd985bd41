import { rmSync, writeFileSync } from 'fs';
import { startupBudgetSeconds } from '../generator/model/start-order';
import { join } from 'path';
import YAML from 'yaml';
import type { LabSpec, NetworkName, NodeSpec, Target } from '../generator/model/lab';
import { addressOf, BACKEND_URL, dockerNetworkOf, makeArgs, managers, workers } from '../generator/model/lab';
import { PORTS } from '../generator/products/product';
import { labInDir } from '../generator/synth/lab-folder';
import type { ProductSpec } from '../generator/products/product';
import { ensureImages, Log } from '../generator/runtime/images';
import type { ContainerState } from '../generator/runtime/lab';
import { labContainers, labDirOf, labRunning, readLabEnv, waitHealthy } from '../generator/runtime/lab';
import type { Deployment } from '../generator/runtime/deployment';
import { deploymentFor, existingDeployment, swarmDeployment } from '../generator/runtime/deployment';
import {
  connectNetwork,
  containerLogs,
  containerStats,
  disconnectNetwork,
  execIn,
  inspectContainer,
  remoteEngineOf,
  killContainer,
  startContainer,
  stopContainer,
} from '../generator/runtime/engine';
import { retryUntil } from '../generator/runtime/retry';
import { run } from '../generator/runtime/exec';
import { LabError } from '../generator/errors';
import { PROJECT_ROOT } from '../generator/paths';
import { synthLab } from '../generator/synth/writer';
import { ApimClient } from './apim-client';
import { HttpClient } from './http';
import type { NodeFault } from './faults';
import { runProbe } from './probe';
import { GATE_WAIT_MS, labWeight, machineGate } from './gate';

/** Docker's own memory figure (`docker stats`): usage less inactive file cache. */
export function memoryBytes(stats: { memory_stats: { usage?: number; stats?: Record<string, number> } }): number {
  const s = stats.memory_stats;
  const inactive = s.stats?.total_inactive_file ?? s.stats?.inactive_file ?? 0;
  return (s.usage ?? 0) - inactive;
}

/**
 * A fault in force on a node, so that whatever ends a check (its own undo, or its deadline) can
 * take it back: a frozen process tree, a network it was cut off, a peer it was cut off from, a
 * service held down.
 */
export type Applied =
  | { readonly kind: 'frozen'; readonly service: string }
  | { readonly kind: 'disconnected'; readonly service: string; readonly network: NetworkName }
  | { readonly kind: 'isolated'; readonly service: string; readonly peer: string }
  | { readonly kind: 'down'; readonly service: string };

const same = (a: Applied, b: Applied) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A running lab as the harness sees it: URLs on 127.0.0.1, REST clients, and the container
 * actions a check needs (stop, kill, freeze, logs, memory), addressed by compose service name.
 * Where it runs is its {@link Deployment} (a compose project or a swarm stack), chosen once.
 */
export class LabTarget implements AsyncDisposable {
  readonly env: Record<string, string>;
  readonly deployment: Deployment;
  /** What is in force now (see {@link restore}). */
  private readonly applied: Applied[] = [];
  /** The running check's signal: its health waits end when it is stopped (set by the runner). */
  signal?: AbortSignal;

  /**
   * When this harness began to watch the lab (ms): a lab it starts, from before its start; one it
   * found running or brought to a fault's state, from then.
   */
  readonly since = Date.now();

  constructor(
    readonly lab: LabSpec,
    readonly dir: string,
    target: Target = 'compose',
  ) {
    this.env = readLabEnv(dir);
    this.deployment = deploymentFor(lab, target);
  }

  /** An attached lab is the user's: leaving an `await using` block leaves it running. */
  async [Symbol.asyncDispose](): Promise<void> {}

  get target(): Target {
    return this.deployment.target;
  }
  get product(): ProductSpec {
    return this.lab.product;
  }
  get managers(): readonly NodeSpec[] {
    return managers(this.lab);
  }
  get workers(): readonly NodeSpec[] {
    return workers(this.lab);
  }
  get managerBalancer(): string {
    return this.lab.balancers.find((b) => b.listeners.some((l) => l.kind === 'admin'))!.name;
  }
  get workerBalancer(): string {
    return this.lab.balancers.find((b) => b.listeners.some((l) => l.kind === 'api-https'))!.name;
  }
  /** The vhost of the "Default" gateway environment (its https_endpoint host). */
  get vhost(): string {
    return this.lab.workerEndpointHost;
  }
  get backendUrl(): string {
    return BACKEND_URL;
  }
  /** How long a node of the lab may take to come back after a start: the product's startup budget. */
  get startWaitMs(): number {
    return startupBudgetSeconds(this.lab) * 1000;
  }

  private url(variable: string, scheme = 'https'): string {
    const port = this.env[variable];
    if (!port) throw new Error(`${variable} is not in ${join(this.dir, '.env')}`);
    return `${scheme}://127.0.0.1:${port}`;
  }

  adminUrl(): string {
    return this.url('ADMIN_HTTPS_PORT');
  }
  apiUrl(): string {
    return this.url('API_HTTPS_PORT');
  }
  /** The worker balancer's WebSocket listeners (the gateway environment's ws/wss endpoints). */
  apiWebSocketUrl(secure: boolean): string {
    return secure ? this.url('API_WSS_PORT', 'wss') : this.url('API_WS_PORT', 'ws');
  }
  workerApiUrl(worker: string): string {
    return this.url(this.publishedVariable(worker, PORTS.passthroughHttps));
  }
  workerServletUrl(worker: string): string {
    return this.url(this.publishedVariable(worker, PORTS.servletHttps));
  }

  /** The `.env` variable holding the host port of a node's container port (from the model). */
  private publishedVariable(service: string, containerPort: number): string {
    const node = this.lab.nodes.find((n) => n.name === service);
    const published = node?.published.find((p) => p.containerPort === containerPort);
    if (!published) throw new Error(`${service} publishes no port ${containerPort} in ${this.lab.project}`);
    return published.variable;
  }

  http(baseUrl: string): HttpClient {
    return new HttpClient(baseUrl, this.product.timing.requestTimeoutMs);
  }
  managerClient(): ApimClient {
    return new ApimClient(this.http(this.adminUrl()));
  }

  /** The id of the service's container (on a stack, its running task's, else its newest). */
  async container(service: string): Promise<string> {
    const c = (await this.deployment.containers()).find((s) => s.service === service);
    if (!c) throw new Error(`${this.lab.project} has no container for ${service}`);
    return c.id;
  }

  private note(fault: Applied): void {
    if (!this.applied.some((a) => same(a, fault))) this.applied.push(fault);
  }
  private forget(fault: Applied): void {
    const i = this.applied.findIndex((a) => same(a, fault));
    if (i >= 0) this.applied.splice(i, 1);
  }

  /** `docker stop` of the service's container at once (on Swarm its task: Swarm starts a new one after its restart delay). */
  async stop(service: string): Promise<void> {
    await stopContainer(await this.container(service), 0);
  }
  async kill(service: string): Promise<void> {
    await killContainer(await this.container(service));
  }

  /**
   * A hung node: every process of the container but its PID 1 is stopped (SIGSTOP, as a JVM that
   * no longer runs): the kernel still accepts connections and nothing answers. Not the cgroup
   * freezer (`docker pause`): a health-check exec starting as the cgroup freezes can wedge in it,
   * and with it every engine call on that container (seen with Docker 20.10). Signals leave the
   * engine out of it: its health checks keep running (and failing) as they would on the product.
   */
  async pause(service: string): Promise<void> {
    this.note({ kind: 'frozen', service });
    await this.signalAll(service, 'STOP');
  }

  /** The processes `pause` stopped go on (SIGCONT). On Swarm a task frozen past its health check's retries was replaced: nothing is left to thaw. */
  async unpause(service: string): Promise<void> {
    await this.signalAll(service, 'CONT').catch((err: Error) => {
      if (!this.deployment.replacesUnhealthy) throw err;
    });
    this.forget({ kind: 'frozen', service });
  }

  /** `kill -<signal> -1` inside the container, as root: every process of its PID namespace but PID 1 and the shell itself. */
  private async signalAll(service: string, signal: 'STOP' | 'CONT'): Promise<void> {
    const r = await execIn(await this.container(service), ['sh', '-c', `kill -${signal} -1`], { user: 'root', ms: 15_000 });
    if (r.code !== 0) throw new Error(`kill -${signal} -1 in ${service} exited ${r.code}: ${r.output}`);
  }

  /** Restarts a service with `seconds` of grace (on Swarm: a new task in place of the old). */
  async restart(service: string, seconds = 5): Promise<void> {
    await this.deployment.restart(service, seconds, this.startWaitMs);
  }
  /** Starts a stopped service; on Swarm, which restarts ended tasks itself, waits until it runs a task again. */
  async start(service: string): Promise<void> {
    await this.deployment.start(service, this.startWaitMs);
    this.forget({ kind: 'down', service });
  }
  /** Holds a service down until {@link start}: its container stopped; on Swarm its service scaled to 0 (a stopped task is replaced). */
  async takeDown(service: string): Promise<void> {
    this.note({ kind: 'down', service });
    await this.deployment.takeDown(service, this.startWaitMs);
  }

  /** The address a service has on one of the lab's networks now (compose: the model's fixed one). */
  address(service: string, network: NetworkName): Promise<string> {
    return this.deployment.address(service, network);
  }

  /** The containers that publish the lab's host ports: its own, or a stack's access proxy. */
  publishingContainers(): Promise<ContainerState[]> {
    return labContainers(this.deployment.publishingProject);
  }

  /** A stack's config swapped for new content, as a user editing a running stack's file would; then healthy again. */
  async replaceConfig(service: string, source: string, target: string, content: string): Promise<void> {
    await swarmDeployment(this.deployment).replaceConfig(service, source, target, content);
    await this.waitHealthy();
  }

  /** Why a node fault cannot be applied to this lab from here, or undefined when it can. */
  faultUnavailable(fault: NodeFault): string | undefined {
    if (fault === 'db-partition') return LabTarget.isolationUnavailable();
    if (fault === 'partition') return this.deployment.partitionUnavailable;
    return undefined;
  }

  /** Cuts a service off one of the lab's networks (its address there vanishes). */
  async disconnect(service: string, network: NetworkName): Promise<void> {
    this.note({ kind: 'disconnected', service, network });
    await disconnectNetwork(dockerNetworkOf(this.lab, network), await this.container(service));
  }

  /** Puts a service back on a network at its fixed address, under its service name, as compose had it. */
  async reconnect(service: string, network: NetworkName): Promise<void> {
    await connectNetwork(dockerNetworkOf(this.lab, network), await this.container(service), addressOf(this.lab, service, network), [
      service,
    ]);
    this.forget({ kind: 'disconnected', service, network });
  }

  /**
   * Cuts `service` off `peer` only: inside the service's network namespace every packet from the
   * peer's `cluster` address is dropped, so connections to it hang as across a broken link (no
   * reset, no "unreachable"), while the rest of the lab reaches both. Needs `nsenter` and `iptables`
   * as root on the Docker host ({@link LabTarget.isolationUnavailable}).
   */
  async isolate(service: string, peer: string): Promise<void> {
    this.note({ kind: 'isolated', service, peer });
    await this.peerFilter('-I', service, peer);
  }
  async rejoin(service: string, peer: string): Promise<void> {
    await this.peerFilter('-D', service, peer);
    this.forget({ kind: 'isolated', service, peer });
  }

  /** Why {@link isolate} cannot run from here, or undefined when it can. */
  static isolationUnavailable(): string | undefined {
    if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://'))
      return `the Docker engine is remote (DOCKER_HOST=${process.env.DOCKER_HOST}): nsenter reaches local containers only`;
    if (process.getuid?.() !== 0) return 'cutting one link needs root on the Docker host (nsenter, iptables): run as root';
    return undefined;
  }

  private async peerFilter(op: '-I' | '-D', service: string, peer: string): Promise<void> {
    const container = await this.container(service);
    // A PID another node's engine gives is of that node's namespace, not one nsenter here may enter.
    const elsewhere = remoteEngineOf(container);
    if (elsewhere) throw new Error(`${service} runs on another node (${elsewhere}): nsenter cuts links of this engine's containers only`);
    const pid = (await inspectContainer(container)).State.Pid;
    const rule = ['INPUT', '-s', await this.address(peer, 'cluster'), '-j', 'DROP'];
    const r = await run('nsenter', ['-t', String(pid), '-n', 'iptables', op, ...rule], { timeoutMs: 10_000 });
    if (r.code !== 0)
      throw new Error(`iptables ${op} ${rule.join(' ')} in ${service}'s network namespace failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /**
   * Takes back every fault still in force (a check that ran out of time leaves them), then waits
   * until the lab is healthy: frozen processes go on, networks and peers are given back, services
   * held down start again, and containers that are not running are started. Says what it did.
   */
  async restore(log: Log = () => undefined): Promise<string[]> {
    const done = await this.takeBack(log);
    await this.waitHealthy(log);
    return done;
  }

  /** {@link restore} without the wait for health (a caller that waits itself, or recreates what a fault keeps unhealthy). */
  async takeBack(log: Log = () => undefined): Promise<string[]> {
    const done: string[] = [];
    for (const fault of [...this.applied].reverse()) {
      if (fault.kind === 'frozen') await this.unpause(fault.service);
      else if (fault.kind === 'disconnected') await this.reconnect(fault.service, fault.network);
      else if (fault.kind === 'isolated') await this.rejoin(fault.service, fault.peer);
      else await this.start(fault.service);
      done.push(
        `${fault.kind} ${fault.service}${'network' in fault ? ` (${fault.network})` : 'peer' in fault ? ` (from ${fault.peer})` : ''} taken back`,
      );
    }
    // A container left stopped (Swarm replaces its own tasks; one-shots are done).
    for (const c of await this.deployment.leftStopped()) {
      await startContainer(c.id);
      done.push(`${c.service} (${c.state}) started`);
    }
    for (const line of done) log(`restore: ${line}`);
    return done;
  }

  async logs(service: string, lines = 20): Promise<string> {
    return (await containerLogs(await this.container(service), lines)).trim();
  }

  /** Runs a command in a service's container; its exit code and output. */
  async exec(service: string, command: readonly string[]): Promise<{ code: number; output: string }> {
    return execIn(await this.container(service), command);
  }

  async memory(service: string): Promise<number> {
    return memoryBytes((await containerStats(await this.container(service))) as never);
  }

  /** Waits until every service is healthy again (after a fault is undone, unhealthy is a phase). */
  async waitHealthy(log: Log = () => undefined, unhealthyIsFatal = false): Promise<void> {
    await waitHealthy(this.lab, startupBudgetSeconds(this.lab), log, {
      unhealthyIsFatal,
      services: this.deployment.awaited,
      signal: this.signal,
      containers: () => this.deployment.containers(),
    });
  }

  /**
   * Runs a command in a throw-away container on one of the lab's networks (a probe): by default
   * from the balancers' image, or from `image` (the product's, for its JVM) with host `binds`
   * (`host:container[:ro]`).
   */
  async probe(
    network: 'public' | 'admin' | 'cluster',
    command: string[],
    options: { image?: string; binds?: string[]; user?: string } = {},
  ): Promise<{ code: number; output: string }> {
    const image = options.image ?? (await inspectContainer(await this.container(this.workerBalancer))).Config.Image;
    return runProbe({
      image,
      network: dockerNetworkOf(this.lab, network),
      label: this.lab.project,
      command,
      binds: options.binds,
      user: options.user,
    });
  }
}

/** A lab this process started: `down()`, or the end of its `await using` block, removes it. */
export class StartedLab extends LabTarget {
  async down(): Promise<void> {
    await this.deployment.down(this.dir, () => undefined);
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

/**
 * A deliberately broken lab, at the one layer the break lives in:
 * - `model`: the lab model before it is written (not validated: the break is the point);
 * - `files`: the written lab folder (a mis-wired deployment.toml, as a user's typo would be);
 * - `compose`: a compose override layered on the lab's file, by service (environment, command);
 * - `live`: a change to the running lab once it is healthy (a file edited in place, that only a
 *   restart would read).
 * `unhealthy` names the services the fault keeps from turning healthy: they are awaited until
 * they serve (the "started" line of the stand-in and the product), not until healthy.
 */
export type LabFault = (
  | { readonly kind: 'model'; readonly mutate: (lab: LabSpec) => LabSpec }
  | { readonly kind: 'files'; readonly edit: (dir: string) => void }
  | { readonly kind: 'compose'; readonly services: Record<string, Record<string, unknown>> }
  | { readonly kind: 'live'; readonly apply: (lab: LabTarget) => Promise<void> }
) & { readonly unhealthy?: readonly string[] };

export interface StartOptions {
  /** Folder of the lab; default a fresh one under dist/labs (never the committed labs/). */
  readonly dir?: string;
  readonly faults?: readonly LabFault[];
  /** Start only these services (and what they depend on); nothing is awaited. Compose only. */
  readonly only?: readonly string[];
  readonly log?: Log;
  /** A compose lab (default) or a swarm stack. */
  readonly target?: Target;
}

const SERVING = /Server ready|Gateway listening|WSO2 Carbon started/;
/** The compose override a broken lab's `compose` faults are written to, beside the lab's own file. */
export const FAULT_OVERRIDE = 'carbon-labs.fault.yml';

/** The lab model with the faults' changes to it (a `model` fault's). */
export const faultedModel = (spec: LabSpec, faults: readonly LabFault[]): LabSpec =>
  faults.reduce((lab, f) => (f.kind === 'model' ? f.mutate(lab) : lab), spec);

/**
 * Writes a lab broken by its faults into a fresh `dir` (every layer but `live`): the model's
 * changes, the compose override, the edited files. The model it was written from, its compose
 * files in order, and the services the faults keep from turning healthy.
 */
export function writeFaultedLab(
  spec: LabSpec,
  faults: readonly LabFault[],
  dir: string,
): { lab: LabSpec; files: string[]; unhealthy: string[] } {
  const lab = faultedModel(spec, faults);
  rmSync(dir, { recursive: true, force: true });
  synthLab(lab, dir, { force: true, unsafeSkipValidation: faults.some((f) => f.kind === 'model') });
  const files = ['docker-compose.yml'];
  const overrides = faults.flatMap((f) => (f.kind === 'compose' ? Object.entries(f.services) : []));
  if (overrides.length) {
    writeFileSync(join(dir, FAULT_OVERRIDE), YAML.stringify({ services: Object.fromEntries(overrides) }));
    files.push(FAULT_OVERRIDE);
  }
  for (const f of faults) if (f.kind === 'files') f.edit(dir);
  return { lab, files, unhealthy: faults.flatMap((f) => f.unhealthy ?? []) };
}

/** Waits until each of `services` (kept unhealthy by a fault) says it serves, within the lab's startup budget. */
export async function awaitServing(lab: LabTarget, services: readonly string[]): Promise<void> {
  for (const service of services) {
    await retryUntil(async () => (SERVING.test(await lab.logs(service, 400)) ? true : undefined), {
      timeoutMs: lab.startWaitMs,
      intervalMs: 500,
      what: `${service} to serve`,
    });
  }
}

/**
 * Writes the lab (with its faults) into a fresh folder and brings it up through the same
 * `prepareLab` → compose → health wait as `carbon-labs up`. Refuses when a lab of that name runs.
 */
export async function startLab(spec: LabSpec, options: StartOptions = {}): Promise<StartedLab> {
  const log = options.log ?? (() => undefined);
  const faults = options.faults ?? [];
  const lab = faultedModel(spec, faults);
  const target = options.target ?? 'compose';
  if (await labRunning(lab.project)) {
    throw new LabError(`${lab.project} is already running; a started lab needs its name and ports`, `make down ${makeArgs(lab)}`);
  }
  const dir = options.dir ?? join(PROJECT_ROOT, 'dist', 'labs', lab.named ? lab.named.name : `${lab.product.id}-p${lab.pattern}`);
  const { files, unhealthy } = writeFaultedLab(spec, faults, dir);
  const imagesEnv = await ensureImages(lab.product, log);
  const started = new StartedLab(lab, dir, target);
  const budgetSeconds = startupBudgetSeconds(lab);
  try {
    // A start keeps less than a core busy (harness/gate.ts): a share, as a check takes; half one at
    // a JVM's pace, which mostly waits for boots.
    await machineGate().holding(
      labWeight(lab),
      {
        what: `${lab.project}: start`,
        timeoutMs: GATE_WAIT_MS,
        waiting: (holders, waited) =>
          log(`waiting ${Math.round(waited / 1000)} s for a share of the machine to start ${lab.project} (held by ${holders.join('; ')})`),
      },
      async () => {
        await started.deployment.up(dir, {
          imagesEnv,
          budgetSeconds,
          log,
          overrides: files.slice(1),
          only: options.only,
          unawaited: unhealthy,
        });
        if (options.only) return;
        await awaitServing(started, unhealthy);
      },
    );
    for (const f of faults) if (f.kind === 'live') await f.apply(started);
  } catch (err) {
    await started.down().catch(() => undefined);
    throw err;
  }
  return started;
}

/** The running lab of that compose project or swarm stack, wherever its folder is (from compose's labels). */
export async function attachLab(project: string): Promise<LabTarget> {
  const dir = await labDirOf(project);
  const lab = labInDir(dir);
  return new LabTarget(lab, dir, (await existingDeployment(lab)).target);
}

/**
 * Attaches to the lab when it runs (e.g. started by `make lab`; as its manifest says: its size,
 * its pace), else starts it (a named one in a folder of its name).
 */
export async function openLab(lab: LabSpec, log: Log = () => undefined, target: Target = 'compose'): Promise<LabTarget> {
  if (await labRunning(lab.project)) {
    log(`attaching to running lab ${lab.project}`);
    return attachLab(lab.project);
  }
  return startLab(lab, { log, target, ...(lab.named ? { dir: join(PROJECT_ROOT, 'dist', 'labs', lab.named.name) } : {}) });
}
