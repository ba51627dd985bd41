import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';
import { openDatabase } from '../db';
import type { Handler, Req, Res } from '../http';
import { basicCredentials, listen, log, NOT_DEPLOYED } from '../http';
import { envelope, fault as soapFault, withVersion } from '../admin-services';
import { TrustStore } from '../trust';
import { UserStore } from '../users';
import { launcher, readClassicConfig } from './config';
import { Membership } from './membership';
import { SynapseApis } from './synapse';

/**
 * A node of the classic Carbon product (APIM 2.6.0) as the stand-in runs it: the launcher's
 * `-DworkerNode` and `-Dprofile`, the XML files it reads, Hazelcast-style membership in its
 * clustering domain, the admin-service chain (authentication, then worker mode's 403),
 * `APIGatewayAdmin` on managers, and Synapse APIs deployed from files on the deployment tick.
 * Not modelled yet: the REST v0.14 APIs, key validation, throttling, cluster messages.
 */

const PORTS = { https: 9443, http: 9763, passthroughHttps: 8243, passthroughHttp: 8280 };

/** Admin services (`adminService` true in their services.xml) the stand-in knows by name. */
const ADMIN_SERVICES = ['APIGatewayAdmin', 'APIAuthenticationService', 'APIKeyValidationService', 'UserAdmin', 'RemoteUserStoreManagerService', 'ServerAdmin'];

/** An AxisFault: HTTP 500 and a SOAP fault. */
const fault = (message: string): Res => soapFault(500, message);
const ok = (operation: string): Res => ({ status: 200, contentType: 'text/xml; charset=UTF-8', body: envelope(`<ns:${operation}Response xmlns:ns="http://service.gateway.apimgt.carbon.wso2.org"><ns:return>true</ns:return></ns:${operation}Response>`) });

/** The SOAP body's operation and its parameters' text, by local name. */
function soapCall(raw: string): { operation: string; params: Record<string, string> } | undefined {
  const doc = new DOMParser({ onError: () => undefined }).parseFromString(raw, 'text/xml');
  const body = doc.documentElement && (Array.from(doc.documentElement.getElementsByTagNameNS('*', 'Body')) as Element[])[0];
  let op: Element | undefined;
  for (let c = body?.firstChild; c; c = c.nextSibling) if (c.nodeType === c.ELEMENT_NODE) { op = c as Element; break; }
  if (!op) return undefined;
  const params: Record<string, string> = {};
  for (let c = op.firstChild; c; c = c.nextSibling) if (c.nodeType === c.ELEMENT_NODE) params[(c as Element).localName!] = c.textContent ?? '';
  return { operation: op.localName!, params };
}

/**
 * `/services/<AdminService>` through ServerAdminModule's handlers, in their order
 * (carbon-kernel v4.4.35 module.xml): AuthenticationHandler (no or bad credentials: an AxisFault),
 * then AuthorizationHandler (a worker node: 403 with no body, and Carbon's warning). Admin services
 * are HTTPS only. `APIGatewayAdmin` writes the API's Synapse file (a gateway manager).
 */
