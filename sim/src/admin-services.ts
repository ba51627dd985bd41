import type { Handler, Req, Res } from './http';
import { basicCredentials, log } from './http';
import type { UserStore } from './users';

/** Carbon admin services of both profiles, by name (the gateway-worker profile keeps them too). */
const ADMIN_SERVICES = ['RemoteUserStoreManagerService', 'UserAdmin', 'APIGatewayAdmin', 'ServerAdmin'];

export const envelope = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
/** An AxisFault as Carbon answers it: a SOAP fault with this HTTP status. */
export const fault = (status: number, message: string): Res => ({
  status,
  contentType: 'text/xml; charset=UTF-8',
  body: envelope(`<soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>${message}</faultstring></soapenv:Fault>`),
});

/** The text of the first element with this local name in a SOAP body, namespace prefix ignored. */
function element(xml: string, name: string): string | undefined {
  return new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${name}>`).exec(xml)?.[1];
}

/**
 * `/services/<AdminService>` as Carbon serves it: Basic auth of a user, and on a node started in
 * worker mode (`[system.parameter] workerNode = "true"`) a bare 403 for every admin service, as
 * carbon-kernel's AuthorizationHandler does. `RemoteUserStoreManagerService` writes users to the
 * shared user store, so a worker that serves it accepts admin writes.
 */
export function withAdminServices(opts: { workerNode: boolean; users: UserStore }, next: Handler): Handler {
  return async (req: Req): Promise<Res> => {
    const service = /^\/services\/([A-Za-z]+)(?:\.[A-Za-z0-9]+Endpoint)?\/?$/.exec(req.path)?.[1];
    if (!service || !ADMIN_SERVICES.includes(service)) return next(req);
    if (opts.workerNode) {
      log('WARN', 'AuthorizationHandler', 'Invoking admin services on worker node is forbidden...');
      return { status: 403 };
    }
    const basic = basicCredentials(req);
    if (!basic || !(await opts.users.authenticate(basic.user, basic.secret)))
      return fault(401, 'Access Denied. Authentication failed - Invalid credentials provided.');
    if (req.method !== 'POST') return fault(405, `${service} takes SOAP POSTs`);
    const action =
      (req.headers.soapaction as string | undefined)?.replace(/"/g, '').replace(/^urn:/, '') ??
      /<soapenv:Body>\s*<(?:\w+:)?(\w+)/.exec(req.rawBody)?.[1];
    if (service === 'RemoteUserStoreManagerService' && action === 'addUser') {
      const user = element(req.rawBody, 'userName');
      const credential = element(req.rawBody, 'credential');
      if (!user || !credential) return fault(500, 'userName and credential are required');
      if (!(await opts.users.add(user, credential)))
        return fault(500, `UserAlreadyExisting:Username '${user}' already exists in the system. Please pick another username.`);
      log('INFO', 'RemoteUserStoreManagerService', `user ${user} added by ${basic.user}`);
      return { status: 202 };
    }
    if (service === 'RemoteUserStoreManagerService' && action === 'isExistingUser') {
      return {
        status: 200,
        contentType: 'text/xml; charset=UTF-8',
        body: envelope(
          `<ns:isExistingUserResponse xmlns:ns="http://service.ws.um.carbon.wso2.org"><ns:return>${await opts.users.exists(element(req.rawBody, 'userName') ?? '')}</ns:return></ns:isExistingUserResponse>`,
        ),
      };
    }
    return fault(
      500,
      `The endpoint reference (EPR) for the Operation not found is /services/${service} and the WSA Action = urn:${action ?? ''}`,
    );
  };
}

/** `/services/Version`, the documented service-level health check, on every role. */
export function withVersion(version: string, next: Handler): Handler {
  return async (req): Promise<Res> => {
    if (req.path === '/services/Version' || req.path === '/services/Version/') {
      return {
        status: 200,
        contentType: 'application/xml',
        body: `<ns:getVersionResponse xmlns:ns="http://version.services.core.carbon.wso2.org"><return>${version}</return></ns:getVersionResponse>`,
      };
    }
    return next(req);
  };
}
