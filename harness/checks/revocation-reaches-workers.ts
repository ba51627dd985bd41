import { readFileSync } from 'fs';
import { join } from 'path';
import { isClassic } from '../../generator/products/product';
import { retryUntil } from '../../generator/runtime/retry';
import { invoke } from '../apim-client';
import type { Check, CheckContext } from '../check';
import { CheckFailure, planOf, round } from '../check';
import { ClassicRestClient } from '../classic-client';
import { basic, describeExchange, errorCodeOf } from '../http';

/**
 * How long a worker may serve a token after its revocation through a gateway: the revocation
 * clears that gateway's token cache, a removal that reaches every member of its clustering domain
 * in well under a second; 5 s leaves room for a busy machine. A worker that misses it serves the
 * token until its cache entry expires (900 s).
 */
export const REVOCATION_BOUND_MS = 5_000;

export type RevocationFigures = {
  boundMs: number;
  /** The manager whose api-manager.xml was read. */
  manager: string;
  /** The managers' `RevokeAPIURL` (api-manager.xml), where the store sends a revocation; null: none (the store cannot revoke). */
  revokeApiUrl: string | null;
  /** Revoked through `RevokeAPIURL` (the store's path) → the first 401 900901, ms, per worker. */
  refusedMs: Record<string, number>;
  /** A client's token revoked through the worker balancer's `/revoke` → the first 401 900901, ms, per worker. */
  clientRefusedMs: Record<string, number>;
  /** Workers that still served a revoked token when the bound was over, per path. */
  stillServed: Record<string, string[]>;
  /** What each worker did with each revoked token (the store's path, then the client's), by the path it was revoked through. */
  watched: { via: string; refused: Record<string, number>; served: string[]; otherwise: Record<string, string> }[];
  workers: string[];
};

/** What each worker did with a revoked token within the bound: refused it (ms), still served it, or neither (its last status). */
export interface Watched {
  readonly refused: Readonly<Record<string, number>>;
  readonly served: readonly string[];
  readonly otherwise: Readonly<Record<string, string>>;
}

/** Every worker must refuse a token revoked through `via` within the bound. */
export function revocationProblems(via: string, workers: readonly string[], seen: Watched, bound: number): string[] {
  return workers
    .filter((w) => seen.refused[w] === undefined)
    .map((w) =>
      seen.served.includes(w)
        ? `${w} still served the token revoked through ${via} ${bound} ms after its revocation (the revoking gateway's cache invalidation never reached it)`
        : `${w} neither refused nor served the token revoked through ${via} within ${bound} ms (last answer: ${seen.otherwise[w] ?? 'none'})`,
    );
}

/** The `RevokeAPIURL` of a manager's api-manager.xml, its `${https.nio.port}` filled (8243). */
export function revokeApiUrlOf(apiManagerXml: string): string | undefined {
  return /<RevokeAPIURL>([^<]+)<\/RevokeAPIURL>/
    .exec(apiManagerXml.replace(/<!--[\s\S]*?-->/g, ''))?.[1]
    .trim()
    .replace('${https.nio.port}', '8243');
}

/** A 401 900901 of the classic gateway, in XML (its default) or JSON (for `Accept: application/json`). */
const refusedAsRevoked = (status: number, body: unknown) => status === 401 && errorCodeOf(body) === '900901';

/**
 * The classic product's token revocation. A gateway's `/revoke` API sends it to the key manager
 * and, on the way back, takes the token out of its own token cache (APIManagerCacheExtensionHandler),
 * a removal that reaches the members of its clustering domain; the key manager itself tells no
 * gateway. Two paths, each of which every worker must follow within the bound: the store's, through
 * the managers' `RevokeAPIURL` (called from a manager, as the store calls it; the lab points it at
 * the worker balancer, as WSO2's distributed configurations do, so the invalidation starts in the
 * workers' domain: pattern 2's separate clusters included), and a client's, through the worker
 * balancer's `/token` and `/revoke`.
 */
