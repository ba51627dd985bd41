import { join } from 'path';
import type { LabSpec, NetworkName, Target } from '../model/lab';
import { addressOf, cliLabArgs, dockerNetworkOf, makeArgs } from '../model/lab';
import { SWARM_DIR } from '../model/swarm';
import { isClassic } from '../products/product';
import { LabError } from '../errors';
import { run } from './exec';
import { inspectContainer, inspectService, restartContainer, startContainer, stopContainer } from './engine';
import type { Log } from './images';
import type { ContainerState, LabEndpoint, UpOptions as ComposeUpOptions } from './lab';
import {
  accessProject,
  downLab,
  downProject,
  labContainers,
  labDirOf,
  labEndpoints,
  labRunning,
  labServices,
  labUrls,
  longRunningServices,
  oneShot,
  upLab,
} from './lab';
import { retryUntil } from './retry';
import { downStack, stackContainers, stackExists, stackServices, upStack } from './swarm';

/** How a deployment brings a lab up from its folder: a compose start's options, its files named as what is layered on the lab's own. */
export interface UpOptions extends Omit<ComposeUpOptions, 'files'> {
  /** Files in the lab folder layered on the lab's own, in order (a broken lab's override). */
  readonly overrides?: readonly string[];
  /** Also publish the balancers on every interface of the nodes (a stack's `swarm/publish.yml`). */
  readonly publish?: boolean;
}

/** The docker command that shows a lab's logs, as `carbon-labs logs` asks: one service or all, following or not. */
export interface LogsAsked {
  readonly service?: string;
  readonly follow: boolean;
  readonly tail: string;
  /** Plain text (piped output): no colours or line-clearing codes. */
  readonly plain: boolean;
}

/**
 * Where a lab runs, chosen once (kind's Provider, containerlab's ContainerRuntime): a compose
 * project on this engine or a stack on its swarm. Everything above asks the deployment and never
 * which one it has; what really differs between the two platforms is here and only here:
 * - how a service restarts, starts again and is held down (a container; Swarm's tasks and replicas);
 * - a service's address (the model's fixed one; a task's own);
 * - who publishes the 127.0.0.1 ports (the lab's containers; the stack's access proxy), and
 *   whether the stack publishes ports of its own on every interface;
 * - which faults can be applied (a swarm task cut off its network is not put back in its DNS);
 * - which services are awaited healthy (a stack has no one-shots);
 * - whether an address the public side cannot route is answered by something else (on a swarm
 *   the host's gateway answers any address).
 */
export interface Deployment {
  readonly target: Target;
  readonly lab: LabSpec;
  /** How the lab's lines name where it runs, beside its pattern and product (nothing for a compose lab). */
  readonly described?: string;
  /** Why this lab cannot be deployed here as asked (the classic product on a swarm, `--publish` on compose), or undefined. */
  refusal(asked: { readonly publish?: boolean }): LabError | undefined;
  /** Whether the nodes take the JDBC driver from the lab folder (compose bind-mounts it; a stack's image carries it). */
  readonly mountsDrivers: boolean;
  /** Brings the lab up from its folder and waits until every awaited service is healthy; seconds to healthy. */
  up(dir: string, options: UpOptions): Promise<number>;
  /** Removes the lab whole: its containers or tasks, networks, the database volume. */
  down(dir: string, log: Log): Promise<void>;
  /** Why a lab here cannot be stopped and kept, or started again (`stop`, `start`), or undefined when it can. */
  readonly keepsNoStoppedLab?: string;
  /** The docker arguments that run a command in a service's container, attached to this terminal. */
  execArgs(dir: string, service: string, command: readonly string[], tty: boolean): Promise<string[]>;
  /** The docker commands that print the lab's logs as asked, one after another: what each is, and its arguments. */
  logsArgs(dir: string, asked: LogsAsked): { what: string; args: string[] }[];
  /** Where the lab answers, and the lines that say so. */
  endpoints(dir: string): LabEndpoint[];
  urls(dir: string): string[];
  /** The lab's containers a fault left stopped that the platform will not start again itself (Swarm replaces its tasks). */
  leftStopped(): Promise<ContainerState[]>;
  /** Whether a task frozen past its health check's retries may be gone when thawed (Swarm replaces it). */
  readonly replacesUnhealthy: boolean;
  /** The line that names what was written for this target beyond the compose lab, or undefined. */
  writtenNote(dir: string): string | undefined;
  /** The running containers of the lab, by service (a stack's tasks on this engine). */
  containers(ms?: number): Promise<ContainerState[]>;
  /** Restarts a service with `seconds` of grace; returns once its (new) container runs. */
  restart(service: string, seconds: number, waitMs: number): Promise<void>;
  /** Starts a stopped (or held-down) service again; returns once it runs. */
  start(service: string, waitMs: number): Promise<void>;
  /** Holds a service down until {@link start}. */
  takeDown(service: string, waitMs: number): Promise<void>;
  /** The address a service has on a lab network now. */
  address(service: string, network: NetworkName): Promise<string>;
  /** The compose project whose containers publish the lab's 127.0.0.1 ports. */
  readonly publishingProject: string;
  /** Ports the platform publishes beyond the containers' own bindings (`service:target→0.0.0.0:port`). */
  platformPublishedPorts(): Promise<string[]>;
  /** Why a network partition of a node cannot be applied here, or undefined. */
  readonly partitionUnavailable?: string;
  /** The services a health wait awaits. */
  readonly awaited: readonly string[];
  /** On a swarm an unroutable address leaves through the host, whose gateway may answer: reaching is not proof. */
  readonly outsideAnswersAnyAddress: boolean;
}