function adminServices(opts: { workerNode: boolean; users: UserStore; apis: SynapseApis; https: boolean }, next: Handler): Handler {
  return async (req: Req): Promise<Res> => {
    const service = /^\/services\/([A-Za-z]+)(?:\.[A-Za-z0-9]+Endpoint)?\/?$/.exec(req.path)?.[1];
    if (!service || !ADMIN_SERVICES.includes(service)) return next(req);
    if (!opts.https) return fault(`The service cannot be found for the endpoint reference (EPR) /services/${service}`);
    const basic = basicCredentials(req);
    if (!basic) return fault('Access Denied. Please login first.');
    if (!(await opts.users.authenticate(basic.user, basic.secret))) return fault('Access Denied. Authentication failed - Invalid credentials provided.');
    if (opts.workerNode) {
      log('WARN', 'AuthorizationHandler', 'Invoking admin services on worker node is forbidden...');
      return { status: 403 };
    }
    const call = req.method === 'POST' ? soapCall(req.rawBody) : undefined;
    if (!call) return fault(`${service} takes SOAP POSTs`);
    if (service === 'APIGatewayAdmin' && /^(add|update)Api(ForTenant)?$/.test(call.operation)) {
      if (!call.params.apiConfig) return fault(`${call.operation}: apiConfig is required`);
      try {
        const api = opts.apis.write(call.params.apiConfig);
        log('INFO', 'APIGatewayAdmin', `${call.operation} by ${basic.user}: API ${api.name} (${api.context})`);
      } catch (err) {
        return fault((err as Error).message);
      }
      return ok(call.operation);
    }
    if (service === 'RemoteUserStoreManagerService' && call.operation === 'addUser') {
      const { userName, credential } = call.params;
      if (!userName || !credential) return fault('userName and credential are required');
      if (!(await opts.users.add(userName, credential))) return fault(`UserAlreadyExisting:Username '${userName}' already exists in the system. Please pick another username.`);
      log('INFO', 'RemoteUserStoreManagerService', `user ${userName} added by ${basic.user}`);
      return { status: 202 };
    }
    if (service === 'APIGatewayAdmin' && /^deleteApi(ForTenant)?$/.test(call.operation)) {
      const name = `${call.params.apiProviderName}--${call.params.apiName}:v${call.params.version}`;
      opts.apis.remove(name);
      return ok(call.operation);
    }
    return fault(`The endpoint reference (EPR) for the Operation not found is /services/${service} and the WSA Action = urn:${call.operation}`);
  };
}

export async function classicMain(home: string, argv: readonly string[], version: string, tls: { key: string; cert: string }): Promise<void> {
  const { workerNode, profile } = launcher(argv);
  log('INFO', 'CarbonServerManager', `Starting ${version} (carbon-labs stand-in, classic Carbon 4.4) profile ${profile}${workerNode ? ', worker node (admin services refused)' : ''}`);
  const config = readClassicConfig(home);
  for (const w of config.warnings) log('WARN', 'HazelcastClusteringAgent', w);
  const trust = new TrustStore(config.truststore.file, config.truststore.password);
  log('INFO', 'CarbonServerManager', `client truststore ${trust.describe()}`);
  const users = new UserStore(await openDatabase('WSO2_COMMON_DS', config.userDb));
  await users.add(config.admin.user, config.admin.password);

  const { clustering } = config;
  if (clustering.enabled && clustering.scheme === 'wka') {
    await new Membership({ host: clustering.host, port: clustering.port, httpPort: PORTS.http, httpsPort: PORTS.https, domain: clustering.domain, subDomain: clustering.subDomain }, clustering.members).start();
  } else if (clustering.enabled) {
    log('WARN', 'HazelcastClusteringAgent', `${clustering.scheme} membership is not modelled by the carbon-labs stand-in: this node joins no cluster`);
  } else {
    log('INFO', 'ClusteringAgentService', 'Clustering has been disabled');
  }

  const apis = new SynapseApis(home);
  apis.tick();
  setInterval(() => apis.tick(), config.deploymentIntervalSeconds * 1000);
  const servlet = (https: boolean) => withVersion(version, adminServices({ workerNode, users, apis, https }, async () => NOT_DEPLOYED));
  await listen(servlet(true), PORTS.https, tls);
  await listen(servlet(false), PORTS.http);
  const passthrough: Handler = (req) => apis.serve(req);
  await listen(passthrough, PORTS.passthroughHttps, tls);
  await listen(passthrough, PORTS.passthroughHttp);
  log('INFO', 'StartupFinalizerServiceComponent', `Server ready: ${workerNode ? 'gateway worker' : 'manager'}; Synapse APIs from ${apis.dir} every ${config.deploymentIntervalSeconds} s; passthrough ${PORTS.passthroughHttps}/${PORTS.passthroughHttp}`);
}
