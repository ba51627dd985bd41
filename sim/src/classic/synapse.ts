import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { Req, Res } from '../http';
import { log } from '../http';

/**
 * Synapse REST APIs of a classic gateway (APIM 2.x), deployed from
 * `repository/deployment/server/synapse-configs/default/api/*.xml`, as Carbon's deployment
 * scheduler deploys what lands there: a file copied by the lab's sync is served only after the
 * node's next deployment tick (`DeploymentUpdateInterval`, 15 s), never at once.
 */

export interface SynapseApi {
  readonly name: string;
  readonly context: string;
  readonly methods: readonly string[];
  readonly endpoint: string;
  readonly handlers: readonly string[];
}

const AUTH_HANDLER = 'org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler';

const elements = (root: Element, name: string): Element[] => Array.from(root.getElementsByTagNameNS('*', name)) as Element[];

/** A Synapse `<api>` file as the gateway reads it; an error names what it lacks. */
export function parseSynapseApi(xml: string, file: string): SynapseApi {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, m) => { if (level !== 'warning') errors.push(m); } }).parseFromString(xml, 'text/xml');
  const api = doc.documentElement;
  if (errors.length || !api || api.localName !== 'api') throw new Error(`${file}: not a Synapse <api> (${errors.join('; ') || api?.localName})`);
  const name = api.getAttribute('name');
  const context = api.getAttribute('context');
  if (!name || !context) throw new Error(`${file}: <api> needs name and context`);
  const endpoint = elements(api, 'http')[0]?.getAttribute('uri-template') ?? elements(api, 'address')[0]?.getAttribute('uri');
  if (!endpoint) throw new Error(`${file}: API ${name} sends to no <http uri-template> or <address uri> endpoint`);
  return {
    name, context: context.replace(/\/$/, ''), endpoint: endpoint.replace(/\/$/, ''),
    methods: elements(api, 'resource').flatMap((r) => (r.getAttribute('methods') ?? 'GET POST PUT DELETE PATCH HEAD OPTIONS').split(/\s+/)),
    handlers: elements(api, 'handler').map((h) => h.getAttribute('class') ?? ''),
  };
}

/** APIGatewayAdmin's file name for an API: its `name`, `:` as `_` (`admin--Pizza:v1.0.0` → `admin--Pizza_v1.0.0.xml`). */
export const synapseFileName = (name: string) => `${name.replace(/:/g, '_')}.xml`;

const xmlFault = (status: number, ns: string, code: string, message: string, description: string): Res => ({
  status, contentType: 'application/xml',
  body: `<am:fault xmlns:am="${ns}"><am:code>${code}</am:code><am:message>${message}</am:message><am:description>${description}</am:description></am:fault>`,
});

export class SynapseApis {
  private readonly deployed = new Map<string, { api: SynapseApi; stamp: string }>();
  readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'repository', 'deployment', 'server', 'synapse-configs', 'default', 'api');
  }

  /** One deployment tick: what is new or changed is deployed, what is gone undeployed. */
  tick(): void {
    const files = existsSync(this.dir) ? readdirSync(this.dir).filter((f) => f.endsWith('.xml')) : [];
    for (const file of files) {
      const path = join(this.dir, file);
      const stat = statSync(path);
      const stamp = `${stat.mtimeMs}:${stat.size}`;
      if (this.deployed.get(file)?.stamp === stamp) continue;
      try {
        const api = parseSynapseApi(readFileSync(path, 'utf8'), path);
        this.deployed.set(file, { api, stamp });
        log('INFO', 'API', `API named '${api.name}' has been deployed from file : ${path}`);
      } catch (err) {
        log('ERROR', 'APIDeployer', `API deployment from the file : ${path} : Failed. ${(err as Error).message}`);
      }
    }
    for (const [file, { api }] of this.deployed) {
      if (files.includes(file)) continue;
      this.deployed.delete(file);
      log('INFO', 'API', `API named '${api.name}' has been undeployed`);
    }
  }

  /** APIGatewayAdmin on a gateway manager: the API is persisted to its file and live at once. */
  write(xml: string): SynapseApi {
    const api = parseSynapseApi(xml, 'apiConfig');
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, synapseFileName(api.name)), xml);
    this.tick();
    return api;
  }

  remove(name: string): boolean {
    const path = join(this.dir, synapseFileName(name));
    if (!existsSync(path)) return false;
    unlinkSync(path);
    this.tick();
    return true;
  }

  /** The passthrough transport: the API whose context the path is under, longest first. */
  async serve(req: Req): Promise<Res> {
    const match = [...this.deployed.values()].map((d) => d.api)
      .filter((a) => req.path === a.context || req.path.startsWith(`${a.context}/`))
      .sort((a, b) => b.context.length - a.context.length)[0];
    if (!match || !match.methods.includes(req.method)) {
      return xmlFault(404, 'http://wso2.org/apimanager', '404', 'Status report', `The requested resource (${req.path}) is not available.`);
    }
    if (match.handlers.includes(AUTH_HANDLER)) {
      const auth = String(req.headers.authorization ?? '');
      if (!/^Bearer \S+/.test(auth)) {
        return xmlFault(401, 'http://wso2.org/apimanager/security', '900902', 'Missing Credentials', 'Required OAuth credentials not provided. Make sure your API invocation call has a header: "Authorization: Bearer ACCESS_TOKEN"');
      }
      // Never lenient: a token the stand-in cannot check is refused.
      log('WARN', 'APIAuthenticationHandler', `API ${match.name}: key validation through APIKeyValidationService is not modelled by the stand-in; the token is refused`);
      return xmlFault(401, 'http://wso2.org/apimanager/security', '900900', 'Unclassified Authentication Failure', 'Key validation is not modelled by the carbon-labs stand-in');
    }
    const rest = req.path.slice(match.context.length);
    const query = req.query.toString();
    try {
      const r = await fetch(`${match.endpoint}${rest}${query ? `?${query}` : ''}`, {
        method: req.method, body: ['GET', 'HEAD'].includes(req.method) ? undefined : req.rawBody, signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, contentType: r.headers.get('content-type') ?? 'text/plain', body: await r.text() };
    } catch (err) {
      log('WARN', 'TargetHandler', `API ${match.name}: the endpoint ${match.endpoint} failed: ${(err as Error).message}`);
      return xmlFault(503, 'http://wso2.org/apimanager', '101503', 'Runtime Error', 'Error connecting to the back end');
    }
  }
}
