import { parse } from 'dotenv';
import { copyFileSync, existsSync, readdirSync, readFileSync } from 'fs';
import { connect, createServer } from 'net';
import { dirname, join } from 'path';
import { LabError } from '../errors';
import { isClassic } from '../products/product';
import type { LabSpec, Target } from '../model/lab';
import { BACKEND_URL, DB, makeArgs, ONE_SHOT_SERVICES, PORTAL_HOST, portalPort, TRUST, workers } from '../model/lab';
import { pause, retryUntil } from './retry';
import { requireDocker } from './docker';
import { ensureTrustChain } from './trust';
import type { Log } from './images';
import { composeDown, composeStart, composeStop, composeUp } from './compose-cli';
import { containerLogs, EngineTimeout, inspectContainer, listContainers } from './engine';

/** The lab's `.env` as Compose reads it (dotenv: quotes, inline comments): host ports, restart policy. */
export function readLabEnv(dir: string): Record<string, string> {
  const file = join(dir, '.env');
  if (!existsSync(file)) throw new LabError(`${dir} is not a generated lab (no .env)`, `carbon-labs generate --pattern N --out ${dir}`);
  return parse(readFileSync(file));
}

/**
 * Copies the JDBC driver jars from `CARBON_LABS_DRIVERS` (a folder) into the lab's `drivers/`, and
 * refuses a real-product lab that has none, before anything starts: no WSO2 image ships a MySQL
 * driver, and without it every node fails its datasources and stays unhealthy for its whole start
 * period (docs/products.md, "JDBC driver").
 */
export function provideDrivers(lab: LabSpec, dir: string): void {
  refuseWithoutDriver(lab, dir);
  const source = process.env.CARBON_LABS_DRIVERS;
  const target = join(dir, 'drivers');
  if (source) for (const jar of readdirSync(source).filter((f) => f.endsWith('.jar'))) copyFileSync(join(source, jar), join(target, jar));
}

const hasDriver = (folder: string) => existsSync(folder) && readdirSync(folder).some((f) => /^mysql-connector.*\.jar$/.test(f));

/** The refusal of {@link provideDrivers}, before anything is written: neither the lab's `drivers/` nor `CARBON_LABS_DRIVERS` holds a driver. */
export function refuseWithoutDriver(lab: LabSpec, dir: string): void {
  const source = process.env.CARBON_LABS_DRIVERS;
  const { driver } = lab.product.database;
  const { jar, used } = driver;
  if (source && !existsSync(source)) throw new LabError(`CARBON_LABS_DRIVERS=${source} is no folder`, `a folder holding a ${jar} jar`);
  const target = join(dir, 'drivers');
  if (!lab.product.pulled || driver.inImage || hasDriver(target) || (source && hasDriver(source))) return;
  throw new LabError(
    `${lab.product.id}'s nodes cannot reach MySQL without a JDBC driver, and no WSO2 image ships one: ${target} has no mysql-connector*.jar`,
    `put a ${jar} jar there (${used}), or set CARBON_LABS_DRIVERS to a folder holding one, then make lab ${makeArgs(lab)}`,
  );
}

/** Where a deployment differs in what {@link prepareLab} checks. */
export interface Preparation {
  /** The compose project whose running containers hold the lab's host ports (then they are not checked free). */
  readonly portsHeldBy: string;
  /** Where the JDBC driver travels: the lab's `drivers/` folder (compose), or the image (a stack's configs hold 500 KB at most). */
  readonly driverIn: 'folder' | 'image';
}

/**
 * Everything a lab needs on disk before it starts, for the CLI and the harness alike and on either
 * target: free host ports (unless this lab already holds them), the managers' proxyPort as
 * published, the JDBC drivers, the trust chain.
 */
