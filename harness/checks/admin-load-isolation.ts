import { connect, Socket } from 'net';
import { invoke, PUBLISHER } from '../apim-client';
import { Check, CheckContext, CheckFailure, DeployedApi, percentile, round } from '../check';
import { HttpClient } from '../http';

const SAMPLES = 120;
const REST_CONCURRENCY = 8;
/** More than a balancer's worker_connections (512, see nginx/balancer.conf.ejs). */
const HELD_CONNECTIONS = 600;

/**
 * Bound on worker-listener p99 while admin clients hold connections on the manager listener,
 * enforced for pattern 3: 3 × the no-load p99 + 25 ms, and no failed request. A separate worker
 * balancer is untouched by them; a shared one runs out of connections (README, admin-load-isolation).
 */
export const isolationBoundMs = (baselineP99: number) => 3 * baselineP99 + 25;

interface Sample { readonly p50: number; readonly p99: number; readonly failures: number }

/** Sequential invocations; stops early after 10 failures so a starved listener costs seconds, not minutes. */
async function sample(http: HttpClient, api: DeployedApi): Promise<Sample> {
  const latencies: number[] = [];
  let failures = 0;
  for (let i = 0; i < SAMPLES && failures < 10; i++) {
    const e = await invoke(http, api.context, api.version, api.token);
    if (e.status === 200) latencies.push(e.ms); else failures++;
  }
  return { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), failures };
}

/** Opens `count` TCP connections to 127.0.0.1:port and holds them, like slow admin clients. */
async function holdConnections(port: number, count: number): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    s.once('connect', () => resolve(s));
    setTimeout(() => resolve(s), 3000);
  })));
  await new Promise((r) => setTimeout(r, 500));
  return sockets;
}

/** Pattern 3's reason to exist: admin load on the manager listener does not hurt API traffic. */
export const adminLoadIsolation: Check = {
  id: 'admin-load-isolation',
  title: 'Admin load on the manager listener does not hurt the worker listener (enforced for pattern 3, recorded for 1 and 2)',
  async run(ctx: CheckContext) {
    const { lab } = ctx;
    const api = await ctx.deployedApi();
    const client = await ctx.managerClient();
    const worker = lab.http(lab.apiUrl());
    await sample(worker, api); // warm-up
    const baseline = await sample(worker, api);

    // REST admin load: recorded only, since on one host every container shares the same CPUs.
    let loading = true;
    let adminRequests = 0;
    const loops = Array.from({ length: REST_CONCURRENCY }, async () => {
      while (loading) { await client.call('GET', `${PUBLISHER}/apis?limit=1000`); adminRequests++; }
    });
    const underRest = await sample(worker, api);
    loading = false;
    await Promise.all(loops);

    // Connection load: admin clients holding connections on the manager listener.
    const sockets = await holdConnections(Number(lab.env.ADMIN_HTTPS_PORT), HELD_CONNECTIONS);
    const held = sockets.filter((s) => !s.destroyed && s.remoteAddress).length;
    let underConnections: Sample;
    try {
      underConnections = await sample(new HttpClient(lab.apiUrl(), 2000), api);
    } finally {
      for (const s of sockets) s.destroy();
    }
    const bound = isolationBoundMs(baseline.p99);
    const enforced = lab.lab.pattern === 3;
    Object.assign(ctx.figures, {
      samples: SAMPLES, enforced, boundMs: round(bound),
      baselineP50Ms: baseline.p50, baselineP99Ms: baseline.p99,
      restAdminConcurrency: REST_CONCURRENCY, restAdminRequests: adminRequests,
      underRestLoadP50Ms: underRest.p50, underRestLoadP99Ms: underRest.p99, underRestLoadFailures: underRest.failures,
      heldAdminConnections: held,
      underConnectionLoadP50Ms: underConnections.p50, underConnectionLoadP99Ms: underConnections.p99, underConnectionLoadFailures: underConnections.failures,
    });
    if (baseline.failures) throw new CheckFailure(`${baseline.failures} worker requests failed with no admin load`, [lab.workerBalancer]);
    if (!enforced) return;
    const problems: string[] = [];
    if (underConnections.failures) problems.push(`${underConnections.failures} of ${SAMPLES} worker requests failed while ${held} admin connections were held`);
    if (!(underConnections.p99 <= bound)) problems.push(`worker-listener p99 ${underConnections.p99} ms with admin connections held, above the bound of ${round(bound)} ms (baseline ${baseline.p99} ms)`);
    if (problems.length) throw new CheckFailure(problems.join('; '), [lab.workerBalancer, lab.managerBalancer]);
  },
};
