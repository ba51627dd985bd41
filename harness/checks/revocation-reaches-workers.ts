import { clusterDomainOf } from '../../generator/model/lab';
import { isClassic } from '../../generator/products/product';
import { retryUntil } from '../../generator/runtime/retry';
import { invoke } from '../apim-client';
import type { Check, CheckContext } from '../check';
import { CheckFailure, planOf, round } from '../check';
import { ClassicRestClient } from '../classic-client';
import { basic, describeExchange } from '../http';

/**
 * How long a worker of the key manager's clustering domain may serve a token after its revocation:
 * the revocation clears the gateway manager's key cache, whose removal is a cluster message to
 * every member (ClusterCacheInvalidationRequest), delivered in well under a second; 5 s leaves room
 * for a busy machine. A worker that misses it would serve the token until its cache expires (900 s).
 */
export const REVOCATION_BOUND_MS = 5_000;
/** The gateway token cache's expiry when `TokenCacheExpiry` is not set (carbon-apimgt 6.4.50). */
export const TOKEN_CACHE_EXPIRY_S = 900;

export type RevocationFigures = {
  boundMs: number;
  /** The key manager's clustering domain, and each worker's. */
  domains: Record<string, string>;
  /** Revoked through a manager's own gateway (the store's path) → the first 401 900901, ms, per worker that refused within the bound. */
  refusedMs: Record<string, number>;
  /** Workers that still served that token when the bound was over: pattern 2's, in a separate cluster. */
  stillServedAfterMs: Record<string, number>;
  /** A client's token revoked through the worker balancer's `/revoke` → the first 401 900901, ms, per worker. */
  clientRefusedMs: Record<string, number>;
};

/** How a token was revoked: through which gateway, and which workers share its clustering domain (and so must refuse it at once). */
export interface RevocationPath {
  readonly via: string;
  readonly sameDomain: readonly string[];
}

/** What the workers did with a token revoked through `path`, as the check judges it. */
export function revocationProblems(path: RevocationPath, refused: Readonly<Record<string, number>>, bound: number): string[] {
  return path.sameDomain.filter((w) => refused[w] === undefined)
    .map((w) => `${w} still served the token revoked through ${path.via} ${bound} ms after its revocation, though it is in that gateway's clustering domain (the cache invalidation never reached it)`);
}

/**
 * The classic product's token revocation. A gateway's `/revoke` API sends it to the key manager
 * and, on the way back, takes the token out of its own token cache (APIManagerCacheExtensionHandler),
 * a removal that is a cluster message to the members of its clustering domain; the key manager
 * itself tells no gateway. Two paths: the store's (api-manager.xml `RevokeAPIURL`,
 * `https://localhost:8243/revoke`, the manager's own gateway), after which workers in the managers'
 * domain (patterns 1 and 3) must refuse the token at once, while workers in a separate cluster
 * (pattern 2) keep it until their cache expires, as the product does (measured and reported, not
 * failed); and a client's, through the worker balancer's `/token` and `/revoke`, after which every
 * worker must refuse it at once (the workers share a domain in every pattern).
 */
