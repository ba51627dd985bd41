import Docker from 'dockerode';
import { Readable, Writable } from 'stream';
import { finished } from 'stream/promises';
import { LabError } from '../errors';

/**
 * The one door to the Docker engine's API. Every call has a deadline: an engine that does not
 * answer (a container wedged in a frozen cgroup, a daemon busy with a lock) ends the call with
 * one line naming the engine, the object and the call, never a hang. Nothing else imports
 * dockerode (an ESLint rule says so); the engine's CLI goes through `runtime/exec.ts`, Compose
 * through `runtime/compose-cli.ts`, both with deadlines too.
 */
const api = new Docker();

/** Deadline of one API call: long enough for a busy engine, short enough for a verdict. */
export const ENGINE_CALL_MS = 30_000;

/** Which engine the calls go to, for the messages. */
export const engineName = (): string => process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';

/** The engine did not answer a call in time. */
export class EngineTimeout extends LabError {
  constructor(
    readonly call: string,
    readonly ms: number,
  ) {
    super(
      `the Docker engine (${engineName()}) did not answer ${call} within ${(ms / 1000).toFixed(0)} s`,
      'docker info (is dockerd busy or wedged? see its log), then run again',
    );
    this.name = 'EngineTimeout';
  }
}

/**
 * Runs one engine call with a deadline: the call gets an AbortSignal that fires at the deadline
 * (dockerode drops the request), and the caller gets an {@link EngineTimeout} then, whether or not
 * the call noticed.
 */