type Containers = (ms?: number) => Promise<ContainerState[]>;

/** The service's running container, of `containers` (default: the lab's on this engine). */
const running =
  (lab: LabSpec, service: string, containers: Containers = (ms) => labContainers(lab.project, ms)) =>
  async (ms?: number) =>
    (await containers(ms)).find((c) => c.service === service && c.state === 'running');

async function idOf(lab: LabSpec, service: string, containers: Containers = (ms) => labContainers(lab.project, ms)): Promise<string> {
  const c = (await containers()).find((s) => s.service === service);
  if (!c) throw new Error(`${lab.project} has no container for ${service}`);
  return c.id;
}

class ComposeDeployment implements Deployment {
  readonly target = 'compose' as const;
  readonly publishingProject: string;
  readonly awaited: readonly string[];
  readonly outsideAnswersAnyAddress = false;
  readonly mountsDrivers = true;
  readonly replacesUnhealthy = false;

  constructor(readonly lab: LabSpec) {
    this.publishingProject = lab.project;
    this.awaited = labServices(lab);
  }

  refusal(asked: { readonly publish?: boolean }): LabError | undefined {
    if (asked.publish)
      return new LabError(
        '--publish is for --target swarm (a compose lab publishes on 127.0.0.1 only)',
        'make lab PATTERN=N TARGET=swarm PUBLISH=1',
      );
    return undefined;
  }
  async up(dir: string, options: UpOptions): Promise<number> {
    const refused = this.refusal(options);
    if (refused) throw refused;
    if (await stackExists(this.lab.project))
      throw new LabError(
        `${this.lab.project} runs as a swarm stack; its compose lab would take the same networks`,
        `make lab ${makeArgs(this.lab)} TARGET=swarm (it runs), or make down ${makeArgs(this.lab)} first`,
      );
    return upLab(this.lab, dir, { ...options, files: ['docker-compose.yml', ...(options.overrides ?? [])] });
  }
  down(dir: string, log: Log): Promise<void> {
    return downLab(this.lab, dir, log);
  }
  /** `docker compose exec`, which sees for itself whether this is a terminal. */
  async execArgs(dir: string, service: string, command: readonly string[]): Promise<string[]> {
    return [...composeArgs(dir), 'exec', service, ...(command.length ? command : ['sh'])];
  }
  logsArgs(dir: string, asked: LogsAsked): { what: string; args: string[] }[] {
    const args = [
      ...composeArgs(dir),
      ...(asked.plain ? ['--ansi', 'never'] : []),
      'logs',
      '--tail',
      asked.tail,
      ...(asked.follow ? ['--follow'] : []),
      ...(asked.service ? [asked.service] : []),
    ];
    return [{ what: 'docker compose logs', args }];
  }
  endpoints(dir: string): LabEndpoint[] {
    return labEndpoints(this.lab, dir, this.target);
  }
  urls(dir: string): string[] {
    return labUrls(this.lab, dir, this.target);
  }
  async leftStopped(): Promise<ContainerState[]> {
    return (await this.containers()).filter((c) => c.state !== 'running' && !oneShot(c.service));
  }
  writtenNote(): undefined {
    return undefined;
  }

  containers(ms?: number): Promise<ContainerState[]> {
    return labContainers(this.lab.project, ms);
  }
  async restart(service: string, seconds: number): Promise<void> {
    await restartContainer(await idOf(this.lab, service), seconds);
  }
  async start(service: string): Promise<void> {
    await startContainer(await idOf(this.lab, service));
  }
  async takeDown(service: string): Promise<void> {
    await stopContainer(await idOf(this.lab, service), 0);
  }
  async address(service: string, network: NetworkName): Promise<string> {
    return addressOf(this.lab, service, network);
  }
  async platformPublishedPorts(): Promise<string[]> {
    return [];
  }
}

