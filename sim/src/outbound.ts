import { request as httpRequest } from 'http';
import type { IncomingHttpHeaders } from 'http';
import { request as httpsRequest } from 'https';
import type { Res } from './http';
import { json } from './http';
import { lookup } from './resolve';
import type { TrustStore } from './trust';

/** The gateway's error body for a request it could not serve (Synapse's fault sequences). */
export const RUNTIME_ERROR = (status: number, code: string, message: string, description: string): Res =>
  json(status, { code, type: 'Status report', message, description });

/** Headers of one hop only (and those a `Connection` header names): never passed on. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection'];

/**
 * The headers a gateway passes on, from its client to the backend or back: all but the hop-by-hop
 * ones and `dropped`.
 */
export function passedOn(headers: IncomingHttpHeaders, dropped: readonly string[]): Record<string, string> {
  const skip = new Set([
    ...HOP_BY_HOP,
    ...dropped,
    ...String(headers.connection ?? '')
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
  ]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !skip.has(name)) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

/** The answer's length and type: the stand-in sets both when it answers. */
const ANSWER_SET_BY_STAND_IN = ['content-length', 'content-type'];

/**
 * One outbound HTTP(S) call of a node: a gateway's pulls from the control plane, its JWKS fetches
 * and its proxying to backends, a control plane's OIDC discovery. HTTPS is verified against the
 * node's client-truststore.jks, as the product's clients do; `failure` says why a call got no
 * answer (a PKIX error names the URL and the truststore), and the answer is then the gateway's 502.
 */
export function send(
  url: string,
  req: { method: string; headers: Record<string, string>; rawBody: string },
  timeoutMs: number,
  trust: TrustStore,
): Promise<Res & { failure?: string }> {
  const u = new URL(url);
  const https = u.protocol === 'https:';
  const request = https ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const out = request(
      u,
      { method: req.method, headers: req.headers, timeout: timeoutMs, lookup, ...(https ? { agent: trust.agent } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 502,
            contentType: res.headers['content-type'] ?? 'application/json',
            body: Buffer.concat(chunks).toString('utf8'),
            headers: passedOn(res.headers, ANSWER_SET_BY_STAND_IN),
          }),
        );
      },
    );
    out.on('timeout', () => out.destroy(new Error('timed out')));
    out.on('error', (err: NodeJS.ErrnoException) => {
      const failure = https ? trust.explain(url, err) : `${err.message} calling ${url}`;
      resolve({ ...RUNTIME_ERROR(502, '101503', 'Runtime Error', `Error connecting to ${u.host}: ${failure}`), failure });
    });
    out.end(req.rawBody || undefined);
  });
}