export async function prepareLab(
  lab: LabSpec,
  dir: string,
  log: Log,
  how: Preparation = { portsHeldBy: lab.project, driverIn: 'folder' },
): Promise<void> {
  if (!(await labRunning(how.portsHeldBy))) await assertPortsFree(dir, log);
  const published = readLabEnv(dir).ADMIN_HTTPS_PORT;
  if (published && Number(published) !== portalPort(lab)) {
    log(
      `warning: ADMIN_HTTPS_PORT is ${published} in ${join(dir, '.env')}, but the managers' proxyPort is ${portalPort(lab)}: portal logins will redirect to port ${portalPort(lab)}. Set proxyPort = ${published} in ${join(dir, 'nodes', '<manager>', 'repository', 'conf', 'deployment.toml')} (your edit is kept)`,
    );
  }
  if (how.driverIn === 'folder') provideDrivers(lab, dir);
  else if (lab.product.pulled)
    log(`note: on Swarm the JDBC driver travels in the image, not in drivers/ (a config holds 500 KB at most): see docs/swarm.md`);
  await ensureTrustChain(lab, dir, log);
}

export interface ContainerState {
  readonly service: string;
  readonly state: string;
  /** Docker's health status (`starting`, `healthy`, `unhealthy`) of a service with a health check. */
  readonly health?: string;
  readonly exitCode?: number;
  /** When an exited container stopped, as the engine says it (its own clock). */
  readonly finishedAt?: string;
  readonly id: string;
  /** The swarm node a stack's task runs on (a container of another node is on that node's engine). */
  readonly node?: string;
}

/** Labels that name a container's lab and service: a compose project's, or a swarm stack's task. */
const COMPOSE_PROJECT = 'com.docker.compose.project';
export const STACK_NAMESPACE = 'com.docker.stack.namespace';
const SWARM_SERVICE = 'com.docker.swarm.service.name';

/**
 * The containers of a lab, by service, with Docker's own state and health: a compose project's, or
 * a swarm stack's tasks on this node. A swarm service keeps the containers of its ended tasks: the
 * running one stands for it, else the newest.
 */
export async function labContainers(project: string, ms?: number): Promise<ContainerState[]> {
  const [compose, stack] = await Promise.all(
    [COMPOSE_PROJECT, STACK_NAMESPACE].map((label) => listContainers([`${label}=${project}`], ms)),
  );
  const states = await Promise.all(
    [...compose, ...stack].map(async (c) => {
      // A container the engine cannot inspect in time (wedged) is said to be so, not waited for.
      const { State, busy } = await inspectContainer(c.Id, ms).then(
        (i) => ({ State: i.State, busy: undefined }),
        (err: Error) => ({ State: undefined, busy: err instanceof EngineTimeout ? err.message : undefined }),
      );
      return {
        service: c.Labels['com.docker.compose.service'] ?? c.Labels[SWARM_SERVICE].slice(project.length + 1),
        state: busy ? 'engine busy' : (State?.Status ?? c.State),
        // A stopped container keeps its last probe's verdict (often unhealthy, from its stop): not its health.
        health: State?.Running ? State.Health?.Status : undefined,
        exitCode: State && !State.Running && State.Status === 'exited' ? State.ExitCode : undefined,
        finishedAt: State && !State.Running && State.Status === 'exited' ? State.FinishedAt : undefined,
        id: c.Id,
        created: c.Created,
      };
    }),
  );
  const byService = new Map<string, (typeof states)[number]>();
  for (const c of states) {
    const seen = byService.get(c.service);
    const running = (x: typeof c) => (x.state === 'running' ? 1 : 0);
    if (!seen || (running(c) - running(seen) || c.created - seen.created) > 0) byService.set(c.service, c);
  }
  return [...byService.values()].map(({ created: _created, ...c }) => c).sort((a, b) => a.service.localeCompare(b.service));
}

/** The compose configuration hash of each running container of a compose project, by service. */
export async function serviceConfigHashes(project: string): Promise<Record<string, string>> {
  const running = (await listContainers([`${COMPOSE_PROJECT}=${project}`])).filter((c) => c.State === 'running');
  return Object.fromEntries(running.map((c) => [c.Labels['com.docker.compose.service'], c.Labels['com.docker.compose.config-hash']]));
}

/** Whether any container of the lab (compose project or stack task on this node) is running. */
export async function labRunning(project: string): Promise<boolean> {
  return (await labContainers(project)).some((c) => c.state === 'running');
}

/** Whether nothing listens on this port of 127.0.0.1. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Whether something accepts connections on this port of 127.0.0.1 (a listener, not the local end of a connection). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2000, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * How long a lab port held by a connection's local end (no listener) is waited for: the lab's host
 * ports lie in Linux's ephemeral range (32768-60999), so any connection of this machine may hold one
 * for a while, at most the kernel's FIN_WAIT2 timeout (60 s) after it closes.
 */
