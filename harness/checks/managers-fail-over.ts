import { retryUntil } from '../../generator/runtime/retry';
import { ApimClient, invoke, PUBLISHER } from '../apim-client';
import type { LabSpec } from '../../generator/model/lab';
import { managers } from '../../generator/model/lab';
import { Check, CheckContext, CheckFailure, round, TimelinePoint } from '../check';
import { describeExchange, Exchange } from '../http';

export type FaultVariant = 'stop' | 'kill' | 'pause';
const VARIANTS: readonly FaultVariant[] = ['stop', 'kill', 'pause'];
const STEADY_MS = 1500;
const AFTER_RECOVERY_MS = 2000;
const MAX_AFTER_FAULT_MS = 15_000;

interface Ack { readonly name: string; readonly context: string; readonly apiId: string; readonly at: number }

/** What one fault variant cost (see README, "The checks"). */
export type VariantFigures = {
  rtoMs: number | null; dockerFaultMs: number; requests: number; failedRequests: number; outageMs: number;
  failedByMethod: Record<string, number>; maxLatencyMs: number; acknowledgedWrites: number; writesAfterFault: number;
  lostAcknowledgedWrites: number; duplicatedWrites: number; unreachedWorkers: number; failbackMs: number | null;
  lost?: string[]; unreached?: string[]; duplicated?: string[];
};
export type FailoverFigures = {
  servedWhileActiveUp: Record<string, number>; rtoBoundMs: number;
  stop: VariantFigures; kill: VariantFigures; pause: VariantFigures;
};
export type OutageFigures = {
  outageWrites: number; outageWritesAccepted: number; workerRequestsDuringOutage: number; workerFailuresDuringOutage: number; writesRecovered: boolean;
};

/** What the fault helpers and the load need of a check's context. */
type LabContext = Pick<CheckContext, 'lab'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A bounded steady load through the manager balancer: a writer deploying new APIs (create →
 * revision → deploy; acknowledged when deploy answers) and a reader of acknowledged ones.
 */
class ManagerLoad {
  readonly points: TimelinePoint[] = [];
  readonly acks: Ack[] = [];
  readonly attempted: string[] = [];
  private running = true;
  private readonly t0 = performance.now();

  constructor(private readonly client: ApimClient, private readonly ctx: LabContext, private readonly tag: string) {}

  now(): number { return performance.now() - this.t0; }

  private async timed(method: string, call: () => Promise<Exchange>, okStatuses: number[]): Promise<Exchange> {
    const t = this.now();
    const e = await call();
    this.points.push({ t: Math.round(t), method, status: e.status, ok: okStatuses.includes(e.status), ms: Math.round(e.ms), upstream: e.upstream });
    return e;
  }

  async writer(): Promise<void> {
    for (let i = 0; this.running; i++) {
      const name = `Fo${this.tag}n${i}`;
      const context = `/fo-${this.tag}-${i}`;
      this.attempted.push(name);
      const created = await this.timed('POST create', () => this.client.tryCreateApi({ name, context, version: '1.0.0', backendUrl: this.ctx.lab.backendUrl }), [201]);
      if (created.status !== 201) { await sleep(20); continue; }
      const apiId = (created.body as { id: string }).id;
      const rev = await this.timed('POST revision', () => this.client.call('POST', `${PUBLISHER}/apis/${apiId}/revisions`, { description: 'failover' }), [201]);
      if (rev.status !== 201) continue;
      const deploy = await this.timed('POST deploy', () => this.client.call('POST', `${PUBLISHER}/apis/${apiId}/deploy-revision?revisionId=${(rev.body as { id: string }).id}`,
        [{ name: 'Default', vhost: this.ctx.lab.vhost, displayOnDevportal: true }]), [200, 201]);
      if (deploy.status === 201 || deploy.status === 200) this.acks.push({ name, context, apiId, at: this.now() });
      await sleep(20);
    }
  }

  async reader(): Promise<void> {
    while (this.running) {
      const ack = this.acks[Math.floor(Math.random() * this.acks.length)];
      if (ack) await this.timed('GET api', () => this.client.call('GET', `${PUBLISHER}/apis/${ack.apiId}`), [200]);
      await sleep(30);
    }
  }

  stop(): void { this.running = false; }
}

