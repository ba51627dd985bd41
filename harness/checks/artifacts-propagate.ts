import { workers } from '../../generator/model/lab';
import { Check, CheckContext, CheckFailure, paceOf, percentile, planOf, round, slowerThan } from '../check';
import { PUBLISHER } from '../apim-client';
import { isClassic } from '../../generator/products/product';
import { retryUntil } from '../../generator/runtime/retry';
import { deleteApi, pushApi } from '../classic-client';

const API_COUNT = 5;
/** The classic product's pushes each wait on its sync and tick: fewer of them. */
const CLASSIC_API_COUNT = 3;
/**
 * How long a worker is given to serve a deployed API before it counts as never: twice the bound
 * (at least 10 s). Past the bound it is slow (the verdict names its time); past twice the bound
 * every periodic step the bound allows for (the classic sync and deployment tick) has had a
 * second turn.
 */
const waitMs = (bound: number) => Math.max(bound * 2, 10_000);

export type PropagationFigures = {
  /** APIs deployed: all of them, or up to the first one a target never served (the verdict). */
  apis: number;
  boundMs: number;
  /** Deploy → first 200, ms, per worker and the worker balancer. */
  perTargetMs: Record<string, number[]>;
  /** An API undeployed, then another deleted, through the manager balancer → first 404, ms, per target. */
  removedMs: Record<string, number[]>;
  /** The deleted API's subscription removed (the devportal's 200, before the delete) → first 403 900908 for its application, ms, per target. */
  unsubscribedMs?: Record<string, number>;
  /** A new version (copy-api, revision, publish, deploy) → first 200 of the new version, ms, per target. */
  newVersionMs?: Record<string, number>;
  /**
   * The new version made the default (copy-api `defaultVersion=true`, its own backend) → the
   * context without a version answers from it, ms, per target (it answered from 1.0.0 before).
   */
  defaultMovedMs?: Record<string, number>;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** APIs the run meant to deploy ({@link apis} fewer when one was never served). */
  apisPlanned: number;
  /** What a target never did within twice the bound: never served, still served, never moved (the verdict). */
  missing: string[];
};

