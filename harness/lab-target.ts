import type Docker from 'dockerode';
import { rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { GenericContainer } from 'testcontainers';
import type { LabName, LabScale, LabSpec, NetworkName, NodeSpec, PatternId } from '../generator/model/lab';
import { addressOf, BACKEND_URL, makeArgs, managers, workers } from '../generator/model/lab';
import { PORTS } from '../generator/products/product';
import { buildLab, labInDir, projectName } from '../generator/patterns';
import type { ProductSpec } from '../generator/products/product';
import { ensureImages, Log } from '../generator/runtime/images';
import type { ContainerState } from '../generator/runtime/lab';
import { accessProject, containerLogs, demuxed, docker, downLab, labContainers, labDirOf, labRunning, labServices, longRunningServices, readLabEnv, upLab, waitHealthy } from '../generator/runtime/lab';
import type { Target } from '../generator/runtime/swarm';
import { downStack, stackExists, stackServices, upStack } from '../generator/runtime/swarm';
import { retryUntil } from '../generator/runtime/retry';
import { run } from '../generator/runtime/exec';
import { LabError } from '../generator/errors';
import { PROJECT_ROOT } from '../generator/paths';
import { synthLab } from '../generator/synth/writer';
import { ApimClient } from './apim-client';
import { HttpClient } from './http';
import type { NodeFault } from './faults';

// Ryuk (testcontainers' reaper) is an image from a registry; probes are removed by the harness itself.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** Docker's own memory figure (`docker stats`): usage less inactive file cache. */
export function memoryBytes(stats: { memory_stats: { usage?: number; stats?: Record<string, number> } }): number {
  const s = stats.memory_stats;
  const inactive = s.stats?.total_inactive_file ?? s.stats?.inactive_file ?? 0;
  return (s.usage ?? 0) - inactive;
}

/**
 * A running lab as the harness sees it: URLs on 127.0.0.1, REST clients, and the container
 * actions a check needs (stop, kill, pause, logs, memory), addressed by compose service name.
 * The same for a compose lab and a swarm stack (`target`), where Swarm's own behaviour differs:
 * it replaces a task that ended or turned unhealthy, and gives tasks no fixed addresses.
 */
export class LabTarget implements AsyncDisposable {
  readonly env: Record<string, string>;

  constructor(readonly lab: LabSpec, readonly dir: string, readonly target: Target = 'compose') {
    this.env = readLabEnv(dir);
  }

  /** An attached lab is the user's: leaving an `await using` block leaves it running. */
  async [Symbol.asyncDispose](): Promise<void> {}

  get product(): ProductSpec { return this.lab.product; }
  get managers(): readonly NodeSpec[] { return managers(this.lab); }
  get workers(): readonly NodeSpec[] { return workers(this.lab); }
  get managerBalancer(): string { return this.lab.balancers.find((b) => b.listeners.some((l) => l.kind === 'admin'))!.name; }
  get workerBalancer(): string { return this.lab.balancers.find((b) => b.listeners.some((l) => l.kind === 'api-https'))!.name; }
  /** The vhost of the "Default" gateway environment (its https_endpoint host). */
  get vhost(): string { return this.lab.workerEndpointHost; }
  get backendUrl(): string { return BACKEND_URL; }

  private url(variable: string, scheme = 'https'): string {
    const port = this.env[variable];
    if (!port) throw new Error(`${variable} is not in ${join(this.dir, '.env')}`);
    return `${scheme}://127.0.0.1:${port}`;
  }

  adminUrl(): string { return this.url('ADMIN_HTTPS_PORT'); }
  apiUrl(): string { return this.url('API_HTTPS_PORT'); }
  /** The worker balancer's WebSocket listeners (the gateway environment's ws/wss endpoints). */
  apiWebSocketUrl(secure: boolean): string { return secure ? this.url('API_WSS_PORT', 'wss') : this.url('API_WS_PORT', 'ws'); }
  workerApiUrl(worker: string): string { return this.url(this.publishedVariable(worker, PORTS.passthroughHttps)); }
  workerServletUrl(worker: string): string { return this.url(this.publishedVariable(worker, PORTS.servletHttps)); }

  /** The `.env` variable holding the host port of a node's container port (from the model). */
  private publishedVariable(service: string, containerPort: number): string {
    const node = this.lab.nodes.find((n) => n.name === service);
    const published = node?.published.find((p) => p.containerPort === containerPort);
    if (!published) throw new Error(`${service} publishes no port ${containerPort} in ${this.lab.project}`);
    return published.variable;
  }

  http(baseUrl: string): HttpClient { return new HttpClient(baseUrl, this.product.timing.requestTimeoutMs); }
  managerClient(): ApimClient { return new ApimClient(this.http(this.adminUrl())); }

  async container(service: string): Promise<Docker.Container> {
    const c = (await labContainers(this.lab.project)).find((s) => s.service === service);
    if (!c) throw new Error(`${this.lab.project} has no container for ${service}`);
    return docker.getContainer(c.id);
  }

  /** `docker stop` of the service's container (on Swarm its task: Swarm starts a new one after its restart delay). */
  async stop(service: string): Promise<void> { await (await this.container(service)).stop({ t: 0 }).catch(ignoreNotModified); }
  async kill(service: string): Promise<void> { await (await this.container(service)).kill().catch(ignoreNotModified); }
  async pause(service: string): Promise<void> { await (await this.container(service)).pause(); }
  /** On Swarm a task frozen past its health check's retries was killed and replaced: nothing is left to unpause. */
  async unpause(service: string): Promise<void> {
    await (await this.container(service)).unpause().catch((err: { statusCode?: number }) => { if (this.target === 'compose' || err.statusCode !== 409) ignoreNotModified(err); });
  }
  /**
   * Restarts a service: `docker restart` (its own stop with `seconds` grace, then start); on Swarm
   * `docker service update --force`, a new task in place of the old (a task's container is Swarm's).
   */
  async restart(service: string, seconds = 5): Promise<void> {
    if (this.target === 'compose') { await (await this.container(service)).restart({ t: seconds }); return; }
    // Returns, as `docker restart` does, once the new task's container runs.
    const old = (await this.container(service)).id;
    await this.serviceCommand(['update', '--force', '--detach', '--stop-grace-period', `${seconds}s`, this.swarmService(service)]);
    await this.untilTask(service, (task) => task !== undefined && task.id !== old, 'to run a new task');
  }
  /** Starts a stopped service; on Swarm, which restarts ended tasks itself, waits until it runs a task again. */
  async start(service: string): Promise<void> {
    if (this.target === 'compose') { await (await this.container(service)).start().catch(ignoreNotModified); return; }
    await this.serviceCommand(['scale', '--detach', `${this.swarmService(service)}=1`]);
    await this.untilTask(service, (task) => task !== undefined, 'to run a task again');
  }
  /** Holds a service down until {@link start}: its container stopped; on Swarm its service scaled to 0 (a stopped task is replaced). */
  async takeDown(service: string): Promise<void> {
    if (this.target === 'compose') { await this.stop(service); return; }
    await this.serviceCommand(['scale', '--detach', `${this.swarmService(service)}=0`]);
    await this.untilTask(service, (task) => task === undefined, 'to have no running task');
  }

  /** Waits until the service's running task on this engine (undefined: none) is as wanted. */
  private async untilTask(service: string, wanted: (task: ContainerState | undefined) => boolean, what: string): Promise<void> {
    await retryUntil(async () => (wanted((await labContainers(this.lab.project)).find((c) => c.service === service && c.state === 'running')) ? true : undefined),
      { timeoutMs: this.product.timing.startupBudgetSeconds * 1000, intervalMs: 100, what: `${service} ${what}` });
  }

  private swarmService(service: string): string { return `${this.lab.project}_${service}`; }
  private async serviceCommand(args: string[]): Promise<void> {
    const r = await run('docker', ['service', ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`docker service ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** The address a service has on one of the lab's networks now (compose: the model's fixed one). */
  async address(service: string, network: NetworkName): Promise<string> {
    if (this.target === 'compose') return addressOf(this.lab, service, network);
    const info = await (await this.container(service)).inspect();
    const address = info.NetworkSettings.Networks[`${this.lab.project}_${network}`]?.IPAddress;
    if (!address) throw new Error(`${service} has no address on ${network}`);
    return address;
  }

  /** The containers that publish the lab's host ports: its own, or a stack's access proxy. */
  async publishingContainers(): Promise<Awaited<ReturnType<typeof labContainers>>> {
    return labContainers(this.target === 'compose' ? this.lab.project : accessProject(this.lab.project));
  }

  /**
   * Swaps one config of a stack's service for new content (configs cannot change in place), as a
   * user editing a running stack's file would, and waits until the service runs it and the lab is
   * healthy. The new config carries the stack's label, so `down` removes it with the stack.
   */
  async replaceConfig(service: string, source: string, target: string, content: string): Promise<void> {
    if (this.target !== 'swarm') throw new Error('replaceConfig: a compose lab bind-mounts its files; edit them in the lab folder');
    const name = `${this.lab.project}_${source}-edited`;
    const created = await run('docker', ['config', 'create', '--label', `com.docker.stack.namespace=${this.lab.project}`, name, '-'], { input: content });
    if (created.code !== 0) throw new Error(`docker config create ${name} failed: ${created.stderr.trim()}`);
    await this.serviceCommand(['update', '--detach', '--config-rm', `${this.lab.project}_${source}`, '--config-add', `source=${name},target=${target}`, this.swarmService(service)]);
    await retryUntil(async () => {
      const info = await docker.getService(this.swarmService(service)).inspect() as { UpdateStatus?: { State?: string } };
      return info.UpdateStatus?.State === 'completed' ? true : undefined;
    }, { timeoutMs: 60_000, intervalMs: 250, what: `${service} to run the new config` });
    await this.waitHealthy();
  }

  /** A stack's services' published ports, as `service:target→published` (none on a compose lab). */
  async stackPublishedPorts(): Promise<string[]> {
    if (this.target === 'compose') return [];
    return (await stackServices(this.lab.project)).flatMap((s) => (s.Spec?.EndpointSpec?.Ports ?? []).map((p) => `${s.Spec?.Name?.slice(this.lab.project.length + 1)}:${p.TargetPort}→0.0.0.0:${p.PublishedPort} (${p.PublishMode})`));
  }

  /** Why a node fault cannot be applied to this lab from here, or undefined when it can. */
  faultUnavailable(fault: NodeFault): string | undefined {
    if (fault === 'db-partition') return LabTarget.isolationUnavailable();
    if (fault === 'partition' && this.target === 'swarm') return 'a swarm task cut off its network by hand and put back is not in its service\'s DNS name again (Swarm owns task attachments): the stack is checked with task stop, kill and pause, and the database partition';
    return undefined;
  }

  /** Cuts a service off one of the lab's networks (its address there vanishes). */
  async disconnect(service: string, network: NetworkName): Promise<void> {
    await docker.getNetwork(`${this.lab.project}_${network}`).disconnect({ Container: (await this.container(service)).id, Force: true });
  }

  /** Puts a service back on a network at its fixed address, under its service name, as compose had it. */
  async reconnect(service: string, network: NetworkName): Promise<void> {
    await docker.getNetwork(`${this.lab.project}_${network}`).connect({
      Container: (await this.container(service)).id,
      EndpointConfig: { IPAMConfig: { IPv4Address: addressOf(this.lab, service, network) }, Aliases: [service] },
    });
  }

  /**
   * Cuts `service` off `peer` only: inside the service's network namespace every packet from the
   * peer's `cluster` address is dropped, so connections to it hang as across a broken link (no
   * reset, no "unreachable"), while the rest of the lab reaches both. Needs `nsenter` and `iptables`
   * as root on the Docker host ({@link LabTarget.isolationUnavailable}).
   */
  async isolate(service: string, peer: string): Promise<void> { await this.peerFilter('-I', service, peer); }
  async rejoin(service: string, peer: string): Promise<void> { await this.peerFilter('-D', service, peer); }

  /** Why {@link isolate} cannot run from here, or undefined when it can. */
  static isolationUnavailable(): string | undefined {
    if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return `the Docker engine is remote (DOCKER_HOST=${process.env.DOCKER_HOST}): nsenter reaches local containers only`;
    if (process.getuid?.() !== 0) return 'cutting one link needs root on the Docker host (nsenter, iptables): run as root';
    return undefined;
  }

  private async peerFilter(op: '-I' | '-D', service: string, peer: string): Promise<void> {
    const pid = (await (await this.container(service)).inspect()).State.Pid;
    const rule = ['INPUT', '-s', await this.address(peer, 'cluster'), '-j', 'DROP'];
    const r = await run('nsenter', ['-t', String(pid), '-n', 'iptables', op, ...rule], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`iptables ${op} ${rule.join(' ')} in ${service}'s network namespace failed: ${(r.stderr || r.stdout).trim()}`);
  }

  async logs(service: string, lines = 20): Promise<string> {
    return (await containerLogs(await this.container(service), lines)).trim();
  }

  /** Runs a command in a service's container; its exit code and output. */
  async exec(service: string, command: readonly string[]): Promise<{ code: number; output: string }> {
    const execution = await (await this.container(service)).exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true });
    const output = await demuxed(await execution.start({}));
    const { ExitCode } = await execution.inspect();
    return { code: ExitCode ?? -1, output: output.trim() };
  }

  async memory(service: string): Promise<number> {
    return memoryBytes(await (await this.container(service)).stats({ stream: false }) as never);
  }

  /** Waits until every service is healthy again (after a fault is undone, unhealthy is a phase). */
  async waitHealthy(log: Log = () => undefined, unhealthyIsFatal = false): Promise<void> {
    await waitHealthy(this.lab, this.product.timing.startupBudgetSeconds, log, { unhealthyIsFatal, services: this.target === 'swarm' ? longRunningServices(this.lab) : labServices(this.lab) });
  }

  /**
   * Runs a command in a throw-away container on one of the lab's networks (a probe, started by
   * testcontainers): by default from the balancers' image, or from `image` (the product's, for its
   * JVM) with host `binds` (`host:container[:ro]`).
   */
  async probe(network: 'public' | 'admin' | 'cluster', command: string[], options: { image?: string; binds?: string[]; user?: string } = {}): Promise<{ code: number; output: string }> {
    const image = options.image ?? (await (await this.container(this.workerBalancer)).inspect()).Config.Image;
    let container = new GenericContainer(image)
      .withEntrypoint(['sleep']).withCommand(['600'])
      .withNetworkMode(`${this.lab.project}_${network}`)
      .withLabels({ 'carbon-labs.probe': this.lab.project })
      .withBindMounts((options.binds ?? []).map((b) => {
        const [source, target, mode] = b.split(':');
        return { source, target, mode: mode === 'ro' ? 'ro' as const : 'rw' as const };
      }));
    if (options.user) container = container.withUser(options.user);
    const started = await container.start();
    try {
      const { exitCode, output } = await started.exec(command);
      return { code: exitCode, output: output.trim() };
    } finally {
      await started.stop({ timeout: 0 });
    }
  }
}

/** A lab this process started: `down()`, or the end of its `await using` block, removes it. */
export class StartedLab extends LabTarget {
  async down(): Promise<void> {
    if (this.target === 'swarm') { await downStack(this.lab, this.dir, () => undefined); return; }
    // Nodes ignore SIGTERM like the product (see images/apim-sim): waiting only delays the kill.
    await downLab(this.lab, this.dir, () => undefined, { stopSeconds: 0 });
  }

  override async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
  }
}