async function applyFault(ctx: LabContext, node: string, variant: FaultVariant): Promise<void> {
  if (variant === 'stop') await ctx.lab.stop(node);
  else if (variant === 'kill') await ctx.lab.kill(node);
  else await ctx.lab.pause(node);
}

async function undoFault(ctx: LabContext, node: string, variant: FaultVariant): Promise<void> {
  if (variant === 'pause') await ctx.lab.unpause(node);
  else await ctx.lab.start(node);
  await ctx.lab.waitHealthy();
}

/** While manager-1 serves, every manager-bound request is served by it. */
async function passiveIsPassive(ctx: CheckContext<FailoverFigures>, client: ApimClient, active: string): Promise<void> {
  const served: Record<string, number> = {};
  for (let i = 0; i < 20; i++) {
    const e = await client.call('GET', `${PUBLISHER}/apis?limit=1`);
    served[e.upstream ?? `status ${e.status}`] = (served[e.upstream ?? `status ${e.status}`] ?? 0) + 1;
  }
  ctx.figures.servedWhileActiveUp = served;
  if (served[active] !== 20) throw new CheckFailure(`the passive manager took traffic while ${active} was up: ${JSON.stringify(served)} (is ${active} the only non-backup server?)`);
}

async function variant(ctx: CheckContext<FailoverFigures>, client: ApimClient, verifier: ApimClient, v: FaultVariant): Promise<VariantFigures> {
  const { lab } = ctx;
  const active = lab.managers[0].name;
  const load = new ManagerLoad(client, ctx, ctx.unique(v));
  const loops = [load.writer(), load.reader()];
  await sleep(STEADY_MS);
  // The fault time is when Docker reports it done (stopped, killed, frozen): Docker itself takes
  // a while, during which the node still serves. The request is recorded too.
  const faultRequestedAt = load.now();
  await applyFault(ctx, active, v);
  const faultAt = load.now();
  ctx.log(`${v} ${active} at ${round(faultAt)} ms (Docker took ${round(faultAt - faultRequestedAt)} ms)`);
  const firstSuccessAfter = () => load.points
    .filter((p) => p.ok && p.t + p.ms >= faultAt)
    .reduce<number | undefined>((min, p) => (min === undefined || p.t + p.ms < min ? p.t + p.ms : min), undefined);
  await retryUntil(async () => {
    const recovered = firstSuccessAfter();
    return recovered !== undefined && load.now() > recovered + AFTER_RECOVERY_MS ? true : undefined;
  }, { timeoutMs: MAX_AFTER_FAULT_MS, intervalMs: 100, what: 'a success after the fault' }).catch(() => undefined);
  load.stop();
  await Promise.all(loops);
  // RTO: fault → the first request to complete successfully after it (served by the passive node).
  const recovered = firstSuccessAfter();
  const rtoMs = recovered === undefined ? null : recovered - faultAt;
  const failed = load.points.filter((p) => !p.ok);
  // Recorded beside the RTO: from the first failed request after the fault to the end of the last.
  const failedAfter = failed.filter((p) => p.t + p.ms >= faultAt);
  const outageMs = failedAfter.length ? Math.max(...failedAfter.map((p) => p.t + p.ms)) - Math.min(...failedAfter.map((p) => p.t)) : 0;
  const failedByMethod: Record<string, number> = {};
  for (const p of failed) failedByMethod[p.method] = (failedByMethod[p.method] ?? 0) + 1;
  ctx.timelines.push({ name: `${v} ${active}`, faultAt: Math.round(faultAt), points: load.points });

  await undoFault(ctx, active, v);

  // Jepsen's rule: every acknowledged write is readable afterwards, once, and reaches every worker.
  // A 404 is an answer (lost); a 502 or a timeout is the balancer still recovering: ask again.
  const lost: string[] = [];
  for (const ack of load.acks) {
    const e = await retryUntil(async (observe) => {
      const read = await verifier.call('GET', `${PUBLISHER}/apis/${ack.apiId}`);
      observe(describeExchange(read));
      return read.status === 200 || read.status === 404 ? read : undefined;
    }, { timeoutMs: 20_000, intervalMs: 250, what: `a definite answer for ${ack.name}` }).catch((err: Error) => ({ status: 0, error: err.message } as Exchange));
    if (e.status !== 200) { lost.push(`${ack.name} (${ack.apiId}) → ${e.status}`); if (e.url) ctx.record(e); else ctx.evidence.push(String(e.error)); }
  }
  const listed = await verifier.call('GET', `${PUBLISHER}/apis?limit=1000`);
  const names = ((listed.body as { list?: { name: string }[] }).list ?? []).map((a) => a.name);
  // A write stored twice: an API under one name twice, or a second revision of one the load made once.
  const duplicated = load.attempted.filter((n) => names.filter((x) => x === n).length > 1);
  for (const ack of load.acks) {
    const revisions = await verifier.call('GET', `${PUBLISHER}/apis/${ack.apiId}/revisions`);
    const count = (revisions.body as { count?: number } | undefined)?.count ?? 0;
    if (revisions.status === 200 && count > 1) duplicated.push(`${ack.name} revision ×${count}`);
  }
  const unreached: string[] = [];
  const readable = load.acks.filter((a) => !lost.some((l) => l.startsWith(`${a.name} `)));
  if (readable.length) {
    for (const a of readable) await verifier.call('POST', `${PUBLISHER}/apis/change-lifecycle?apiId=${a.apiId}&action=Publish`);
    const { token } = await verifier.subscribe(ctx.unique(`fo-${v}-`), readable.map((a) => a.apiId));
    for (const w of lab.workers) {
      const http = lab.http(lab.workerApiUrl(w.name));
      for (const a of readable) {
        const served = await retryUntil(async () => ((await invoke(http, a.context, '1.0.0', token)).status === 200 ? true : undefined),
          { timeoutMs: lab.product.timing.propagationBoundMs * 3, intervalMs: 50, what: `${w.name} to serve ${a.context}` }).catch(() => false);
        if (!served) unreached.push(`${a.name} on ${w.name}`);
      }
    }
  }

  // Failback: once the active manager is healthy again, the balancer returns to it.
  const backAt = performance.now();
  const failback = await retryUntil(async () => ((await verifier.call('GET', `${PUBLISHER}/apis?limit=1`)).upstream === active ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 250, what: `${active} to serve again` }).then(() => performance.now() - backAt, () => null);

  return {
    rtoMs: rtoMs === null ? null : round(rtoMs),
    dockerFaultMs: round(faultAt - faultRequestedAt),
    requests: load.points.length,
    failedRequests: failed.length,
    outageMs: round(outageMs),
    failedByMethod,
    maxLatencyMs: Math.max(...load.points.map((p) => p.ms), 0),
    acknowledgedWrites: load.acks.length,
    writesAfterFault: load.acks.filter((a) => a.at > faultAt).length,
    lostAcknowledgedWrites: lost.length,
    duplicatedWrites: duplicated.length,
    unreachedWorkers: unreached.length,
    failbackMs: failback === null ? null : round(failback),
    ...(lost.length ? { lost } : {}),
    ...(unreached.length ? { unreached: unreached.slice(0, 10) } : {}),
    ...(duplicated.length ? { duplicated: [...new Set(duplicated)].slice(0, 10) } : {}),
  };
}