export const PORT_HELD_WAIT_MS = 90_000;

/**
 * Fails on the first host port of a lab's `.env` that something already listens on. A port that
 * is only the local end of a connection (nothing listens) is waited for, said once, then taken.
 */
export async function assertPortsFree(dir: string, log: Log = () => undefined, waitMs = PORT_HELD_WAIT_MS): Promise<void> {
  for (const [variable, value] of Object.entries(readLabEnv(dir))) {
    if (!variable.endsWith('_PORT')) continue;
    const port = Number(value);
    const inUse = () =>
      new LabError(
        `host port ${value} (${variable} in ${join(dir, '.env')}) is already in use`,
        `change ${variable} in that .env, or stop what holds it`,
      );
    const deadline = Date.now() + waitMs;
    for (let said = false; !(await portFree(port)); said = true) {
      if (await listening(port)) throw inUse();
      if (Date.now() >= deadline) {
        throw new LabError(
          `host port ${value} (${variable} in ${join(dir, '.env')}) stayed the local end of a connection for ${waitMs / 1000} s (nothing listens on it)`,
          `change ${variable} in that .env, or keep the labs' ports out of the kernel's choice of local ports: make reserve-ports (as root)`,
        );
      }
      if (!said)
        log(
          `host port ${value} (${variable}) is the local end of a connection of this machine (the lab's ports lie in the ephemeral range); waiting up to ${waitMs / 1000} s for it to close`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Whether a service is one of the lab's one-shots (done once they exit 0). */
export const oneShot = (service: string): boolean => (ONE_SHOT_SERVICES as readonly string[]).includes(service);
const ready = (c: ContainerState) =>
  oneShot(c.service) ? c.exitCode === 0 : c.state === 'running' && (c.health === undefined || c.health === 'healthy');

async function lastLogLines(id: string, lines = 15): Promise<string> {
  return containerLogs(id, lines).catch((err: Error) => `(no logs: ${err.message})`);
}

/** Waits until every service is healthy (or done, for one-shots), printing progress. */
export interface HealthOptions {
  /** Unhealthy ends the wait with an error (at `up`); after a fault it is a phase. @default true */
  readonly unhealthyIsFatal?: boolean;
  /** Services whose health is not awaited (a broken lab keeps them unhealthy). */
  readonly unawaited?: readonly string[];
  /** The services awaited. @default every service of the compose lab, one-shots included */
  readonly services?: readonly string[];
  /** Ends the wait at once (a check past its deadline). */
  readonly signal?: AbortSignal;
  /** Where the states come from. @default the lab's containers on this engine (a stack's: its tasks on every node) */
  readonly containers?: () => Promise<ContainerState[]>;
  /**
   * A node, balancer or database that exits on its own while the lab starts ends the wait with an
   * error, its last log lines shown: nothing restarts it (`restart: no` unless
   * `CARBON_LABS_RESTART` says otherwise: a restarting container never counts as exited), so waiting
   * out the budget (minutes at a JVM's pace) would only hide why. "While the lab starts": its
   * container's `FinishedAt` differs from the one this map (taken before the start, by container id)
   * holds, so a stopped lab's containers, exited until compose starts them, do not count, and no
   * clock of the engine is compared with this one's. "On its own": an exit status below 128, not a
   * signal (compose stopping a container it recreates, a kill). Compose starts only: a stack's exited
   * tasks are replaced.
   */
  readonly exitsBefore?: ReadonlyMap<string, string | undefined>;
}

/** Every service of a lab's compose file, the one-shots first. */
export const labServices = (lab: LabSpec): string[] => [...ONE_SHOT_SERVICES, ...longRunningServices(lab)];
/** The services that keep running (what a swarm stack holds). */
export const longRunningServices = (lab: LabSpec): string[] => [
  'db',
  'backend',
  ...lab.balancers.map((b) => b.name),
  ...lab.nodes.map((n) => n.name),
];

export async function waitHealthy(lab: LabSpec, budgetSeconds: number, log: Log, options: HealthOptions = {}): Promise<number> {
  const unhealthyIsFatal = options.unhealthyIsFatal ?? true;
  const started = Date.now();
  let lastLine = '';
  let lastPrint = 0;
  const expected = (options.services ?? labServices(lab)).filter((s) => !options.unawaited?.includes(s));
  const outcome = await retryUntil(
    async () => {
      const states = await (options.containers ?? (() => labContainers(lab.project)))();
      // After a fault (a paused node) a node is unhealthy until its next check: not fatal then.
      const failed =
        states.find(
          (c) =>
            expected.includes(c.service) &&
            ((oneShot(c.service) && c.exitCode !== undefined && c.exitCode !== 0) || (unhealthyIsFatal && c.health === 'unhealthy')),
        ) ??
        // Exited on its own since the start began (exitsBefore): not a stopped lab's containers, exited until compose starts them.
        (options.exitsBefore
          ? exitedSince(
              states.filter((c) => expected.includes(c.service)),
              options.exitsBefore,
            )
          : undefined);
      if (failed) return { done: true, failed, states };
      const waiting = expected.filter((s) => !states.some((c) => c.service === s && ready(c)));
      const line = `healthy ${expected.length - waiting.length}/${expected.length}${waiting.length ? `; waiting for ${waiting.map((s) => `${s} (${describe(states.find((c) => c.service === s))})`).join(', ')}` : ''}`;
      if (line !== lastLine || Date.now() - lastPrint > 15_000) {
        log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}`);
        lastLine = line;
        lastPrint = Date.now();
      }
      return waiting.length === 0 ? { done: true, states } : undefined;
    },
    { timeoutMs: budgetSeconds * 1000, intervalMs: 500, what: `${lab.project} to become healthy`, signal: options.signal },
  ).catch(async (err: Error) => {
    if (options.signal?.aborted) throw err;
    const states = await (options.containers ?? (() => labContainers(lab.project)))();
    const stuck = states.find((c) => !ready(c));
    throw new LabError(
      `${err.message}${stuck ? `; ${stuck.service} is ${describe(stuck)}. Its last log lines:\n${await lastLogLines(stuck.id)}` : ''}`,
    );
  });
  if (outcome.failed) throw await failedServiceError(lab, outcome.failed);
  return (Date.now() - started) / 1000;
}

/**
 * A service that failed the start, said in its first line with the last FATAL or ERROR line of its
 * log (why a node stopped: a launcher's `OSGi runtime worker profile not found`), then its log's tail.
 */
async function failedServiceError(lab: LabSpec, c: ContainerState, more = ''): Promise<LabError> {
  const tail = await lastLogLines(c.id);
  const cause = tail
    .split('\n')
    .reverse()
    .find((line) => /\b(FATAL|ERROR)\b/.test(line))
    ?.trim();
  return new LabError(
    `${c.service} of ${lab.project} is ${describe(c)}${cause ? `: ${cause}` : ''}${more}. Its last log lines:\n${tail}`,
    `docker compose -p ${lab.project} logs ${c.service}`,
  );
}

/** A long-running service whose container exited on its own since `before` was taken ({@link HealthOptions.exitsBefore}). */
const exitedSince = (states: readonly ContainerState[], before: ReadonlyMap<string, string | undefined>): ContainerState | undefined =>
  states.find((c) => !oneShot(c.service) && c.exitCode !== undefined && c.exitCode < 128 && c.finishedAt !== before.get(c.id));

/** Each container's `FinishedAt` now: what a start's exits are told from. */
async function exitsNow(lab: LabSpec): Promise<Map<string, string | undefined>> {
  return new Map((await labContainers(lab.project).catch(() => [])).map((c) => [c.id, c.finishedAt]));
}

function describe(c: ContainerState | undefined): string {
  if (!c) return 'not created';
  if (c.exitCode !== undefined) return `exited ${c.exitCode}`;
  return c.health ? `${c.state}, ${c.health}` : c.state;
}

export interface UpOptions {
  readonly imagesEnv: Record<string, string>;
  readonly budgetSeconds: number;
  readonly log: Log;
  /** Compose files in the lab folder, in order (an override after the lab's own). @default ['docker-compose.yml'] */
  readonly files?: readonly string[];
  /** Start only these services (and their dependencies), without waiting for health. */
  readonly only?: readonly string[];
  /** Services whose health is not awaited (a broken lab keeps them unhealthy). */
  readonly unawaited?: readonly string[];
}

/** How often a start is tried again when a host port was held for a moment ({@link transientlyHeldPort}). */
const PORT_RETRIES = 3;

/**
 * The host port Docker could not bind for a published port, when the error says so. A named lab's
 * ports lie in Linux's ephemeral range (32768–60999), so an outgoing connection of this machine can
 * hold one for a moment (seen once with three Docker legs side by side); `up` again starts the rest.
 */
export function transientlyHeldPort(message: string): number | undefined {
  const m = /Error starting userland proxy: listen tcp[46]? [\d.:[\]]*:(\d+): bind: address already in use/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * The one way a lab starts, for the CLI and the harness: `prepareLab`, `docker compose up -d`, then
 * wait for health with progress. Re-running on a running lab is a no-op. Seconds to healthy.
 */
export async function upLab(lab: LabSpec, dir: string, options: UpOptions): Promise<number> {
  await requireDocker();
  await prepareLab(lab, dir, options.log);
  options.log(`starting ${lab.project} from ${dir}`);
  // `up -d` itself waits for the services the others depend on to be healthy: the whole budget.
  const once = () =>
    composeUp(
      {
        cwd: dir,
        files: options.files ?? ['docker-compose.yml'],
        env: { ...process.env, ...options.imagesEnv },
        commandOptions: ['--remove-orphans'],
        seconds: options.budgetSeconds,
      },
      options.only,
    );
  const up = async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once();
      } catch (err) {
        const held = transientlyHeldPort((err as Error).message);
        if (held !== undefined && attempt > PORT_RETRIES)
          throw new LabError(
            `${lab.project}: host port ${held} stayed held by another connection of this machine: ${(err as Error).message}`,
            "keep the labs' ports out of the kernel's choice of local ports: make reserve-ports (as root), then again",
          );
        if (held === undefined) throw new LabError(`${lab.project}: ${(err as Error).message}`);
        options.log(
          `host port ${held} was held by another connection as Docker bound it (it is in the kernel's ephemeral range): up again in 1 s (${attempt} of ${PORT_RETRIES})`,
        );
        await pause(1000);
      }
    }
  };
  if (options.only) return up().then(() => 0);
  return healthyBeside(lab, up, options.budgetSeconds, options.log, options.unawaited);
}

/**
 * The health wait beside a compose command that starts the lab: a JVM lab's boot chain takes
 * minutes inside `up -d` (or `start`), and the wait says where it is meanwhile; the first failure
 * of either ends both. Seconds to healthy.
 */
async function healthyBeside(
  lab: LabSpec,
  start: () => Promise<void>,
  budgetSeconds: number,
  log: Log,
  unawaited?: readonly string[],
): Promise<number> {
  const stop = new AbortController();
  const exitsBefore = await exitsNow(lab);
  const starting = start();
  const healthy = waitHealthy(lab, budgetSeconds, log, { unawaited, signal: stop.signal, exitsBefore });
  healthy.catch(() => undefined); // handled below, whichever ends first
  starting.catch(() => undefined);
  // A node that exits ends the wait at once, though compose may still be starting the others.
  const first = await Promise.race([
    starting.then(
      () => 'started' as const,
      (err: Error) => err,
    ),
    healthy.then(
      () => 'healthy' as const,
      () => 'failed' as const,
    ),
  ]);
  if (first === 'failed') return healthy;
  if (first instanceof Error) {
    stop.abort(first);
    await healthy.catch(() => undefined);
    // Compose ends `up` on a dependency that exited ("dependency failed to start"): the node's own
    // reason is the news.
    const exited = exitedSince(await labContainers(lab.project).catch(() => []), exitsBefore);
    if (exited) throw await failedServiceError(lab, exited, ` (${first.message.split('\n')[0]})`);
    throw first;
  }
  await starting;
  return healthy;
}

/** The compose project of a stack's access proxy. */
export const accessProject = (project: string): string => `${project}-access`;

/** Every lab on this engine (compose project or swarm stack) that is a carbon-labs lab (running or not). */
export async function labProjects(ms?: number): Promise<string[]> {
  const projects = (
    await Promise.all(
      [COMPOSE_PROJECT, STACK_NAMESPACE].map(async (label) => (await listContainers([label], ms)).map((c) => c.Labels[label])),
    )
  )
    .flat()
    .filter((p) => p.startsWith('carbon-labs-') && !p.endsWith('-access'));
  return [...new Set(projects)].sort();
}

/**
 * The folder a running lab was started from, from the labels compose puts on its containers; for a
 * swarm stack, those of its access proxy (a compose project in the lab's `swarm/`).
 */
export async function labDirOf(project: string, ms?: number): Promise<string> {
  const workingDir = async (p: string) =>
    (await listContainers([`${COMPOSE_PROJECT}=${p}`], ms)).map((c) => c.Labels['com.docker.compose.project.working_dir']).find(Boolean);
  const access = await workingDir(accessProject(project));
  const dir = (await workingDir(project)) ?? (access && dirname(access));
  if (!dir) throw new LabError(`no lab named ${project} on this Docker engine`, 'carbon-labs status, or start one: make lab PATTERN=3');
  return dir;
}

/**
 * Removes a lab whole: containers, networks and its database volume. Nodes are killed at once
 * (`--timeout 0`): the 4.3/4.5 images ignore SIGTERM (the entrypoint shell is PID 1), so a grace
 * period only delays the kill, and compose stops services in reverse start order, one wave after
 * another (measured: 17 s for pattern 3 with 5 s each, about 2 s without); nothing of the lab is
 * kept for a graceful stop to protect.
 */
export async function downLab(lab: LabSpec, dir: string, log: Log): Promise<void> {
  await downProject(lab.project, dir, log);
}

/**
 * Stops a lab and keeps it (containers, networks, the database volume), as `k3d cluster stop`:
 * first the nodes, balancers and backend, then the database with its grace period, so MySQL
 * shuts down cleanly. Nodes whose image stops the server on SIGTERM (docker-apim 4.7) get
 * {@link NODE_STOP_GRACE_SECONDS}; the 4.3/4.5 images ignore it (their entrypoint shell is PID 1,
 * see {@link downLab}), so a grace period would only delay the kill that `docker stop` of WSO2's own
 * compose ends in too: they are killed at once.
 */
export async function stopLab(lab: LabSpec, dir: string, log: Log): Promise<void> {
  await requireDocker();
  log(`stopping ${lab.project} (its containers and database volume are kept)`);
  const call = { cwd: dir, files: ['docker-compose.yml'], seconds: 120 };
  const stop = (services: readonly string[], seconds: number) =>
    composeStop({ ...call, commandOptions: ['--timeout', String(seconds)] }, services).catch((e: Error) => {
      throw new LabError(`${lab.project}: ${e.message}`);
    });
  await stop(
    longRunningServices(lab).filter((s) => s !== 'db'),
    lab.product.stopOnTerm ? NODE_STOP_GRACE_SECONDS : 0,
  );
  await stop(['db'], 30);
}

/** How long a node that stops on SIGTERM is given to stop its server (then it is killed). */
export const NODE_STOP_GRACE_SECONDS = 30;

/**
 * Starts a stopped lab again (`docker compose start`: the same containers, in the lab's start
 * order, each node booting again at its pace) and waits until every service is healthy. Seconds to
 * healthy.
 */
export async function resumeLab(lab: LabSpec, dir: string, options: { budgetSeconds: number; log: Log }): Promise<number> {
  await requireDocker();
  options.log(`starting ${lab.project} again from ${dir}`);
  const start = () =>
    composeStart({ cwd: dir, files: ['docker-compose.yml'], seconds: options.budgetSeconds }).catch((e: Error) => {
      throw new LabError(`${lab.project}: ${e.message}`);
    });
  return healthyBeside(lab, start, options.budgetSeconds, options.log);
}

/** {@link downLab} of a compose project by name, from any folder (`down --all`: a lab whose folder is gone). */
export async function downProject(project: string, cwd: string, log: Log): Promise<void> {
  await requireDocker();
  log(`removing ${project} (containers, networks and its database volume)`);
  await composeDown({ cwd, project, commandOptions: ['--volumes', '--remove-orphans', '--timeout', '0'], seconds: 120 }).catch(
    (e: Error) => {
      throw new LabError(`${project}: ${e.message}`);
    },
  );
}

/** What a user needs to start working with the lab. */
/** One address of a running lab, as data: what it is, its URL, and what else to know. */
export interface LabEndpoint {
  readonly name: string;
  readonly url: string;
  readonly note?: string;
}

/** Where a lab answers (`status --json` gives these as they are; {@link labUrls} prints them). */
export function labEndpoints(lab: LabSpec, dir: string, target: Target = 'compose'): LabEndpoint[] {
  const env = readLabEnv(dir);
  const admin = `https://127.0.0.1:${env.ADMIN_HTTPS_PORT}`;
  // The managers' hostname and proxyPort: the portals' login redirects go there.
  const portals = `https://${PORTAL_HOST}:${portalPort(lab)}`;
  // The classic product (2.6.0): its portals and REST v0.14, and its admin services (SOAP); the
  // stand-in serves the admin services, part of REST v0.14 and the Synapse APIs, not the portals.
  const standIn = lab.product.pulled ? '' : '; not served by the stand-in';
  const front = isClassic(lab.product)
    ? [
        { name: 'Publisher', url: `${portals}/publisher`, note: `store: ${portals}/store${standIn}` },
        {
          name: 'REST',
          url: `${admin}/api/am/publisher/v0.14`,
          note: `store: ${admin}/api/am/store/v0.14, DCR: ${admin}/client-registration/v0.14/register, token: ${admin}/oauth2/token${lab.product.pulled ? '' : ' (the stand-in: create, publish, subscribe)'}`,
        },
        {
          name: 'Admin SOAP',
          url: `${admin}/services/`,
          note: 'admin services, e.g. APIGatewayAdmin (Basic auth); a worker answers them 403',
        },
      ]
    : [
        { name: 'Publisher', url: `${portals}/publisher` },
        { name: 'DevPortal', url: `${portals}/devportal` },
        { name: 'Admin', url: `${portals}/admin` },
        {
          name: 'REST',
          url: `${admin}/api/am/publisher/v4`,
          note: `DCR: ${admin}/client-registration/v0.17/register, token: ${admin}/oauth2/token`,
        },
      ];
  return [
    ...front,
    {
      name: 'API traffic',
      url: `https://127.0.0.1:${env.API_HTTPS_PORT}/<context>/<version>/<resource>`,
      note: `http://127.0.0.1:${env.API_HTTP_PORT}/...`,
    },
    ...(isClassic(lab.product)
      ? []
      : [
          {
            name: 'WebSocket',
            url: `wss://127.0.0.1:${env.API_WSS_PORT}/<context>/<version>`,
            note: `ws://127.0.0.1:${env.API_WS_PORT}/...  (WS APIs)`,
          },
        ]),
    ...workers(lab).map((w) => {
      const [api, servlet] = w.published;
      return {
        name: w.name,
        url: `https://127.0.0.1:${env[api.variable]}`,
        note: `API, direct; servlet https://127.0.0.1:${env[servlet.variable]}`,
      };
    }),
    { name: 'Backend', url: BACKEND_URL, note: 'inside the lab: what test APIs point at; not published' },
    {
      name: 'Database',
      url: `${DB.host}:${DB.port}`,
      note: `${DB.apimDb}, ${DB.sharedDb}, inside the lab; ${
        target === 'swarm'
          ? `docker exec -it $(docker ps -q -f label=com.docker.swarm.service.name=${lab.project}_db) mysql -uroot -p${DB.rootPassword}`
          : `docker compose -p ${lab.project} exec db mysql -uroot -p${DB.rootPassword}`
      }`,
    },
  ];
}

/** The lab's addresses as the CLI prints them after `up` and in `status`, then how to log in and stop it. */
export function labUrls(lab: LabSpec, dir: string, target: Target = 'compose'): string[] {
  return [
    ...labEndpoints(lab, dir, target).map((e) => `  ${e.name.padEnd(12)} ${e.url}${e.note ? `  (${e.note})` : ''}`),
    `  Login        admin / admin  (TLS by the lab CA: curl --cacert ${join(dir, TRUST.caCert)})`,
    // A stack has no stop that keeps it (Swarm restarts its tasks): only its removal.
    ...(target === 'compose' ? [`  Stop         make stop ${makeArgs(lab)}  (kept: make start ${makeArgs(lab)} brings it back)`] : []),
    `  Remove       make down ${makeArgs(lab)}`,
  ];
}