export async function bounded<T>(call: string, attempt: (signal: AbortSignal) => Promise<T>, ms = ENGINE_CALL_MS): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new EngineTimeout(call, ms));
    }, ms);
  });
  try {
    return await Promise.race([attempt(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A container on another swarm node's engine: `<id>@<engine URL>` (a stack's task elsewhere, as
 * runtime/swarm.ts names it from the node's `carbon-labs.engine` label). Every container call
 * below takes either form, so the harness acts on a task wherever Swarm placed it.
 */
export const remoteContainer = (id: string, engine: string): string => `${id}@${engine}`;

/** The engine URL of a container on another node's engine, or undefined for one of this engine's. */
export const remoteEngineOf = (ref: string): string | undefined => (ref.includes('@') ? ref.slice(ref.indexOf('@') + 1) : undefined);

const engines = new Map<string, Docker>();

/** The engine a container reference names, the container's own id, and where (for messages). */
function located(ref: string): { client: Docker; id: string; where: string } {
  const at = ref.indexOf('@');
  if (at < 0) return { client: api, id: ref, where: '' };
  const url = ref.slice(at + 1);
  let client = engines.get(url);
  if (!client) {
    const parsed = new URL(url);
    client =
      parsed.protocol === 'unix:'
        ? new Docker({ socketPath: parsed.pathname })
        : new Docker({ host: parsed.hostname, port: Number(parsed.port || 2375), protocol: 'http' });
    engines.set(url, client);
  }
  return { client, id: ref.slice(0, at), where: ` on ${url}` };
}

const container = (ref: string) => {
  const { client, id } = located(ref);
  return client.getContainer(id);
};

type ContainerInfo = Docker.ContainerInspectInfo;
type ListedContainer = Docker.ContainerInfo;

/** Containers (running or not) whose labels match every `label` filter (`key` or `key=value`). */
export function listContainers(labels: readonly string[], ms = ENGINE_CALL_MS): Promise<ListedContainer[]> {
  return bounded(
    `list containers (${labels.join(', ')})`,
    (abortSignal) => api.listContainers({ all: true, filters: { label: [...labels] }, abortSignal }),
    ms,
  );
}

export function inspectContainer(id: string, ms = ENGINE_CALL_MS): Promise<ContainerInfo> {
  return bounded(`inspect of container ${short(id)}`, (abortSignal) => container(id).inspect({ abortSignal }), ms);
}

/** 304 (already in that state) is success for start, stop, kill. */
const notModified = (err: { statusCode?: number }) => {
  if (err.statusCode !== 304) throw err;
};

export function startContainer(id: string): Promise<void> {
  return bounded(`start of container ${short(id)}`, (abortSignal) =>
    container(id)
      .start({ abortSignal })
      .then(() => undefined, notModified),
  );
}

/** `docker stop` with `seconds` of grace: the deadline leaves room for them. */
export function stopContainer(id: string, seconds: number): Promise<void> {
  return bounded(
    `stop of container ${short(id)}`,
    (abortSignal) =>
      container(id)
        .stop({ t: seconds, abortSignal })
        .then(() => undefined, notModified),
    seconds * 1000 + ENGINE_CALL_MS,
  );
}

export function killContainer(id: string, signal = 'SIGKILL'): Promise<void> {
  return bounded(`kill -s ${signal} of container ${short(id)}`, (abortSignal) =>
    container(id)
      .kill({ signal, abortSignal })
      .then(() => undefined, notModified),
  );
}

export function restartContainer(id: string, seconds: number): Promise<void> {
  return bounded(
    `restart of container ${short(id)}`,
    (abortSignal) =>
      container(id)
        .restart({ t: seconds, abortSignal })
        .then(() => undefined),
    seconds * 1000 + ENGINE_CALL_MS,
  );
}

/** Docker's multiplexed stdout/stderr (no TTY) as text, split by dockerode's own demuxer. */
export async function demuxed(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  api.modem.demuxStream(stream, sink, sink);
  await finished(stream);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs a command in a running container (as `user`, default the image's): its exit code and output. */
export function execIn(
  id: string,
  command: readonly string[],
  options: { user?: string; ms?: number } = {},
): Promise<{ code: number; output: string }> {
  return bounded(
    `exec of "${command.join(' ').slice(0, 60)}" in container ${short(id)}`,
    async (abortSignal) => {
      const execution = await container(id).exec({
        Cmd: [...command],
        AttachStdout: true,
        AttachStderr: true,
        ...(options.user ? { User: options.user } : {}),
        abortSignal,
      });
      const output = await demuxed(await execution.start({ abortSignal }));
      const { ExitCode } = await execution.inspect({ abortSignal });
      return { code: ExitCode ?? -1, output: output.trim() };
    },
    options.ms,
  );
}

/** The last `lines` log lines of a container, stdout and stderr interleaved ('' when it has none or is gone). */
export async function containerLogs(id: string, lines: number, ms = ENGINE_CALL_MS, sinceMs?: number): Promise<string> {
  return readContainerLogs(id, lines, ms, sinceMs).catch((err: unknown) => {
    if (err instanceof EngineTimeout) throw err;
    return '';
  });
}

/** The same, but a log the engine cannot give is an error (for a check whose verdict rests on the log). */
export async function readContainerLogs(id: string, lines: number, ms = ENGINE_CALL_MS, sinceMs?: number): Promise<string> {
  // `since` is whole seconds: a line of the second before is included.
  const since = sinceMs === undefined ? {} : { since: Math.floor(sinceMs / 1000) };
  const buffer = await bounded(
    `logs of container ${short(id)}`,
    (abortSignal) => container(id).logs({ stdout: true, stderr: true, tail: lines, follow: false, ...since, abortSignal }),
    ms,
  );
  return demuxed(Readable.from([buffer as unknown as Buffer]));
}

/** One `docker stats` sample of a container. */
export function containerStats(id: string): Promise<Docker.ContainerStats> {
  return bounded(`stats of container ${short(id)}`, (abortSignal) =>
    container(id).stats({ stream: false, abortSignal } as { stream: false }),
  );
}

export function disconnectNetwork(network: string, ref: string): Promise<void> {
  const { client, id } = located(ref);
  return bounded(`disconnect of container ${short(ref)} from ${network}`, (abortSignal) =>
    client.getNetwork(network).disconnect({ Container: id, Force: true, abortSignal }),
  );
}

export function connectNetwork(network: string, ref: string, address: string, aliases: readonly string[]): Promise<void> {
  const { client, id } = located(ref);
  return bounded(`connect of container ${short(ref)} to ${network}`, (abortSignal) =>
    client.getNetwork(network).connect({
      Container: id,
      EndpointConfig: { IPAMConfig: { IPv4Address: address }, Aliases: [...aliases] },
      abortSignal,
    } as Docker.NetworkConnectOptions),
  );
}

export function listNetworks(labels: readonly string[] = []): Promise<Docker.NetworkInspectInfo[]> {
  return bounded(`list networks${labels.length ? ` (${labels.join(', ')})` : ''}`, (abortSignal) =>
    api.listNetworks({ ...(labels.length ? { filters: { label: [...labels] } } : {}), abortSignal }),
  );
}

/** Removes a volume; false when there was none. */
export function removeVolume(name: string): Promise<boolean> {
  return bounded(`removal of volume ${name}`, (abortSignal) =>
    api
      .getVolume(name)
      .remove({ abortSignal })
      .then(
        () => true,
        (e: { statusCode?: number }) => {
          if (e.statusCode === 404) return false;
          throw e;
        },
      ),
  );
}

/** `docker info`, the parts read here. */
export interface EngineInfo {
  readonly Swarm?: {
    readonly LocalNodeState?: string;
    readonly ControlAvailable?: boolean;
    readonly NodeID?: string;
    readonly Nodes?: number;
  };
}

export function engineInfo(ms = ENGINE_CALL_MS): Promise<EngineInfo> {
  return bounded('info', (abortSignal) => (api.info as (o: object) => Promise<EngineInfo>).call(api, { abortSignal }), ms);
}

export function listServices(labels: readonly string[], ms = ENGINE_CALL_MS): Promise<unknown[]> {
  return bounded(
    `list services (${labels.join(', ')})`,
    (abortSignal) => api.listServices({ filters: { label: [...labels] }, abortSignal }) as Promise<unknown[]>,
    ms,
  );
}

export function inspectService(name: string): Promise<unknown> {
  return bounded(`inspect of service ${name}`, (abortSignal) =>
    (api.getService(name).inspect as (o: object) => Promise<unknown>).call(api.getService(name), { abortSignal }),
  );
}

/** A swarm's tasks whose desired state is running, of the services with these ids. */
export function listTasks(serviceIds: readonly string[], ms = ENGINE_CALL_MS): Promise<unknown[]> {
  return bounded(
    `list tasks of ${serviceIds.length} services`,
    (abortSignal) =>
      (api.listTasks as (o: object) => Promise<unknown[]>).call(api, {
        filters: { service: [...serviceIds], 'desired-state': ['running'] },
        abortSignal,
      }),
    ms,
  );
}

export function listNodes(): Promise<unknown[]> {
  return bounded('list swarm nodes', (abortSignal) => (api.listNodes as (o: object) => Promise<unknown[]>).call(api, { abortSignal }));
}

const short = (ref: string) => {
  const { id, where } = ref.includes('@') ? located(ref) : { id: ref, where: '' };
  return `${/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id}${where}`;
};

/** Removes a container, running or not. */
export function removeContainer(id: string): Promise<void> {
  return bounded(`removal of container ${short(id)}`, (abortSignal) => container(id).remove({ force: true, abortSignal }));
}