/** Pattern 1 has no passive manager: while it is down, writes fail and workers keep serving. */
async function expectedOutage(ctx: CheckContext<OutageFigures>, client: ApimClient): Promise<void> {
  const { lab } = ctx;
  const active = lab.managers[0].name;
  const api = await ctx.deployedApi();
  await lab.stop(active);
  const worker = lab.http(lab.apiUrl());
  let writes = 0; let writesAccepted = 0; let served = 0; let workerFailures = 0;
  const until = performance.now() + 3000;
  while (performance.now() < until) {
    const w = await client.tryCreateApi({ name: ctx.unique('Outage'), context: `/${ctx.unique('outage-')}`, version: '1.0.0', backendUrl: lab.backendUrl });
    writes++;
    if (w.status >= 200 && w.status < 300) writesAccepted++;
    const r = await invoke(worker, api.context, api.version, api.token);
    if (r.status === 200) served++; else { workerFailures++; ctx.record(r); }
  }
  await lab.start(active);
  await lab.waitHealthy();
  const recovered = await retryUntil(async () => ((await client.tryCreateApi({ name: ctx.unique('Back'), context: `/${ctx.unique('back-')}`, version: '1.0.0', backendUrl: lab.backendUrl })).status === 201 ? true : undefined),
    { timeoutMs: 30_000, intervalMs: 250, what: 'writes to work again' }).catch(() => false);
  Object.assign(ctx.figures, { outageWrites: writes, outageWritesAccepted: writesAccepted, workerRequestsDuringOutage: served + workerFailures, workerFailuresDuringOutage: workerFailures, writesRecovered: recovered });
  if (writesAccepted) throw new CheckFailure(`${writesAccepted} writes succeeded while the only manager was down: something else serves the manager listener`);
  if (workerFailures) throw new CheckFailure(`workers failed ${workerFailures} of ${served + workerFailures} requests while the manager was down`, lab.workers.map((w) => w.name));
  if (!recovered) throw new CheckFailure(`writes did not work again after ${active} came back`, [active]);
}