function ignoreNotModified(err: { statusCode?: number }): void {
  if (err.statusCode !== 304) throw err;
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
const OVERRIDE = 'carbon-labs.fault.yml';

/**
 * Writes the lab (with its faults) into a fresh folder and brings it up through the same
 * `prepareLab` → compose → health wait as `carbon-labs up`. Refuses when a lab of that name runs.
 */
export async function startLab(spec: LabSpec, options: StartOptions = {}): Promise<StartedLab> {
  const log = options.log ?? (() => undefined);
  const faults = options.faults ?? [];
  let lab = spec;
  for (const f of faults) if (f.kind === 'model') lab = f.mutate(lab);
  const target = options.target ?? 'compose';
  if (target === 'swarm' && options.only) throw new Error('startLab: `only` starts part of a compose lab; a stack is deployed whole');
  if (await labRunning(lab.project)) {
    throw new LabError(`${lab.project} is already running; a started lab needs its name and ports`, `make down ${makeArgs(lab)}`);
  }
  const dir = options.dir ?? join(PROJECT_ROOT, 'dist', 'labs', `${lab.product.id}-p${lab.pattern}`);
  rmSync(dir, { recursive: true, force: true });
  synthLab(lab, dir, { force: true, unsafeSkipValidation: faults.some((f) => f.kind === 'model') });
  const files = ['docker-compose.yml'];
  const overrides = faults.flatMap((f) => (f.kind === 'compose' ? Object.entries(f.services) : []));
  if (overrides.length) {
    writeFileSync(join(dir, OVERRIDE), YAML.stringify({ services: Object.fromEntries(overrides) }));
    files.push(OVERRIDE);
  }
  for (const f of faults) if (f.kind === 'files') f.edit(dir);
  const unhealthy = faults.flatMap((f) => f.unhealthy ?? []);
  const imagesEnv = await ensureImages(lab.product, log);
  const started = new StartedLab(lab, dir, target);
  try {
    const budgetSeconds = lab.product.timing.startupBudgetSeconds;
    if (target === 'swarm') await upStack(lab, dir, { imagesEnv, budgetSeconds, log, overrides: files.slice(1), unawaited: unhealthy });
    else await upLab(lab, dir, { imagesEnv, budgetSeconds, log, files, only: options.only, unawaited: unhealthy });
    if (!options.only) {
      for (const service of unhealthy) {
        await retryUntil(async () => (SERVING.test(await started.logs(service, 400)) ? true : undefined),
          { timeoutMs: lab.product.timing.startupBudgetSeconds * 1000, intervalMs: 500, what: `${service} to serve` });
      }
    }
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
  return new LabTarget(labInDir(dir), dir, await stackExists(project) ? 'swarm' : 'compose');
}

/**
 * Attaches to the lab when it runs (e.g. started by `make lab`; its own size, from its manifest),
 * else starts it (named: under its name; `scale`: that many nodes).
 */
export async function openLab(pattern: PatternId, product: ProductSpec, log: Log = () => undefined, named?: LabName, scale: LabScale = {}, target: Target = 'compose'): Promise<LabTarget> {
  const project = projectName(product, pattern, named);
  if (await labRunning(project)) {
    log(`attaching to running lab ${project}`);
    return attachLab(project);
  }
  return startLab(buildLab(pattern, { product, named, ...scale }), { log, target, ...(named ? { dir: join(PROJECT_ROOT, 'dist', 'labs', named.name) } : {}) });
}