/** Artifacts deployed on a manager reach every worker: per-worker deploy → first 200. */
export const artifactsPropagate: Check<PropagationFigures> = {
  id: 'artifacts-propagate',
  title: `APIs deployed, undeployed, deleted and versioned through the manager balancer reach every worker (${API_COUNT} APIs, full flow, deploy → first 200 per worker; an undeploy and a delete → first 404; an unsubscribe → first 403; a new default version → first 200 of it, with and without its version)`,
  headline: (f) => `p50 ${f.p50Ms ?? '?'} ms, p95 ${f.p95Ms ?? '?'} ms (bound ${f.boundMs ?? '?'} ms)`,
  plan(lab) {
    const { call, propagation, timing } = paceOf(lab);
    if (isClassic(lab.product)) {
      // The pushes, then the delete, each wait on the product's own loops (sync interval, deployment
      // tick) once: half the bound on average.
      const waits = 2;
      return planOf({
        floorMs: (waits * timing.propagationBoundMs) / 2,
        workMs: waits * 2 * call,
        requestTimeoutMs: timing.requestTimeoutMs,
        why: `${CLASSIC_API_COUNT} APIs pushed at once, then one deleted, each time waiting on the sync and the deployment tick (bound ${timing.propagationBoundMs} ms)`,
        worstMs: waits * (CLASSIC_API_COUNT * 2 * call + waitMs(timing.propagationBoundMs)),
      });
    }
    const bound = timing.propagationBoundMs;
    // Each API: create, revision, publish, deploy; then served everywhere, typically well inside the bound.
    // Then an undeploy, an unsubscribe (list, delete), a delete and a new version (copy, revision, publish, subscribe, deploy).
    // The default version: served without a version before, then moved to the new version (its own backend, a PUT).
    return planOf({
      floorMs: 0,
      workMs: API_COUNT * (4 * call + propagation) + 8 * call + 6 * propagation + 16 * call,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `${API_COUNT} APIs of 4 calls each, an undeploy, an unsubscribe, a delete and a new default version, propagation bound ${bound} ms`,
      worstMs: (API_COUNT + 6) * (4 * call + waitMs(bound)) + 10 * call,
    });
  },
  async run(ctx: CheckContext<PropagationFigures>) {
    const { lab } = ctx;
    if (isClassic(lab.product)) return classicRun(ctx);
    const bound = lab.product.timing.propagationBoundMs;
    const client = await ctx.managerClient();
    const targets: [string, string][] = [
      ...lab.workers.map((w) => [w.name, lab.workerApiUrl(w.name)] as [string, string]),
      [lab.workerBalancer, lab.apiUrl()],
    ];
    const latencies: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    const missing: string[] = [];
    const tag = ctx.unique('prop');
    // The application and its subscriptions come first, so the clock measures deployment alone.
    const apis: { name: string; context: string; version: string; backendUrl: string; apiId: string; revisionId?: string }[] = [];
    ctx.step(`creating ${API_COUNT} APIs`);
    for (let i = 0; i < API_COUNT; i++) {
      // The third is the default version of its name (it gets a new default version below).
      const api = {
        name: `Prop${tag}n${i}`,
        context: `/prop-${tag}-${i}`,
        version: '1.0.0',
        backendUrl: lab.backendUrl,
        isDefaultVersion: i === 2,
      };
      const created = await client.tryCreateApi(api);
      if (created.status !== 201) throw new CheckFailure(`creating ${api.name} through the manager balancer answered ${created.status}`);
      apis.push({ ...api, apiId: (created.body as { id: string }).id });
    }
    for (const api of apis) {
      const rev = await client.call('POST', `/api/am/publisher/v4/apis/${api.apiId}/revisions`, { description: 'propagation' });
      await client.call('POST', `/api/am/publisher/v4/apis/change-lifecycle?apiId=${api.apiId}&action=Publish`);
      (api as { revisionId?: string }).revisionId = (rev.body as { id: string }).id;
    }
    const { token } = await client.subscribe(
      `prop-${tag}`,
      apis.map((a) => a.apiId),
    );
    let deployed = 0;
    for (const api of apis) {
      // An API a target never served is the verdict: the others would wait out the same timeout.
      if (missing.length) break;
      deployed++;
      ctx.step(`deploying ${api.name} and waiting for every worker to serve it`);
      const deploy = ctx.record(
        await client.call(
          'POST',
          `/api/am/publisher/v4/apis/${api.apiId}/deploy-revision?revisionId=${(api as { revisionId?: string }).revisionId}`,
          [{ name: 'Default', vhost: lab.vhost, displayOnDevportal: true }],
        ),
      );
      if (deploy.status !== 201 && deploy.status !== 200) throw new CheckFailure(`deploying ${api.name} answered ${deploy.status}`);
      const never = await Promise.all(
        targets.map(async ([name, url]) => {
          try {
            latencies[name].push(await ctx.untilServed(url, { ...api, token }, waitMs(bound)));
            return undefined;
          } catch (err) {
            return `${api.context} never served by ${name}: ${(err as Error).message}`;
          }
        }),
      );
      // In the targets' order (workers, then the balancer), whichever gave up first.
      missing.push(...never.filter((m): m is string => m !== undefined));
    }
    // What else a manager changes: an API undeployed, another deleted (each gone from every
    // target), and a new version of a third (served by every target).
    const removed: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
    const newVersion: Record<string, number> = {};
    const unsubscribed: Record<string, number> = {};
    const defaultMoved: Record<string, number> = {};
    /** The backend path an answer came from (the lab's backend answers with the path it was asked). */
    const backendPath = (body: unknown) => String((body as { path?: string } | undefined)?.path ?? '');
    if (!missing.length) {
      /** Until every target answers a call of the API as wanted: ms per target (from the change's answer), and why the others never did. */
      const onEveryTarget = async (api: (typeof apis)[number], wanted: Parameters<typeof ctx.untilAnswers>[2], what: string) => {
        const ms: Record<string, number> = {};
        const never = (
          await Promise.all(
            targets.map(async ([name, url]) => {
              try {
                ms[name] = await ctx.untilAnswers(url, { ...api, token }, wanted, what, waitMs(bound));
                return undefined;
              } catch (err) {
                return `${name}: ${(err as Error).message}`;
              }
            }),
          )
        ).filter((m): m is string => !!m);
        return { ms, never };
      };
      const untilGone = async (api: (typeof apis)[number]) => {
        const { ms, never } = await onEveryTarget(api, (status) => status === 404, 'stop serving');
        for (const [name, took] of Object.entries(ms)) removed[name].push(took);
        return never;
      };
      const [undeployed, deleted, versioned] = apis;
      ctx.step(`undeploying ${undeployed.name} and waiting for every worker to stop serving it`);
      const undeploy = ctx.record(
        await client.call('POST', `${PUBLISHER}/apis/${undeployed.apiId}/undeploy-revision?revisionId=${undeployed.revisionId}`, [
          { name: 'Default', vhost: lab.vhost, displayOnDevportal: true },
        ]),
      );
      if (undeploy.status !== 201 && undeploy.status !== 200)
        throw new CheckFailure(`undeploying ${undeployed.name} answered ${undeploy.status}`);
      const stillServed = await untilGone(undeployed);
      if (stillServed.length)
        missing.push(`${undeployed.context} still served ${round(waitMs(bound) / 1000)} s after its undeploy (${stillServed.join('; ')})`);
      // The product refuses to delete an API while it has subscriptions (409): they go first, and
      // with them the application's access on every worker (SUBSCRIPTIONS_DELETE → 403 900908).
      ctx.step(`unsubscribing from ${deleted.name} and waiting for every worker to refuse the application's token`);
      for (const e of await client.unsubscribeAll(deleted.apiId)) ctx.record(e);
      const refused = await onEveryTarget(deleted, (status, code) => status === 403 && String(code) === '900908', 'refuse (403 900908)');
      Object.assign(unsubscribed, refused.ms);
      const stillSubscribed = refused.never;
      if (stillSubscribed.length)
        missing.push(
          `${deleted.context} still served to an application ${round(waitMs(bound) / 1000)} s after its subscription was removed (${stillSubscribed.join('; ')})`,
        );
      ctx.step(`deleting ${deleted.name} and waiting for every worker to stop serving it`);
      const del = ctx.record(await client.call('DELETE', `${PUBLISHER}/apis/${deleted.apiId}`));
      if (del.status !== 200) throw new CheckFailure(`deleting ${deleted.name} answered ${del.status}`);
      const stillDeleted = await untilGone(deleted);
      if (stillDeleted.length)
        missing.push(`${deleted.context} still served ${round(waitMs(bound) / 1000)} s after it was deleted (${stillDeleted.join('; ')})`);
      ctx.step(`${versioned.name} is the default version: waiting for every worker to serve it without its version`);
      const unversioned = await Promise.all(
        targets.map(async ([name, url]) => {
          try {
            await ctx.untilAnswers(
              url,
              { context: versioned.context, version: '', token },
              (status, _, body) => status === 200 && !backendPath(body).startsWith('/v2/'),
              'serve',
              waitMs(bound),
            );
            return undefined;
          } catch (err) {
            return `${versioned.context} (no version) never served by ${name} from 1.0.0, the default version: ${(err as Error).message}`;
          }
        }),
      );
      missing.push(...unversioned.filter((m): m is string => m !== undefined));
      ctx.step(
        `a new default version of ${versioned.name}: copy (defaultVersion=true), its own backend (PUT), revision, publish, subscribe, deploy; waiting for every worker to serve it, with and without its version`,
      );
      const copy = ctx.record(
        await client.call('POST', `${PUBLISHER}/apis/copy-api?apiId=${versioned.apiId}&newVersion=2.0.0&defaultVersion=true`),
      );
      if (copy.status !== 201) throw new CheckFailure(`a new version of ${versioned.name} answered ${copy.status}`);
      const v2 = { ...versioned, version: '2.0.0', apiId: (copy.body as { id: string }).id };
      const v2Backend = `${lab.backendUrl.replace(/\/$/, '')}/v2`;
      const put = ctx.record(
        await client.call('PUT', `${PUBLISHER}/apis/${v2.apiId}`, {
          ...(copy.body as object),
          endpointConfig: { endpoint_type: 'http', production_endpoints: { url: v2Backend }, sandbox_endpoints: { url: v2Backend } },
        }),
      );
      if (put.status !== 200) throw new CheckFailure(`giving version 2.0.0 of ${versioned.name} its own backend answered ${put.status}`);
      const rev = await client.call('POST', `${PUBLISHER}/apis/${v2.apiId}/revisions`, { description: 'new version' });
      await client.call('POST', `${PUBLISHER}/apis/change-lifecycle?apiId=${v2.apiId}&action=Publish`);
      const v2Token = (await client.subscribe(`prop-${tag}-v2`, [v2.apiId])).token;
      const deploy = ctx.record(
        await client.call('POST', `${PUBLISHER}/apis/${v2.apiId}/deploy-revision?revisionId=${(rev.body as { id: string }).id}`, [
          { name: 'Default', vhost: lab.vhost, displayOnDevportal: true },
        ]),
      );
      if (deploy.status !== 201 && deploy.status !== 200)
        throw new CheckFailure(`deploying version 2.0.0 of ${versioned.name} answered ${deploy.status}`);
      const deployedAt = performance.now();
      await Promise.all(
        targets.map(async ([name, url]) => {
          try {
            newVersion[name] = await ctx.untilServed(url, { ...v2, token: v2Token }, waitMs(bound));
          } catch (err) {
            missing.push(`${v2.context}/2.0.0 (a new version) never served by ${name}: ${(err as Error).message}`);
          }
        }),
      );
      // Measured from the same deploy: the context without a version answers from version 2.0.0's backend.
      await Promise.all(
        targets.map(async ([name, url]) => {
          try {
            await ctx.untilAnswers(
              url,
              { context: v2.context, version: '', token: v2Token },
              (status, _, body) => status === 200 && backendPath(body).startsWith('/v2/'),
              'serve version 2.0.0 on',
              waitMs(bound),
            );
            defaultMoved[name] = performance.now() - deployedAt;
          } catch (err) {
            missing.push(`${v2.context} (no version) never reached version 2.0.0, the new default, on ${name}: ${(err as Error).message}`);
          }
        }),
      );
    }
    ctx.figures.removedMs = Object.fromEntries(Object.entries(removed).map(([n, v]) => [n, v.map((x) => round(x))]));
    ctx.figures.newVersionMs = Object.fromEntries(Object.entries(newVersion).map(([n, v]) => [n, round(v)]));
    ctx.figures.unsubscribedMs = Object.fromEntries(Object.entries(unsubscribed).map(([n, v]) => [n, round(v)]));
    ctx.figures.defaultMovedMs = Object.fromEntries(Object.entries(defaultMoved).map(([n, v]) => [n, round(v)]));
    const all = [
      ...Object.values(latencies).flat(),
      ...Object.values(removed).flat(),
      ...Object.values(newVersion),
      ...Object.values(unsubscribed),
      ...Object.values(defaultMoved),
    ];
    ctx.figures.apis = deployed;
    ctx.figures.boundMs = bound;
    ctx.figures.perTargetMs = Object.fromEntries(Object.entries(latencies).map(([n, v]) => [n, v.map((x) => round(x))]));
    ctx.figures.p50Ms = round(percentile(all, 50));
    ctx.figures.p95Ms = round(percentile(all, 95));
    ctx.figures.maxMs = round(Math.max(...all, 0));
    Object.assign(ctx.figures, { apisPlanned: API_COUNT, missing });
  },
  problems(f, bounds) {
    const bound = bounds.propagationBoundMs;
    if (f.missing.length) {
      const rest = f.apisPlanned - f.apis;
      return [`${f.missing.join('; ')}${rest ? ` (the other ${rest} APIs were not deployed)` : ''}`];
    }
    const slow = slowerThan(
      [
        ['', f.perTargetMs],
        ['removal', f.removedMs],
        ['new version', f.newVersionMs],
        ['unsubscribed', f.unsubscribedMs],
        ['new default version', f.defaultMovedMs],
      ],
      bound,
    );
    return slow.length ? [`propagation slower than the bound of ${bound} ms: ${slow.join(', ')}`] : [];
  },
  suspects: (_f, lab) => workers(lab).map((w) => w.name),
};

