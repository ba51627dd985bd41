import type { LabSpec, NetworkName } from '../model/lab';
import { addressOf } from '../model/lab';
import { LabError } from '../errors';
import { run } from './exec';
import { inspectContainer, inspectService, restartContainer, startContainer, stopContainer } from './engine';
import type { ContainerState } from './lab';
import { accessProject, labContainers, labServices, longRunningServices } from './lab';
import { retryUntil } from './retry';
import { stackServices } from './swarm';
import type { Target } from './swarm';

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

const running = (lab: LabSpec, service: string) => async (ms?: number) =>
  (await labContainers(lab.project, ms)).find((c) => c.service === service && c.state === 'running');

async function idOf(lab: LabSpec, service: string): Promise<string> {
  const c = (await labContainers(lab.project)).find((s) => s.service === service);
  if (!c) throw new Error(`${lab.project} has no container for ${service}`);
  return c.id;
}

class ComposeDeployment implements Deployment {
  readonly target = 'compose' as const;
  readonly publishingProject: string;
  readonly awaited: readonly string[];
  readonly outsideAnswersAnyAddress = false;

  constructor(readonly lab: LabSpec) {
    this.publishingProject = lab.project;
    this.awaited = labServices(lab);
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
  readonly publishingProject: string;
  readonly awaited: readonly string[];
  readonly partitionUnavailable =
    "a swarm task cut off its network by hand and put back is not in its service's DNS name again (Swarm owns task attachments): the stack is checked with task stop, kill and pause, and the database partition";
  readonly outsideAnswersAnyAddress = true;

  constructor(readonly lab: LabSpec) {
    this.publishingProject = accessProject(lab.project);
    this.awaited = longRunningServices(lab);
  }

  containers(ms?: number): Promise<ContainerState[]> {
    return labContainers(this.lab.project, ms);
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
    const task = running(this.lab, service);
    await retryUntil(async () => (wanted(await task()) ? true : undefined), {
      timeoutMs: waitMs,
      intervalMs: 100,
      what: `${service} ${what}`,
    });
  }

  /** `docker service update --force`: a new task in place of the old (a task's container is Swarm's). */
  async restart(service: string, seconds: number, waitMs: number): Promise<void> {
    const old = await idOf(this.lab, service);
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
    const info = await inspectContainer(await idOf(this.lab, service));
    const address = info.NetworkSettings.Networks[`${this.lab.project}_${network}`]?.IPAddress;
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

/** The deployment of a lab on a target. */
export function deploymentFor(lab: LabSpec, target: Target): Deployment {
  return target === 'swarm' ? new SwarmDeployment(lab) : new ComposeDeployment(lab);
}

/** The swarm deployment's config swap, for a lab that runs as a stack; an error on compose. */
export function swarmDeployment(deployment: Deployment): SwarmDeployment {
  if (!(deployment instanceof SwarmDeployment)) throw new Error('a compose lab bind-mounts its files; edit them in the lab folder');
  return deployment;
}
