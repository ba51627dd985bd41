import type { Exchange, HttpClient } from './http';
import { basic } from './http';

/**
 * Carbon's admin services (SOAP over HTTPS, Basic auth): the user store's, which every product
 * has, and the classic product's, as its publisher and a user of WSO2's 2.x split drive them: `APIGatewayAdmin` (what the publisher pushes an API's Synapse
 * configuration through, to the gateway environment's `ServerURL`) and the user store's
 * `RemoteUserStoreManagerService`. The REST v0.14 side is issue 23's next step.
 */

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const envelope = (ns: string, body: string) => `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="${ns}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
const GATEWAY_NS = 'http://service.gateway.apimgt.carbon.wso2.org';

/** A Synapse API as the 2.x publisher writes one: `<provider>--<name>:v<version>`, its context with the version, one resource to the backend. */
export function synapseApi(name: string, context: string, version: string, backendUrl: string): string {
  return `<api xmlns="http://ws.apache.org/ns/synapse" name="admin--${name}:v${version}" context="${context}/${version}" version="${version}" version-type="context"><resource methods="GET POST" url-mapping="/*"><inSequence><send><endpoint><http uri-template="${backendUrl}"/></endpoint></send></inSequence><outSequence><send/></outSequence></resource></api>`;
}

function soap(http: HttpClient, service: string, action: string, body: string, user = 'admin', password = 'admin'): Promise<Exchange> {
  return http.request('POST', `/services/${service}`, {
    headers: { authorization: basic(user, password), 'content-type': 'text/xml; charset=UTF-8', soapaction: `urn:${action}` }, data: body,
  });
}

export const pushApi = (http: HttpClient, api: { name: string; context: string; version: string; backendUrl: string }): Promise<Exchange> =>
  soap(http, 'APIGatewayAdmin', 'addApiForTenant', envelope(GATEWAY_NS, `<xsd:addApiForTenant><xsd:apiProviderName>admin</xsd:apiProviderName><xsd:apiName>${api.name}</xsd:apiName><xsd:version>${api.version}</xsd:version><xsd:apiConfig>${escape(synapseApi(api.name, api.context, api.version, api.backendUrl))}</xsd:apiConfig><xsd:tenantDomain>carbon.super</xsd:tenantDomain></xsd:addApiForTenant>`));

export const deleteApi = (http: HttpClient, api: { name: string; version: string }): Promise<Exchange> =>
  soap(http, 'APIGatewayAdmin', 'deleteApiForTenant', envelope(GATEWAY_NS, `<xsd:deleteApiForTenant><xsd:apiProviderName>admin</xsd:apiProviderName><xsd:apiName>${api.name}</xsd:apiName><xsd:version>${api.version}</xsd:version><xsd:tenantDomain>carbon.super</xsd:tenantDomain></xsd:deleteApiForTenant>`));

export const addUser = (http: HttpClient, user: string): Promise<Exchange> =>
  soap(http, 'RemoteUserStoreManagerService', 'addUser', envelope('http://service.ws.um.carbon.wso2.org', `<xsd:addUser><xsd:userName>${user}</xsd:userName><xsd:credential>Probe-${user}-1</xsd:credential><xsd:requirePasswordChange>false</xsd:requirePasswordChange></xsd:addUser>`));