export const revocationReachesWorkers: Check<RevocationFigures> = {
  id: 'revocation-reaches-workers',
  title: `A token revoked through the store's path (the managers' RevokeAPIURL) or a client's (the worker balancer's /revoke) is refused (401 900901) by every worker within ${REVOCATION_BOUND_MS} ms`,
  skipReason: (lab) => (isClassic(lab.product) ? undefined : 'the 4.x products revoke through the event hub: policies-propagate judges it'),
  headline: (f) =>
    [
      f.refusedMs
        ? `store's path: ${
            Object.entries(f.refusedMs)
              .map(([w, ms]) => `${w} ${ms} ms`)
              .join(', ') || 'none refused'
          }`
        : undefined,
      f.clientRefusedMs
        ? `client's path: ${
            Object.entries(f.clientRefusedMs)
              .map(([w, ms]) => `${w} ${ms} ms`)
              .join(', ') || 'none refused'
          }`
        : undefined,
      ...Object.entries(f.stillServed ?? {})
        .filter(([, ws]) => ws.length)
        .map(([path, ws]) => `still served after ${REVOCATION_BOUND_MS} ms (${path}): ${ws.join(', ')}`),
    ]
      .filter(Boolean)
      .join('; ') || 'no figures',
  plan(lab) {
    const { timing } = lab.product;
    // The API reaches the workers (sync and tick, half the bound on average), then two revocations, each watched up to the bound.
    return planOf({
      floorMs: timing.propagationBoundMs / 2,
      workMs: (12 * timing.requestTimeoutMs) / 10,
      requestTimeoutMs: timing.requestTimeoutMs,
      why: `an API published and served by every worker (bound ${timing.propagationBoundMs} ms), then two revocations, each watched up to ${REVOCATION_BOUND_MS} ms`,
      worstMs: 2 * timing.propagationBoundMs + 2 * REVOCATION_BOUND_MS + 14 * timing.requestTimeoutMs,
    });
  },
  async run(ctx: CheckContext<RevocationFigures>) {
    const { lab } = ctx;
    const workerNames = lab.workers.map((w) => w.name);
    const manager = lab.managers[0].name;
    const revokeApiUrl = revokeApiUrlOf(readFileSync(join(lab.dir, 'nodes', manager, 'repository', 'conf', 'api-manager.xml'), 'utf8'));
    ctx.figures.boundMs = REVOCATION_BOUND_MS;
    ctx.figures.manager = manager;
    ctx.figures.revokeApiUrl = revokeApiUrl ?? null;
    ctx.figures.stillServed = {};
    ctx.figures.workers = workerNames;
    ctx.figures.watched = [];
    // Nothing for the store to revoke through: that is the verdict (problems), nothing is watched.
    if (!revokeApiUrl) return;

    ctx.step('publishing an API and subscribing an application through the manager balancer (REST v0.14)');
    const client = new ClassicRestClient(lab.http(lab.adminUrl()));
    await retryUntil(
      async (observe) =>
        client.login().then(
          () => true,
          (err) => {
            observe(err);
            return undefined;
          },
        ),
      {
        timeoutMs: lab.product.timing.requestTimeoutMs * 3,
        intervalMs: 500,
        what: 'a token from the manager balancer',
        signal: ctx.signal,
      },
    );
    const tag = ctx.unique('rev');
    const api = { name: `Revoke${tag}`, context: `/revoke-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl };
    const { apiId, steps } = await client.createAndDeploy(api);
    steps.forEach((s) => ctx.record(s));
    const keys = await client.subscribe(`revoke-${tag}`, [apiId]);
    keys.steps.forEach((s) => ctx.record(s));
    const fixture = (token: string) => ({ context: api.context, version: api.version, token });
    /** Every worker serving the token (its validation cached there). */
    const servedEverywhere = (token: string, timeoutMs: number) =>
      Promise.all(workerNames.map((w) => ctx.untilServed(lab.workerApiUrl(w), fixture(token), timeoutMs)));

    ctx.step(
      `waiting for every worker to serve it with the application's token (sync and deployment tick, bound ${lab.product.timing.propagationBoundMs} ms)`,
    );
    await servedEverywhere(keys.token, 2 * lab.product.timing.propagationBoundMs);

    /** Each worker called until it refuses the token, up to the bound. */
    const watch = async (token: string, since: number): Promise<Watched> => {
      const refused: Record<string, number> = {};
      const served: string[] = [];
      const otherwise: Record<string, string> = {};
      await Promise.all(
        workerNames.map(async (w) => {
          const http = lab.http(lab.workerApiUrl(w));
          try {
            await retryUntil(
              async (observe) => {
                const e = await invoke(http, api.context, api.version, token);
                observe(describeExchange(e));
                return refusedAsRevoked(e.status, e.body) ? true : undefined;
              },
              { timeoutMs: REVOCATION_BOUND_MS, intervalMs: 50, what: `${w} to refuse the revoked token`, signal: ctx.signal },
            );
            refused[w] = round(performance.now() - since);
          } catch (err) {
            if (ctx.signal.aborted) throw err;
            const last = ctx.record(await invoke(http, api.context, api.version, token));
            if (last.status === 200) served.push(w);
            else otherwise[w] = describeExchange(last);
          }
        }),
      );
      return { refused, served, otherwise };
    };

    const storeVia = `the store's RevokeAPIURL (${revokeApiUrl})`;
    ctx.step(`revoking the token as the store does, from ${manager}: POST ${revokeApiUrl}`);
    const revoked = await lab.exec(manager, [
      'curl',
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-u',
      `${keys.consumerKey}:${keys.consumerSecret}`,
      '-d',
      `token=${keys.token}&token_type_hint=access_token`,
      revokeApiUrl,
    ]);
    ctx.evidence.push(`${manager}: POST ${revokeApiUrl} → ${revoked.output.trim()}`);
    if (revoked.code !== 0 || revoked.output.trim() !== '200')
      throw new CheckFailure(`${storeVia} answered ${revoked.output.trim() || `nothing (curl exit ${revoked.code})`} from ${manager}`, [
        manager,
      ]);
    const store = await watch(keys.token, performance.now());
    ctx.figures.refusedMs = store.refused;
    ctx.figures.stillServed[`store's path`] = [...store.served];
    ctx.figures.watched.push({ via: storeVia, ...store, served: [...store.served] });

    ctx.step("a client's token from the worker balancer's /token, served by every worker, then revoked through its /revoke");
    const gateway = lab.http(lab.apiUrl());
    const form = (fields: Record<string, string>) => ({
      headers: { authorization: basic(keys.consumerKey, keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams(fields).toString(),
    });
    const issued = ctx.record(await gateway.request('POST', '/token', form({ grant_type: 'client_credentials' })));
    if (issued.status !== 200)
      throw new CheckFailure(`the worker balancer's /token answered ${issued.status}`, [lab.workerBalancer, ...workerNames]);
    const clientToken = (issued.body as { access_token: string }).access_token;
    await servedEverywhere(clientToken, lab.product.timing.requestTimeoutMs);
    const clientRevoked = ctx.record(
      await gateway.request('POST', '/revoke', form({ token: clientToken, token_type_hint: 'access_token' })),
    );
    if (clientRevoked.status !== 200)
      throw new CheckFailure(`the worker balancer's /revoke answered ${clientRevoked.status}`, [lab.workerBalancer, ...workerNames]);
    const clientWatch = await watch(clientToken, performance.now());
    ctx.figures.clientRefusedMs = clientWatch.refused;
    ctx.figures.stillServed[`client's path`] = [...clientWatch.served];
    ctx.figures.watched.push({
      via: `the worker balancer's /revoke (${lab.workerBalancer})`,
      ...clientWatch,
      served: [...clientWatch.served],
    });
  },
  problems: (f) =>
    f.revokeApiUrl === null
      ? [`${f.manager}'s api-manager.xml has no <RevokeAPIURL>: the store cannot revoke tokens`]
      : f.watched.flatMap((w) => revocationProblems(w.via, f.workers, w, REVOCATION_BOUND_MS)),
  suspects: (f) => (f.revokeApiUrl === null ? [f.manager] : f.workers.filter((w) => f.watched.some((p) => p.refused[w] === undefined))),
};