const onePassive = (lab: LabSpec) => managers(lab).length > 1;

/**
 * Managers fail over without losing anything: passive means passive, a stop/kill/pause of the
 * active manager costs at most the RTO bound, every acknowledged write survives once and reaches
 * every worker, and traffic fails back.
 */
export const managersFailOver: Check<FailoverFigures> = {
  id: 'managers-fail-over',
  title: 'The passive manager takes over within the RTO bound on stop, kill and pause of the active one, losing and duplicating no acknowledged write; traffic fails back',
  skipReason: (lab) => (onePassive(lab) ? undefined : 'one manager, no passive one to fail over to (see manager-outage-without-ha)'),
  headline: (f) => VARIANTS.map((v) => `${v}: RTO ${f[v]?.rtoMs ?? '?'} ms, ${f[v]?.failedRequests ?? '?'} failed over ${f[v]?.outageMs ?? '?'} ms, ${f[v]?.lostAcknowledgedWrites ?? '?'} lost, ${f[v]?.duplicatedWrites ?? '?'} duplicated`).join('; '),
  async run(ctx: CheckContext<FailoverFigures>) {
    const { lab } = ctx;
    const client = await ctx.managerClient();
    const verifier = await ctx.managerClient();
    await passiveIsPassive(ctx, client, lab.managers[0].name);
    const bound = lab.product.timing.rtoBoundMs;
    ctx.figures.rtoBoundMs = bound;
    const problems: string[] = [];
    for (const v of VARIANTS) {
      const figures = await variant(ctx, client, verifier, v);
      ctx.figures[v] = figures;
      ctx.log(`${v}: ${JSON.stringify(figures)}`);
      if (figures.rtoMs === null) problems.push(`${v}: no request succeeded within ${MAX_AFTER_FAULT_MS} ms of the fault`);
      else if (figures.rtoMs > bound) problems.push(`${v}: RTO ${figures.rtoMs} ms is above the bound of ${bound} ms`);
      if (figures.lostAcknowledgedWrites) problems.push(`${v}: ${figures.lostAcknowledgedWrites} acknowledged writes lost`);
      if (figures.unreachedWorkers) problems.push(`${v}: ${figures.unreachedWorkers} acknowledged writes never reached a worker`);
      if (figures.duplicatedWrites) problems.push(`${v}: ${figures.duplicatedWrites} writes stored more than once (${JSON.stringify(figures.duplicated)})`);
      if (figures.failbackMs === null) problems.push(`${v}: traffic did not fail back to ${lab.managers[0].name}`);
    }
    if (problems.length) throw new CheckFailure(problems.join('; '), lab.managers.map((m) => m.name));
  },
};

/** Pattern 1 has no passive manager: while its one manager is down, writes fail and workers keep serving. */
export const managerOutageWithoutHa: Check<OutageFigures> = {
  id: 'manager-outage-without-ha',
  title: 'With one manager (no HA), while it is down admin writes fail, workers keep serving API traffic, and writes work again when it is back',
  skipReason: (lab) => (onePassive(lab) ? 'a passive manager takes over here (see managers-fail-over)' : undefined),
  headline: (f) => `outage: ${f.outageWritesAccepted ?? '?'} of ${f.outageWrites ?? '?'} writes accepted, ${f.workerFailuresDuringOutage ?? '?'} of ${f.workerRequestsDuringOutage ?? '?'} worker requests failed`,
  async run(ctx: CheckContext<OutageFigures>) {
    await expectedOutage(ctx, await ctx.managerClient());
  },
};