class SwarmDeployment implements Deployment {
  readonly target = 'swarm' as const;
  readonly described = 'swarm stack';
  readonly publishingProject: string;
  readonly awaited: readonly string[];
  readonly partitionUnavailable =
    "a swarm task cut off its network by hand and put back is not in its service's DNS name again (Swarm owns task attachments): the stack is checked with task stop, kill and pause, and the database partition";
  readonly outsideAnswersAnyAddress = true;
  readonly mountsDrivers = false;
  readonly replacesUnhealthy = true;
  readonly keepsNoStoppedLab = 'Swarm keeps its tasks running';

  constructor(readonly lab: LabSpec) {
    this.publishingProject = accessProject(lab.project);
    this.awaited = longRunningServices(lab);
  }

  refusal(): LabError | undefined {
    if (isClassic(this.lab.product))
      return new LabError(
        `--target swarm: ${this.lab.product.id} runs on compose only (its workers' Synapse files come from a sync service over volumes)`,
        `make lab ${makeArgs(this.lab)}`,
      );
    return undefined;
  }
  async up(dir: string, options: UpOptions): Promise<number> {
    const refused = this.refusal();
    if (refused) throw refused;
    if (options.only) throw new Error('a stack is deployed whole: `only` starts part of a compose lab');
    return upStack(this.lab, dir, options);
  }
  down(dir: string, log: Log): Promise<void> {
    return downStack(this.lab, dir, log);
  }
  /** A stack: the service's running task on this node. */
  async execArgs(_dir: string, service: string, command: readonly string[], tty: boolean): Promise<string[]> {
    const task = (await this.containers()).find((c) => c.service === service && c.state === 'running');
    if (!task)
      throw new LabError(`${this.lab.project} has no running task of ${service} on this node`, `docker stack ps ${this.lab.project}`);
    return ['exec', tty ? '-it' : '-i', task.id, ...(command.length ? command : ['sh'])];
  }
  /** Swarm's service logs (every task's), one service at a time; all of them without -f. */
  logsArgs(_dir: string, asked: LogsAsked): { what: string; args: string[] }[] {
    if (!asked.service && asked.follow)
      throw new LabError(
        'logs -f of a swarm stack follows one service',
        `carbon-labs logs ${cliLabArgs(this.lab)} manager-1 -f  (or docker service logs -f ${this.lab.project}_<service>)`,
      );
    return (asked.service ? [asked.service] : longRunningServices(this.lab)).map((s) => ({
      what: `docker service logs ${this.service(s)}`,
      args: ['service', 'logs', '--tail', asked.tail, ...(asked.follow ? ['--follow'] : []), this.service(s)],
    }));
  }
  endpoints(dir: string): LabEndpoint[] {
    return labEndpoints(this.lab, dir, this.target);
  }
  urls(dir: string): string[] {
    return labUrls(this.lab, dir, this.target);
  }
  async leftStopped(): Promise<ContainerState[]> {
    return [];
  }
  writtenNote(dir: string): string {
    return `stack: ${join(dir, SWARM_DIR, 'docker-stack.yml')} (make lab ${makeArgs(this.lab)} TARGET=swarm deploys it: docs/swarm.md)`;
  }

  /** The stack's tasks: this engine's containers, and those on other nodes as Swarm has them. */
  containers(ms?: number): Promise<ContainerState[]> {
    return stackContainers(this.lab.project, ms);
  }

  private service(name: string): string {
    return `${this.lab.project}_${name}`;
  }

