import { managers } from '../../generator/model/lab';
import { retryUntil } from '../../generator/runtime/retry';
import { invoke } from '../apim-client';
import { Check, CheckContext, fixtureMs, paceOf, planOf, round } from '../check';
import { DB_READY_SECONDS, startupBudgetSeconds } from '../../generator/model/start-order';
import { Recorder } from '../load';

const STEADY_MS = 1000;
const AFTER_RECOVERY_MS = 1000;
/** How long past the bound the check waits for a write to be acknowledged again, so that a late one is measured, not only missed. */
const WRITES_BACK_GRACE_MS = 10_000;

export type DatabaseRestartFigures = {
  dockerRestartMs: number;
  writes: number;
  writesFailed: number;
  acknowledgedWrites: number;
  lostAcknowledgedWrites: number;
  writesBackMs: number | null;
  workerRequests: number;
  workerFailures: number;
  writesBackBoundMs: number;
  lost?: string[];
};

/**
 * The database restarts under load (`docker restart db`): writes meanwhile fail cleanly (an error,
 * never an acknowledgement that is then lost), work again soon after the database is back, and
 * API traffic on the workers — served from what the gateways hold — never stops.
 */
export const databaseRestart: Check<DatabaseRestartFigures> = {
  id: 'database-restart',
  title:
    'A database restart under load loses no acknowledged write, writes work again within the RTO bound after it, and workers keep serving API traffic throughout',
  plan(lab) {
    const { call, timing } = paceOf(lab);
    // A second of load, the database's restart (its grace and its start), writes back within the bound, every acknowledged write read.
    // The database's own restart (its grace, its start) is the floor; the harness then waits a quiet second.
    return planOf({
      floorMs: STEADY_MS + 5_000 + AFTER_RECOVERY_MS,
      workMs: fixtureMs(lab) + 60 * call,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `a database restart (about 5 s) and writes back within ${timing.rtoBoundMs} ms`,
      worstMs: STEADY_MS + 10_000 + DB_READY_SECONDS * 1000 + startupBudgetSeconds(lab) * 1000 + timing.rtoBoundMs + 10_000 + 50 * 15_000,
    });
  },
  headline: (f) =>
    `${f.writesFailed ?? '?'} of ${f.writes ?? '?'} writes failed cleanly, ${f.lostAcknowledgedWrites ?? '?'} acknowledged lost, writes back ${f.writesBackMs ?? '?'} ms after the database, ${f.workerFailures ?? '?'} of ${f.workerRequests ?? '?'} API requests failed`,
  async run(ctx: CheckContext<DatabaseRestartFigures>) {
    const { lab } = ctx;
    const api = await ctx.deployedApi();
    const client = await ctx.controlPlane();
    const verifier = await ctx.controlPlane();
    const load = new Recorder();
    const acks: { name: string; apiId: string }[] = [];
    const tag = ctx.unique('db');
    let running = true;
    let writes = 0;
    const writer = (async () => {
      for (let i = 0; running && ctx.live; i++) {
        const name = `Db${tag}n${i}`;
        writes++;
        const e = await load.timed(
          'POST create',
          () => client.tryCreateApi({ name, context: `/db-${tag}-${i}`, version: '1.0.0', backendUrl: lab.backendUrl }),
          [201],
        );
        if (e.status === 201) acks.push({ name, apiId: (e.body as { id: string }).id });
        await ctx.sleep(e.status === 201 ? 20 : 100).catch(() => undefined);
      }
    })();
    const worker = lab.http(lab.apiUrl());
    const invoker = (async () => {
      while (running && ctx.live) {
        const e = await load.timed('GET invoke', () => invoke(worker, api.context, api.version, api.token), [200]);
        if (e.status !== 200) ctx.record(e);
        await ctx.sleep(20).catch(() => undefined);
      }
    })();
    await ctx.sleep(STEADY_MS);
    ctx.step('restarting the database under load');
    const asked = performance.now();
    await lab.restart('db');
    const back = load.now();
    ctx.figures.dockerRestartMs = round(performance.now() - asked);
    ctx.log(`db restarted in ${ctx.figures.dockerRestartMs} ms`);
    await lab.waitHealthy();
    const healthyAt = load.now();
    const bound = lab.product.timing.rtoBoundMs;
    ctx.figures.writesBackBoundMs = bound;
    // Writes are back when one sent after the restart is acknowledged: counted from the database's
    // health check passing (0 when one was acknowledged before the check noticed).
    const writesBack = await retryUntil(
      async () => {
        const ok = load.points.find((p) => p.method === 'POST create' && p.ok && p.t >= back);
        return ok && load.now() > ok.t + ok.ms + AFTER_RECOVERY_MS ? Math.max(0, ok.t + ok.ms - healthyAt) : undefined;
      },
      {
        timeoutMs: bound + WRITES_BACK_GRACE_MS,
        intervalMs: 100,
        what: 'a write acknowledged after the database restart',
        signal: ctx.signal,
      },
    ).catch(() => null);
    ctx.alive();
    running = false;
    await Promise.all([writer, invoker]);
    ctx.timelines.push({ name: 'restart db', faultAt: Math.round(back), points: load.points });

    ctx.step(`reading back ${acks.length} acknowledged writes`);
    const lost: string[] = [];
    for (const ack of acks) {
      ctx.alive();
      const read = await verifier.readDefinitely(ack.apiId, 15_000);
      if (read.status !== 200) lost.push(`${ack.name} (${ack.apiId}) → ${read.status || 'no answer'}`);
    }
    const workerPoints = load.points.filter((p) => p.method === 'GET invoke');
    Object.assign(ctx.figures, {
      writes,
      writesFailed: load.points.filter((p) => p.method === 'POST create' && !p.ok).length,
      acknowledgedWrites: acks.length,
      lostAcknowledgedWrites: lost.length,
      writesBackMs: writesBack === null ? null : round(writesBack),
      workerRequests: workerPoints.length,
      workerFailures: workerPoints.filter((p) => !p.ok).length,
      ...(lost.length ? { lost: lost.slice(0, 10) } : {}),
    });
  },
  problems(f, bounds) {
    const bound = bounds.rtoBoundMs;
    const problems: string[] = [];
    if (f.lostAcknowledgedWrites)
      problems.push(
        `${f.lostAcknowledgedWrites} writes acknowledged around the restart are gone: ${(f.lost ?? []).slice(0, 3).join(', ')}`,
      );
    if (f.writesBackMs === null)
      problems.push(`no write was acknowledged within ${bound + WRITES_BACK_GRACE_MS} ms of the database restart`);
    else if (f.writesBackMs > bound)
      problems.push(`writes came back ${f.writesBackMs} ms after the database, above the bound of ${bound} ms`);
    if (f.workerFailures) problems.push(`workers failed ${f.workerFailures} API requests while the database restarted`);
    return problems;
  },
  suspects: (_f, lab) => ['db', managers(lab)[0].name],
};
