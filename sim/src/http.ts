import { createServer as createHttp, IncomingMessage, Server, ServerResponse } from 'http';
import { createServer as createHttps } from 'https';

export interface Req {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
  readonly rawBody: string;
}

export interface Res {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Send `body` as text with this content type instead of JSON. */
  readonly contentType?: string;
}

export type Handler = (req: Req) => Promise<Res>;

export const json = (status: number, body?: unknown): Res => ({ status, body });

/** The product's REST error body (ErrorDTO of the publisher/devportal/admin specs). */
export const restError = (status: number, message: string, description = message, code = status): Res =>
  json(status, { code, message, description, moreInfo: '', error: [] });

/** What Tomcat answers for a webapp that is not deployed (quoted in product-apim#12126). */
export const NOT_DEPLOYED: Res = json(404, {
  code: '404',
  type: 'Status report',
  message: 'Not Found',
  description: 'The requested resource is not available.',
});

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, out: Res): void {
  const headers: Record<string, string> = { ...out.headers };
  let payload = '';
  if (out.body !== undefined) {
    if (out.contentType) {
      headers['content-type'] = out.contentType;
      payload = String(out.body);
    } else {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(out.body);
    }
  }
  res.writeHead(out.status, headers);
  res.end(payload);
}

/** A Node request listener for `handler`; every error becomes a 500 (nothing is left unhandled). */
export function handle(handler: Handler): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void serve(handler, req, res);
  };
}

async function serve(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rawBody = await readBody(req);
    send(res, await handler({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, rawBody }));
  } catch (err) {
    console.error(`ERROR {sim} ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
    send(res, restError(500, 'Internal server error', (err as Error).message));
  }
}

export function listen(handler: Handler, port: number, tls?: { key: string; cert: string }): Promise<Server> {
  const server = tls ? createHttps({ key: tls.key, cert: tls.cert }, handle(handler)) : createHttp(handle(handler));
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}

export function parseJson(req: Req): unknown {
  if (!req.rawBody) return undefined;
  try {
    return JSON.parse(req.rawBody);
  } catch {
    return Symbol.for('malformed');
  }
}

export function basicCredentials(req: Req): { user: string; secret: string } | undefined {
  const m = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i < 0 ? undefined : { user: text.slice(0, i), secret: text.slice(i + 1) };
}

export function bearerToken(req: Req): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function log(level: 'INFO' | 'WARN' | 'ERROR' | 'FATAL', component: string, message: string): void {
  const line = `[${new Date().toISOString()}] ${level.padEnd(5)} {${component}} - ${message}`;
  (level === 'INFO' ? console.log : console.error)(line);
}