export const revocationReachesWorkers: Check<RevocationFigures> = {
  id: 'revocation-reaches-workers',
  title: `A token revoked through a gateway's /revoke is refused (401 900901) within ${REVOCATION_BOUND_MS} ms by every worker of that gateway's clustering domain: through a manager's (the store's path), the workers of the managers' domain, while workers in a separate cluster keep it until their token cache expires (${TOKEN_CACHE_EXPIRY_S} s), as the product does; through the worker balancer (a client's), every worker`,
  classic: true,
  skipReason: (lab) => (isClassic(lab.product) ? undefined : 'the 4.x products revoke through the event hub: policies-propagate judges it'),
  headline: (f) => [
    ...Object.entries(f.refusedMs ?? {}).map(([w, ms]) => `${w} refused after ${ms} ms`),
    ...Object.entries(f.stillServedAfterMs ?? {}).map(([w, ms]) => `${w} (separate cluster) still served after ${ms} ms`),
    ...(f.clientRefusedMs ? [`through the worker balancer: ${Object.entries(f.clientRefusedMs).map(([w, ms]) => `${w} ${ms} ms`).join(', ') || 'none refused'}`] : []),
  ].join(', ') || 'no figures',
  plan(lab) {
    const { timing } = lab.product;
    // The API reaches the workers (sync and tick, half the bound on average), then two revocations, each watched up to the bound.
    return planOf({ floorMs: timing.propagationBoundMs / 2 + 2 * REVOCATION_BOUND_MS, workMs: 12 * timing.requestTimeoutMs / 10, requestTimeoutMs: timing.requestTimeoutMs,
      why: `an API published and served by every worker (bound ${timing.propagationBoundMs} ms), then two revocations, each watched up to ${REVOCATION_BOUND_MS} ms`,
      worstMs: 3 * timing.propagationBoundMs + 2 * REVOCATION_BOUND_MS + 14 * timing.requestTimeoutMs });
  },
  async run(ctx: CheckContext<RevocationFigures>) {
    const { lab } = ctx;
    const spec = lab.lab;
    const workerNames = lab.workers.map((w) => w.name);
    const domainOf = (node: string) => clusterDomainOf(spec, node).domain;
    const keyManagerDomain = domainOf(lab.managers[0].name);
    ctx.figures.boundMs = REVOCATION_BOUND_MS;
    ctx.figures.domains = Object.fromEntries([['key manager', keyManagerDomain], ...workerNames.map((w) => [w, domainOf(w)])]);

    ctx.step('publishing an API and subscribing an application through the manager balancer (REST v0.14)');
    const client = new ClassicRestClient(lab.http(lab.adminUrl()));
    await retryUntil(async (observe) => client.login().then(() => true, (err) => { observe(err); return undefined; }), {
      timeoutMs: lab.product.timing.requestTimeoutMs * 3, intervalMs: 500, what: 'a token from the manager balancer', signal: ctx.signal,
    });
    const tag = ctx.unique('rev');
    const api = { name: `Revoke${tag}`, context: `/revoke-${tag}`, version: '1.0.0', backendUrl: lab.backendUrl };
    const { apiId, steps } = await client.createAndDeploy(api);
    steps.forEach((s) => ctx.record(s));
    const keys = await client.subscribe(`revoke-${tag}`, [apiId]);
    keys.steps.forEach((s) => ctx.record(s));
    const fixture = (token: string) => ({ context: api.context, version: api.version, token });

    ctx.step(`waiting for every worker to serve it with the application's token (sync and deployment tick, bound ${lab.product.timing.propagationBoundMs} ms)`);
    for (const w of workerNames) await ctx.untilServed(lab.workerApiUrl(w), fixture(keys.token), 2 * lab.product.timing.propagationBoundMs);

    /** Each worker called until it refuses the token, up to the bound: who refused (ms after `since`), who still served. */
    const watch = async (token: string, since: number) => {
      const refused: Record<string, number> = {};
      const served: Record<string, number> = {};
      await Promise.all(workerNames.map(async (w) => {
        const http = lab.http(lab.workerApiUrl(w));
        try {
          await retryUntil(async (observe) => {
            const e = await invoke(http, api.context, api.version, token);
            observe(describeExchange(e));
            return e.status === 401 && /<(?:\w+:)?code>900901</.test(String(e.body)) ? true : undefined;
          }, { timeoutMs: REVOCATION_BOUND_MS, intervalMs: 50, what: `${w} to refuse the revoked token`, signal: ctx.signal });
          refused[w] = round(performance.now() - since);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          const last = ctx.record(await invoke(http, api.context, api.version, token));
          if (last.status === 200) served[w] = round(performance.now() - since);
          else ctx.evidence.push(`${w}: ${(err as Error).message}`);
        }
      }));
      return { refused, served };
    };

    const manager = lab.managers[0].name;
    const storePath: RevocationPath = { via: `${manager}'s gateway (the store's RevokeAPIURL)`, sameDomain: workerNames.filter((w) => domainOf(w) === keyManagerDomain) };
    ctx.step(`revoking the token as the store does: ${manager}'s own gateway, https://localhost:8243/revoke`);
    const revoked = await lab.exec(manager, ['curl', '-sk', '-o', '/dev/null', '-w', '%{http_code}', '-u', `${keys.consumerKey}:${keys.consumerSecret}`,
      '-d', `token=${keys.token}&token_type_hint=access_token`, 'https://localhost:8243/revoke']);
    ctx.evidence.push(`${manager}: POST https://localhost:8243/revoke → ${revoked.output.trim()}`);
    if (revoked.code !== 0 || revoked.output.trim() !== '200') throw new CheckFailure(`${manager}'s /revoke answered ${revoked.output.trim() || `nothing (curl exit ${revoked.code})`}`, [manager]);
    const store = await watch(keys.token, performance.now());
    ctx.figures.refusedMs = store.refused;
    ctx.figures.stillServedAfterMs = store.served;
    const other = workerNames.filter((w) => !storePath.sameDomain.includes(w));
    if (other.length) ctx.evidence.push(`${other.join(', ')}: in ${domainOf(other[0])}, not the managers' ${keyManagerDomain}: the managers' cache invalidation does not reach them, so a token revoked through a manager's gateway is served until their token cache expires (${TOKEN_CACHE_EXPIRY_S} s)`);
    const problems = revocationProblems(storePath, store.refused, REVOCATION_BOUND_MS);

    ctx.step('a client\'s token from the worker balancer\'s /token, served by every worker, then revoked through its /revoke');
    const gateway = lab.http(lab.apiUrl());
    const form = (fields: Record<string, string>) => ({ headers: { authorization: basic(keys.consumerKey, keys.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' }, data: new URLSearchParams(fields).toString() });
    const issued = ctx.record(await gateway.request('POST', '/token', form({ grant_type: 'client_credentials' })));
    if (issued.status !== 200) throw new CheckFailure(`the worker balancer's /token answered ${issued.status}`, [lab.workerBalancer, ...workerNames]);
    const clientToken = (issued.body as { access_token: string }).access_token;
    for (const w of workerNames) await ctx.untilServed(lab.workerApiUrl(w), fixture(clientToken), lab.product.timing.requestTimeoutMs);
    const clientRevoked = ctx.record(await gateway.request('POST', '/revoke', form({ token: clientToken, token_type_hint: 'access_token' })));
    if (clientRevoked.status !== 200) throw new CheckFailure(`the worker balancer's /revoke answered ${clientRevoked.status}`, [lab.workerBalancer, ...workerNames]);
    const clientWatch = await watch(clientToken, performance.now());
    ctx.figures.clientRefusedMs = clientWatch.refused;
    problems.push(...revocationProblems({ via: `the worker balancer (${lab.workerBalancer})`, sameDomain: workerNames }, clientWatch.refused, REVOCATION_BOUND_MS));
    if (problems.length) throw new CheckFailure(problems.join('; '), workerNames.filter((w) => problems.some((p) => p.startsWith(`${w} `))));
  },
};