  private async serviceCommand(args: string[]): Promise<void> {
    const r = await run('docker', ['service', ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new LabError(`docker service ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** Waits until the service's running task on this engine (undefined: none) is as wanted. */
  private async untilTask(
    service: string,
    wanted: (task: ContainerState | undefined) => boolean,
    what: string,
    waitMs: number,
  ): Promise<void> {
    const task = running(this.lab, service, (ms) => this.containers(ms));
    await retryUntil(async () => (wanted(await task()) ? true : undefined), {
      timeoutMs: waitMs,
      intervalMs: 100,
      what: `${service} ${what}`,
    });
  }

  /** `docker service update --force`: a new task in place of the old (a task's container is Swarm's). */
  async restart(service: string, seconds: number, waitMs: number): Promise<void> {
    const old = await idOf(this.lab, service, (ms) => this.containers(ms));
    await this.serviceCommand(['update', '--force', '--detach', '--stop-grace-period', `${seconds}s`, this.service(service)]);
    await this.untilTask(service, (task) => task !== undefined && task.id !== old, 'to run a new task', waitMs);
  }

  /** Swarm restarts ended tasks itself: scale to one and wait until a task runs again. */
  async start(service: string, waitMs: number): Promise<void> {
    await this.serviceCommand(['scale', '--detach', `${this.service(service)}=1`]);
    await this.untilTask(service, (task) => task !== undefined, 'to run a task again', waitMs);
  }

  /** A stopped task is replaced: a service is held down by scaling it to 0. */
  async takeDown(service: string, waitMs: number): Promise<void> {
    await this.serviceCommand(['scale', '--detach', `${this.service(service)}=0`]);
    await this.untilTask(service, (task) => task === undefined, 'to have no running task', waitMs);
  }

  async address(service: string, network: NetworkName): Promise<string> {
    const info = await inspectContainer(await idOf(this.lab, service, (ms) => this.containers(ms)));
    const address = info.NetworkSettings.Networks[dockerNetworkOf(this.lab, network)]?.IPAddress;
    if (!address) throw new Error(`${service} has no address on ${network}`);
    return address;
  }

  async platformPublishedPorts(): Promise<string[]> {
    return (await stackServices(this.lab.project)).flatMap((s) =>
      (s.Spec?.EndpointSpec?.Ports ?? []).map(
        (p) => `${s.Spec?.Name?.slice(this.lab.project.length + 1)}:${p.TargetPort}→0.0.0.0:${p.PublishedPort} (${p.PublishMode})`,
      ),
    );
  }

  /**
   * Swaps one config of a service for new content (configs cannot change in place), as a user
   * editing a running stack's file would, and waits until the service runs it. The new config
   * carries the stack's label, so `down` removes it with the stack.
   */
  async replaceConfig(service: string, source: string, target: string, content: string): Promise<void> {
    const name = `${this.lab.project}_${source}-edited`;
    const created = await run('docker', ['config', 'create', '--label', `com.docker.stack.namespace=${this.lab.project}`, name, '-'], {
      input: content,
      timeoutMs: 30_000,
    });
    if (created.code !== 0) throw new LabError(`docker config create ${name} failed: ${created.stderr.trim()}`);
    await this.serviceCommand([
      'update',
      '--detach',
      '--config-rm',
      `${this.lab.project}_${source}`,
      '--config-add',
      `source=${name},target=${target}`,
      this.service(service),
    ]);
    await retryUntil(
      async () => {
        const info = (await inspectService(this.service(service))) as { UpdateStatus?: { State?: string } };
        return info.UpdateStatus?.State === 'completed' ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${service} to run the new config` },
    );
  }
}

/** `docker compose` on the lab's own file, from anywhere. */
const composeArgs = (dir: string) => ['compose', '--project-directory', dir, '-f', join(dir, 'docker-compose.yml')];

/** The deployment of a lab on a target. */
export function deploymentFor(lab: LabSpec, target: Target): Deployment {
  return target === 'swarm' ? new SwarmDeployment(lab) : new ComposeDeployment(lab);
}

/** Where a lab runs now: its stack, its running compose project, or undefined when neither runs. */
export async function runningDeployment(lab: LabSpec, ms?: number): Promise<Deployment | undefined> {
  if (await stackExists(lab.project, ms)) return new SwarmDeployment(lab);
  return (await labRunning(lab.project)) ? new ComposeDeployment(lab) : undefined;
}

/** Where a lab was made on this engine: its stack when one exists, else its compose project (running, stopped or gone). */
export async function existingDeployment(lab: LabSpec, ms?: number): Promise<Deployment> {
  return (await stackExists(lab.project, ms)) ? new SwarmDeployment(lab) : new ComposeDeployment(lab);
}

/**
 * Removes a carbon-labs project of this engine by name (`down --all`): a compose project by its
 * name; a stack from its folder (its access proxy too) when compose's labels still name one, else
 * by `docker stack rm`.
 */
export async function removeProject(project: string, labInDir: (dir: string) => LabSpec, log: Log): Promise<void> {
  if (!(await stackExists(project))) {
    await downProject(project, process.cwd(), log);
    return;
  }
  const dir = await labDirOf(project).catch(() => undefined);
  if (dir) {
    await new SwarmDeployment(labInDir(dir)).down(dir, log);
    return;
  }
  const r = await run('docker', ['stack', 'rm', project], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new LabError(`docker stack rm failed for ${project}: ${r.stderr.trim()}`);
}

/** The swarm deployment's config swap, for a lab that runs as a stack; an error on compose. */
export function swarmDeployment(deployment: Deployment): SwarmDeployment {
  if (!(deployment instanceof SwarmDeployment)) throw new Error('a compose lab bind-mounts its files; edit them in the lab folder');
  return deployment;
}