/**
 * The classic product: an API's Synapse configuration pushed through the managers' `APIGatewayAdmin`
 * (as its publisher pushes it on publish) lands in the managers' synapse-configs; the lab's sync
 * copies it to each worker, which deploys it on its next tick. Push → first 200 per target, then a
 * delete → first 404 per target, both within the product's bound (sync interval + tick).
 */
async function classicRun(ctx: CheckContext<PropagationFigures>): Promise<void> {
  const { lab } = ctx;
  const bound = lab.product.timing.propagationBoundMs;
  const manager = lab.http(lab.adminUrl());
  const targets: [string, string][] = [
    ...lab.workers.map((w) => [w.name, lab.workerApiUrl(w.name)] as [string, string]),
    [lab.workerBalancer, lab.apiUrl()],
  ];
  const latencies: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
  const removed: Record<string, number[]> = Object.fromEntries(targets.map(([n]) => [n, []]));
  const missing: string[] = [];
  const tag = ctx.unique('prop');
  /** Polls a target until a GET of the API answers `wanted`; ms from `since`. */
  const until = async (name: string, url: string, path: string, wanted: number, since: number): Promise<number | string> => {
    const http = lab.http(url);
    try {
      await retryUntil(
        async (observe) => {
          const r = await http.request('GET', path);
          observe(`${r.status}`);
          return r.status === wanted ? true : undefined;
        },
        { timeoutMs: waitMs(bound), intervalMs: 200, what: `${name} to answer ${wanted} for ${path}`, signal: ctx.signal },
      );
      return Date.now() - since;
    } catch (err) {
      return `${name}: ${(err as Error).message}`;
    }
  };
  const apis = Array.from({ length: CLASSIC_API_COUNT }, (_, i) => ({
    name: `Prop${tag}n${i}`,
    context: `/prop-${tag}-${i}`,
    version: '1.0.0',
    backendUrl: lab.backendUrl,
  }));
  // Pushed one after another, then awaited together: each API's clock starts at its own push, and
  // the lab's sync and tick are waited on once, not once an API.
  ctx.step(`pushing ${apis.length} APIs to the managers (APIGatewayAdmin) and waiting for every worker to serve them`);
  const pushedAt: number[] = [];
  for (const api of apis) {
    const pushed = ctx.record(await pushApi(manager, api));
    if (pushed.status !== 200)
      throw new CheckFailure(
        `APIGatewayAdmin addApi of ${api.name} through the manager balancer answered ${pushed.status}`,
        lab.managers.map((m) => m.name),
      );
    pushedAt.push(Date.now());
  }
  const deployed = apis.length;
  const served = await Promise.all(
    apis.flatMap((api, i) =>
      targets.map(([n, url]) => until(n, url, `${api.context}/${api.version}/`, 200, pushedAt[i]).then((r) => [n, api, r] as const)),
    ),
  );
  for (const [n, api, r] of served) {
    if (typeof r === 'number') latencies[n].push(r);
    else missing.push(`${api.context} never served by ${r}`);
  }
  if (!missing.length) {
    const [gone] = apis;
    ctx.step(`deleting ${gone.name} on the managers and waiting for every worker to stop serving it`);
    const del = ctx.record(await deleteApi(manager, gone));
    if (del.status !== 200)
      throw new CheckFailure(
        `APIGatewayAdmin deleteApi of ${gone.name} answered ${del.status}`,
        lab.managers.map((m) => m.name),
      );
    const since = Date.now();
    const results = await Promise.all(targets.map(([n, url]) => until(n, url, `${gone.context}/${gone.version}/`, 404, since)));
    results.forEach((r, i) =>
      typeof r === 'number' ? removed[targets[i][0]].push(r) : missing.push(`${gone.context} still served after its delete: ${r}`),
    );
  }
  // The others go too (not waited for): the managers keep no probe of this check.
  for (const api of apis.slice(1, deployed)) ctx.record(await deleteApi(manager, api));
  const all = [...Object.values(latencies).flat(), ...Object.values(removed).flat()];
  ctx.figures.apis = deployed;
  ctx.figures.boundMs = bound;
  ctx.figures.perTargetMs = Object.fromEntries(Object.entries(latencies).map(([n, v]) => [n, v.map((x) => round(x))]));
  ctx.figures.removedMs = Object.fromEntries(Object.entries(removed).map(([n, v]) => [n, v.map((x) => round(x))]));
  ctx.figures.p50Ms = round(percentile(all, 50));
  ctx.figures.p95Ms = round(percentile(all, 95));
  ctx.figures.maxMs = round(Math.max(...all, 0));
  Object.assign(ctx.figures, { apisPlanned: apis.length, missing });
}
