import type Docker from 'dockerode';
import { rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { DockerComposeEnvironment, StartedDockerComposeEnvironment, Wait } from 'testcontainers';
import type { LabSpec, NodeSpec, PatternId } from '../generator/model/lab';
import { BACKEND_URL, managers, workers } from '../generator/model/lab';
import { PORTS } from '../generator/products/product';
import { buildLab } from '../generator/patterns';
import type { ProductSpec } from '../generator/products/product';
import { ensureImages, Log } from '../generator/runtime/images';
import { demux, docker, labContainers, prepareLab, readLabEnv, waitHealthy } from '../generator/runtime/lab';
import { PROJECT_ROOT } from '../generator/paths';
import { synthLab } from '../generator/synth/writer';
import { ApimClient } from './apim-client';
import { HttpClient } from './http';

// Ryuk (testcontainers' reaper) is an image from a registry; the harness downs what it starts itself.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
// Lab ports are published on 127.0.0.1 only. Where testcontainers believes it runs inside a
// container (/.dockerenv), it would look for them on the bridge gateway instead.
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

/** Docker's own memory figure (`docker stats`): usage less inactive file cache. */
export function memoryBytes(stats: { memory_stats: { usage?: number; stats?: Record<string, number> } }): number {
  const s = stats.memory_stats;
  const inactive = s.stats?.total_inactive_file ?? s.stats?.inactive_file ?? 0;
  return (s.usage ?? 0) - inactive;
}

/**
 * A running lab as the harness sees it: URLs on 127.0.0.1, REST clients, and the container
 * actions a check needs (stop, kill, pause, logs, memory), addressed by compose service name.
 */
export class LabTarget {
  readonly env: Record<string, string>;

  constructor(readonly lab: LabSpec, readonly dir: string, private readonly started?: StartedDockerComposeEnvironment) {
    this.env = readLabEnv(dir);
  }

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

  async stop(service: string): Promise<void> { await (await this.container(service)).stop({ t: 0 }).catch(ignoreNotModified); }
  async kill(service: string): Promise<void> { await (await this.container(service)).kill().catch(ignoreNotModified); }
  async pause(service: string): Promise<void> { await (await this.container(service)).pause(); }
  async unpause(service: string): Promise<void> { await (await this.container(service)).unpause().catch(ignoreNotModified); }
  async start(service: string): Promise<void> { await (await this.container(service)).start().catch(ignoreNotModified); }

  async logs(service: string, lines = 20): Promise<string> {
    const buffer = await (await this.container(service)).logs({ stdout: true, stderr: true, tail: lines }).catch(() => Buffer.from(''));
    return demux(buffer as unknown as Buffer).trim();
  }

  /** Runs a command in a service's container; its exit code and output. */
  async exec(service: string, command: readonly string[]): Promise<{ code: number; output: string }> {
    const execution = await (await this.container(service)).exec({ Cmd: [...command], AttachStdout: true, AttachStderr: true });
    const stream = await execution.start({});
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const { ExitCode } = await execution.inspect();
    return { code: ExitCode ?? -1, output: demux(Buffer.concat(chunks)).trim() };
  }

  async memory(service: string): Promise<number> {
    return memoryBytes(await (await this.container(service)).stats({ stream: false }) as never);
  }

  /** Waits until every service is healthy again (after a fault is undone, unhealthy is a phase). */
  async waitHealthy(log: Log = () => undefined, unhealthyIsFatal = false): Promise<void> {
    await waitHealthy(this.lab, this.product.timing.startupBudgetSeconds, log, { unhealthyIsFatal });
  }

  /**
   * Runs a command in a throw-away container on one of the lab's networks (a probe): by default
   * from the balancers' image, or from `image` (the product's, for its JVM) with host `binds`.
   */
  async probe(network: 'public' | 'admin' | 'cluster', command: string[], options: { image?: string; binds?: string[]; user?: string } = {}): Promise<{ code: number; output: string }> {
    const image = options.image ?? (await (await this.container(this.workerBalancer)).inspect()).Config.Image;
    const container = await docker.createContainer({
      Image: image, Cmd: command, Entrypoint: [], ...(options.user ? { User: options.user } : {}),
      HostConfig: { NetworkMode: `${this.lab.project}_${network}`, AutoRemove: false, Binds: options.binds ? [...options.binds] : undefined },
      Labels: { 'carbon-labs.probe': this.lab.project },
    });
    try {
      await container.start();
      const { StatusCode } = await container.wait();
      const output = demux(await container.logs({ stdout: true, stderr: true }) as unknown as Buffer);
      return { code: StatusCode, output: output.trim() };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  /** Tears down what this harness started; a lab the user started is left running. */
  async release(): Promise<void> {
    // Nodes ignore SIGTERM like the product (see images/apim-sim): waiting longer only delays the kill.
    await this.started?.down({ removeVolumes: true, timeout: 2000 });
  }
}

function ignoreNotModified(err: { statusCode?: number }): void {
  if (err.statusCode !== 304) throw err;
}

/**
 * A deliberately broken lab, at the one layer the break lives in:
 * - `model`: the lab model before it is written (not validated: the break is the point);
 * - `files`: the written lab folder (a mis-wired deployment.toml, as a user's typo would be);
 * - `compose`: a compose override layered on the lab's file, by service (environment, command).
 */
export type LabFault =
  | { readonly kind: 'model'; readonly mutate: (lab: LabSpec) => LabSpec }
  | { readonly kind: 'files'; readonly edit: (dir: string) => void }
  | { readonly kind: 'compose'; readonly services: Record<string, Record<string, unknown>> };

export interface LabTargetOptions {
  readonly pattern: PatternId;
  readonly product: ProductSpec;
  /** Folder of the lab; default a fresh one under dist/labs (never the committed labs/). */
  readonly dir?: string;
  readonly faults?: readonly LabFault[];
  /** Services whose health is not awaited (a broken lab may keep them unhealthy). */
  readonly unawaited?: readonly string[];
  /** Start only these services (and what they depend on). */
  readonly services?: readonly string[];
  readonly log?: Log;
}

/**
 * Attaches to the lab if it is already running (e.g. started by `make lab`), else generates it
 * and brings it up through testcontainers' DockerComposeEnvironment, and waits until healthy.
 */
export async function openLab(options: LabTargetOptions): Promise<LabTarget> {
  const log = options.log ?? (() => undefined);
  let lab = buildLab(options.pattern, { product: options.product });
  const faults = options.faults ?? [];
  for (const f of faults) if (f.kind === 'model') lab = f.mutate(lab);
  const committed = join(PROJECT_ROOT, 'labs', lab.product.id, `pattern-${lab.pattern}`);
  const running = (await labContainers(lab.project)).some((c) => c.state === 'running');
  const seeded = faults.length > 0 || !!options.services;
  if (running) {
    if (seeded) {
      throw new Error(`${lab.project} is running; a seeded-fault lab needs its name and ports. Stop it first: make down PATTERN=${lab.pattern} PRODUCT=${lab.product.id}`);
    }
    log(`attaching to running lab ${lab.project}`);
    return new LabTarget(lab, options.dir ?? committed);
  }
  const dir = options.dir ?? join(PROJECT_ROOT, 'dist', 'labs', `${lab.product.id}-p${lab.pattern}`);
  rmSync(dir, { recursive: true, force: true });
  synthLab(lab, dir, { force: true, unsafeSkipValidation: faults.some((f) => f.kind === 'model') });
  const files = ['docker-compose.yml'];
  const overrides = faults.flatMap((f) => (f.kind === 'compose' ? Object.entries(f.services) : []));
  if (overrides.length) {
    writeFileSync(join(dir, 'carbon-labs.fault.yml'), YAML.stringify({ services: Object.fromEntries(overrides) }));
    files.push('carbon-labs.fault.yml');
  }
  for (const f of faults) if (f.kind === 'files') f.edit(dir);
  await prepareLab(lab, dir, log);
  const imagesEnv = await ensureImages(lab.product, log);
  log(`starting ${lab.project} with testcontainers from ${dir}${seeded ? ' (seeded fault)' : ''}`);
  let environment = new DockerComposeEnvironment(dir, files)
    .withProjectName(lab.project)
    .withEnvironment({ ...imagesEnv, ...readLabEnv(dir) })
    .withStartupTimeout(options.product.timing.startupBudgetSeconds * 1000);
  // A node a broken lab keeps unhealthy: wait until it serves (the stand-in's and the product's
  // "started" lines), not until it is healthy.
  for (const service of options.unawaited ?? []) {
    environment = environment.withWaitStrategy(`${service}-1`, Wait.forLogMessage(/Server ready|Gateway listening|WSO2 Carbon started/));
  }
  const started = await environment.up(options.services ? [...options.services] : undefined);
  const target = new LabTarget(lab, dir, started);
  try {
    if (!options.services) await waitHealthy(lab, options.product.timing.startupBudgetSeconds, log, { unhealthyIsFatal: true, unawaited: options.unawaited });
  } catch (err) {
    await target.release();
    throw err;
  }
  return target;
}
