import axios, { AxiosInstance, AxiosRequestConfig } from 'axios';
import { Agent } from 'https';

/** One request and what came back: the evidence a failed check reports. */
export interface Exchange {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  /** Node that served it, from the balancer's X-Carbon-Labs-Upstream header. */
  readonly upstream?: string;
  readonly ms: number;
  readonly body: unknown;
  readonly error?: string;
  readonly headers: Record<string, string>;
}

/**
 * An HTTP client that never throws on a status code (checks assert on them). TLS verification is
 * off only because every target is the lab's own self-signed listener on 127.0.0.1.
 */
export class HttpClient {
  private readonly axios: AxiosInstance;

  constructor(
    readonly baseUrl: string,
    timeoutMs: number,
  ) {
    const host = new URL(baseUrl).hostname;
    if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`test traffic goes to 127.0.0.1 only, not ${host}`);
    this.axios = axios.create({
      baseURL: baseUrl,
      timeout: timeoutMs,
      validateStatus: () => true,
      httpsAgent: new Agent({ rejectUnauthorized: false, keepAlive: false }),
      maxRedirects: 0,
      transitional: { clarifyTimeoutError: true },
    });
  }

  async request(method: string, path: string, config: AxiosRequestConfig = {}): Promise<Exchange> {
    const started = performance.now();
    try {
      const res = await this.axios.request({ method, url: path, ...config });
      const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return {
        method,
        url: `${this.baseUrl}${path}`,
        status: res.status,
        upstream: headers['x-carbon-labs-upstream'],
        ms: performance.now() - started,
        body: res.data,
        headers,
      };
    } catch (err) {
      // No HTTP answer at all (refused, reset, timed out): status 0, with the reason.
      return {
        method,
        url: `${this.baseUrl}${path}`,
        status: 0,
        ms: performance.now() - started,
        body: undefined,
        error: (err as Error).message,
        headers: {},
      };
    }
  }
}

export const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
export const bearer = (token: string) => `Bearer ${token}`;

/**
 * The product's error code in an answer's body: JSON's `code` (4.x) or `fault.code` (the classic
 * gateway for `Accept: application/json`), or a classic gateway's XML fault (`<ams:code>`).
 */
export function errorCodeOf(body: unknown): string | undefined {
  if (typeof body === 'string') return (/<(?:\w+:)?code>([^<]+)</.exec(body) ?? /"code"\s*:\s*"?(\w+)/.exec(body))?.[1];
  const o = body as { code?: unknown; fault?: { code?: unknown } } | null | undefined;
  const code = o?.code ?? o?.fault?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
}

/** An answer as a figure: its status and the product's error code, or why there was none. */
export function answerOf(e: Exchange): string {
  if (e.status === 0) return `no answer (${e.error ?? 'unknown'})`;
  const code = errorCodeOf(e.body);
  return code ? `${e.status} ${code}` : String(e.status);
}

export function describeExchange(e: Exchange): string {
  const body = e.error ?? (typeof e.body === 'string' ? e.body : JSON.stringify(e.body));
  return `${e.method} ${e.url} → ${e.status}${e.upstream ? ` (served by ${e.upstream})` : ''} in ${e.ms.toFixed(0)} ms: ${String(body).slice(0, 300)}`;
}
