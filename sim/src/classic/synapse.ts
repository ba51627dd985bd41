import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import type { Req, Res } from '../http';
import { log } from '../http';
import { escapeXml as xmlEscape } from './soap';

/**
 * Synapse REST APIs of a classic gateway (APIM 2.x), deployed from
 * `repository/deployment/server/synapse-configs/default/api/*.xml`, as Carbon's deployment
 * scheduler deploys what lands there: a file copied by the lab's sync is served only after the
 * node's next deployment tick (`DeploymentUpdateInterval`, 15 s), never at once.
 */

export interface SynapseApi {
  readonly name: string;
  readonly context: string;
  readonly version: string;
  readonly methods: readonly string[];
  readonly endpoint: string;
  readonly handlers: readonly string[];
}

const AUTH_HANDLER = 'org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler';

/**
 * The handlers the 2.6.0 publisher writes into an API (product-apim v2.6.0
 * `repository/resources/api_templates/velocity_template.xml`), in order. The stand-in runs
 * `APIAuthenticationHandler`; the others it names in its log and does not run (no check of the
 * classic product depends on throttling or analytics yet).
 */
export const PUBLISHED_HANDLERS = [
  'org.wso2.carbon.apimgt.gateway.handlers.common.APIMgtLatencyStatsHandler',
  'org.wso2.carbon.apimgt.gateway.handlers.security.CORSRequestHandler',
  AUTH_HANDLER,
  'org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler',
  'org.wso2.carbon.apimgt.gateway.handlers.analytics.APIMgtUsageHandler',
  'org.wso2.carbon.apimgt.gateway.handlers.analytics.APIMgtGoogleAnalyticsTrackingHandler',
  'org.wso2.carbon.apimgt.gateway.handlers.ext.APIManagerExtensionHandler',
];

/** The Synapse file the 2.6.0 publisher writes for an API: `<provider>--<name>:v<version>`, the context with the version, its handlers. */
export function renderPublishedApi(api: { provider: string; name: string; context: string; version: string; endpoint: string }): string {
  const name = `${api.provider}--${api.name}:v${api.version}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<api xmlns="http://ws.apache.org/ns/synapse" name="${xmlEscape(name)}" context="${xmlEscape(api.context)}/${xmlEscape(api.version)}" version="${xmlEscape(api.version)}" version-type="context">
  <resource methods="POST PATCH GET DELETE HEAD PUT" url-mapping="/*" faultSequence="fault">
    <inSequence>
      <send><endpoint name="${xmlEscape(name.replace(':v', '_v'))}_APIproductionEndpoint_0"><http uri-template="${xmlEscape(api.endpoint)}"/></endpoint></send>
    </inSequence>
    <outSequence><send/></outSequence>
  </resource>
  <handlers>
${PUBLISHED_HANDLERS.map((h) => `    <handler class="${h}"/>`).join('\n')}
  </handlers>
</api>
`;
}

const elements = (root: Element, name: string): Element[] => Array.from(root.getElementsByTagNameNS('*', name)) as Element[];

/** A Synapse `<api>` file as the gateway reads it; an error names what it lacks. */
export function parseSynapseApi(xml: string, file: string): SynapseApi {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, m) => {
      if (level !== 'warning') errors.push(m);
    },
  }).parseFromString(xml, 'text/xml');
  const api = doc.documentElement;
  if (errors.length || !api || api.localName !== 'api')
    throw new Error(`${file}: not a Synapse <api> (${errors.join('; ') || api?.localName})`);
  const name = api.getAttribute('name');
  const context = api.getAttribute('context');
  if (!name || !context) throw new Error(`${file}: <api> needs name and context`);
  const endpoint = elements(api, 'http')[0]?.getAttribute('uri-template') ?? elements(api, 'address')[0]?.getAttribute('uri');
  if (!endpoint) throw new Error(`${file}: API ${name} sends to no <http uri-template> or <address uri> endpoint`);
  return {
    name,
    context: context.replace(/\/$/, ''),
    version: api.getAttribute('version') ?? '',
    endpoint: endpoint.replace(/\/$/, ''),
    methods: elements(api, 'resource').flatMap((r) => (r.getAttribute('methods') ?? 'GET POST PUT DELETE PATCH HEAD OPTIONS').split(/\s+/)),
    handlers: elements(api, 'handler').map((h) => h.getAttribute('class') ?? ''),
  };
}

/** APIGatewayAdmin's file name for an API: its `name`, `:` as `_` (`admin--Pizza:v1.0.0` → `admin--Pizza_v1.0.0.xml`). */
export const synapseFileName = (name: string) => `${name.replace(/:/g, '_')}.xml`;

const xmlFault = (status: number, ns: string, code: string, message: string, description: string): Res => ({
  status,
  contentType: 'application/xml',
  body: `<am:fault xmlns:am="${ns}"><am:code>${code}</am:code><am:message>${message}</am:message><am:description>${description}</am:description></am:fault>`,
});

export class SynapseApis {
  private readonly deployed = new Map<string, { api: SynapseApi; stamp: string }>();
  readonly dir: string;

  /** `auth` runs APIAuthenticationHandler; without it, an API with that handler is refused (never lenient). */
  constructor(
    home: string,
    private readonly auth?: (req: Req, api: SynapseApi) => Promise<Res | undefined>,
  ) {
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
    const match = [...this.deployed.values()]
      .map((d) => d.api)
      .filter((a) => req.path === a.context || req.path.startsWith(`${a.context}/`))
      .sort((a, b) => b.context.length - a.context.length)[0];
    if (!match || !match.methods.includes(req.method)) {
      return xmlFault(404, 'http://wso2.org/apimanager', '404', 'Status report', `The requested resource (${req.path}) is not available.`);
    }
    if (match.handlers.includes(AUTH_HANDLER)) {
      if (!this.auth)
        return xmlFault(
          500,
          'http://wso2.org/apimanager/security',
          '900900',
          'Unclassified Authentication Failure',
          'No key validator is configured',
        );
      const refused = await this.auth(req, match);
      if (refused) return refused;
    }
    const rest = req.path.slice(match.context.length);
    const query = req.query.toString();
    try {
      const r = await fetch(`${match.endpoint}${rest}${query ? `?${query}` : ''}`, {
        method: req.method,
        body: ['GET', 'HEAD'].includes(req.method) ? undefined : req.rawBody,
        signal: AbortSignal.timeout(10_000),
      });
      return { status: r.status, contentType: r.headers.get('content-type') ?? 'text/plain', body: await r.text() };
    } catch (err) {
      log('WARN', 'TargetHandler', `API ${match.name}: the endpoint ${match.endpoint} failed: ${(err as Error).message}`);
      return xmlFault(503, 'http://wso2.org/apimanager', '101503', 'Runtime Error', 'Error connecting to the back end');
    }
  }
}
