import { retryUntil } from '../generator/runtime/retry';
import type { ApiFlow, ApiSpecInput, DeployStep } from './apim-client';
import { blockPath, createdId, expectStatus as expect, policyFields, runDeploySteps } from './apim-client';
import type { Exchange, HttpClient } from './http';
import { basic, bearer, describeExchange } from './http';

/**
 * Carbon's admin services (SOAP over HTTPS, Basic auth): the user store's, which every product
 * has, and the classic product's, as its publisher and a user of WSO2's 2.x split drive them: `APIGatewayAdmin` (what the publisher pushes an API's Synapse
 * configuration through, to the gateway environment's `ServerURL`) and the user store's
 * `RemoteUserStoreManagerService`; and its REST v0.14 side, `ClassicRestClient`.
 */

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const envelope = (ns: string, body: string) =>
  `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="${ns}"><soapenv:Body>${body}</soapenv:Body></soapenv:Envelope>`;
const GATEWAY_NS = 'http://service.gateway.apimgt.carbon.wso2.org';

/** A Synapse API as the 2.x publisher writes one: `<provider>--<name>:v<version>`, its context with the version, one resource to the backend. */
export function synapseApi(name: string, context: string, version: string, backendUrl: string): string {
  return `<api xmlns="http://ws.apache.org/ns/synapse" name="admin--${name}:v${version}" context="${context}/${version}" version="${version}" version-type="context"><resource methods="GET POST" url-mapping="/*"><inSequence><send><endpoint><http uri-template="${backendUrl}"/></endpoint></send></inSequence><outSequence><send/></outSequence></resource></api>`;
}

function soap(http: HttpClient, service: string, action: string, body: string, user = 'admin', password = 'admin'): Promise<Exchange> {
  return http.request('POST', `/services/${service}`, {
    headers: { authorization: basic(user, password), 'content-type': 'text/xml; charset=UTF-8', soapaction: `urn:${action}` },
    data: body,
  });
}

export const pushApi = (http: HttpClient, api: { name: string; context: string; version: string; backendUrl: string }): Promise<Exchange> =>
  soap(
    http,
    'APIGatewayAdmin',
    'addApiForTenant',
    envelope(
      GATEWAY_NS,
      `<xsd:addApiForTenant><xsd:apiProviderName>admin</xsd:apiProviderName><xsd:apiName>${api.name}</xsd:apiName><xsd:version>${api.version}</xsd:version><xsd:apiConfig>${escape(synapseApi(api.name, api.context, api.version, api.backendUrl))}</xsd:apiConfig><xsd:tenantDomain>carbon.super</xsd:tenantDomain></xsd:addApiForTenant>`,
    ),
  );

export const deleteApi = (http: HttpClient, api: { name: string; version: string }): Promise<Exchange> =>
  soap(
    http,
    'APIGatewayAdmin',
    'deleteApiForTenant',
    envelope(
      GATEWAY_NS,
      `<xsd:deleteApiForTenant><xsd:apiProviderName>admin</xsd:apiProviderName><xsd:apiName>${api.name}</xsd:apiName><xsd:version>${api.version}</xsd:version><xsd:tenantDomain>carbon.super</xsd:tenantDomain></xsd:deleteApiForTenant>`,
    ),
  );

export const addUser = (http: HttpClient, user: string): Promise<Exchange> =>
  soap(
    http,
    'RemoteUserStoreManagerService',
    'addUser',
    envelope(
      'http://service.ws.um.carbon.wso2.org',
      `<xsd:addUser><xsd:userName>${user}</xsd:userName><xsd:credential>Probe-${user}-1</xsd:credential><xsd:requirePasswordChange>false</xsd:requirePasswordChange></xsd:addUser>`,
    ),
  );

export const PUBLISHER_V014 = '/api/am/publisher/v0.14';
export const STORE_V014 = '/api/am/store/v0.14';
export const ADMIN_V014 = '/api/am/admin/v0.14';
/** The scopes of publisher and store v0.14 the harness uses (carbon-apimgt 6.4.50 `x-scope`s). */
export const V014_SCOPES = [
  'apim:api_view',
  'apim:api_create',
  'apim:api_publish',
  'apim:subscribe',
  'apim:subscription_block',
  'apim:tier_manage',
];

/**
 * The classic product's REST flow (APIM 2.6.0) against a manager or its balancer: DCR v0.14, the
 * password grant at `/oauth2/token`, publisher and store v0.14. Methods throw a FlowError naming
 * the step when the status is not the one the product answers.
 */
export class ClassicRestClient implements ApiFlow {
  /** The REST APIs' token, once logged in (tokens live in the shared database: valid on every node). */
  accessToken?: string;

  constructor(
    readonly http: HttpClient,
    readonly user = 'admin',
    readonly password = 'admin',
  ) {}

  /** `POST /client-registration/v0.14/register` (Basic auth of the user). */
  tryRegister(): Promise<Exchange> {
    return this.http.request('POST', '/client-registration/v0.14/register', {
      headers: { authorization: basic(this.user, this.password), 'content-type': 'application/json' },
      data: {
        callbackUrl: 'www.example.com',
        clientName: 'carbon-labs-harness',
        owner: this.user,
        grantType: 'client_credentials password refresh_token',
        saasApp: true,
      },
    });
  }

  /** DCR v0.14, then a password-grant token with the v0.14 scopes. */
  async login(): Promise<void> {
    const reg = expect('DCR register (v0.14)', await this.tryRegister(), 200).body as { clientId: string; clientSecret: string };
    const tok = expect(
      'password grant',
      await this.http.request('POST', '/oauth2/token', {
        headers: { authorization: basic(reg.clientId, reg.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        data: new URLSearchParams({
          grant_type: 'password',
          username: this.user,
          password: this.password,
          scope: V014_SCOPES.join(' '),
        }).toString(),
      }),
      200,
    ).body as { access_token: string };
    this.accessToken = tok.access_token;
  }

  call(method: string, path: string, data?: unknown): Promise<Exchange> {
    if (!this.accessToken) throw new Error('login() first');
    return this.http.request(method, path, { headers: { authorization: bearer(this.accessToken) }, data });
  }

  /** Creates an API (`APIDetailed` with its required properties), in state CREATED. */
  tryCreateApi(api: ApiSpecInput): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER_V014}/apis`, {
      name: api.name,
      context: api.context,
      version: api.version,
      tiers: ['Unlimited'],
      isDefaultVersion: false,
      transport: ['http', 'https'],
      visibility: 'PUBLIC',
      type: 'HTTP',
      endpointConfig: JSON.stringify({
        endpoint_type: 'http',
        production_endpoints: { url: api.backendUrl },
        sandbox_endpoints: { url: api.backendUrl },
      }),
      apiDefinition: JSON.stringify({
        swagger: '2.0',
        paths: {
          '/*': {
            get: {
              'x-auth-type': 'Application & Application User',
              'x-throttling-tier': 'Unlimited',
              responses: { 200: { description: 'OK' } },
            },
          },
        },
      }),
    });
  }

  /** Create and publish: the publisher pushes it to its gateway environments (2.6.0 has no revisions or vhosts). */
  async createAndDeploy(api: ApiSpecInput): Promise<{ apiId: string; steps: Exchange[] }> {
    const steps = await runDeploySteps(this.deploySteps(api));
    return { apiId: createdId(steps), steps };
  }

  listApis(limit = 1000): Promise<Exchange> {
    return this.call('GET', `${PUBLISHER_V014}/apis?limit=${limit}`);
  }

  readApi(apiId: string): Promise<Exchange> {
    return this.call('GET', `${PUBLISHER_V014}/apis/${apiId}`);
  }

  /** Create, then publish: the manager's gateway writes the API's Synapse file, which the sync takes to the workers. */
  deploySteps(api: ApiSpecInput): readonly DeployStep[] {
    return [
      { label: 'POST create', step: 'create API (v0.14)', statuses: [201], send: () => this.tryCreateApi(api) },
      {
        label: 'POST publish',
        step: 'publish (v0.14 change-lifecycle)',
        statuses: [200],
        send: (before) => this.tryPublish(createdId(before)),
      },
    ];
  }

  trySetBlocked(subscriptionId: string, blocked: boolean): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER_V014}/subscriptions/${blockPath(subscriptionId, blocked)}`);
  }

  tryPublish(apiId: string): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER_V014}/apis/change-lifecycle?apiId=${apiId}&action=Publish`);
  }

  /** 2.6.0 has no revisions: a publish updates the one Synapse file in place. */
  async deployCount(): Promise<undefined> {
    return undefined;
  }

  /** Reads an API until the answer is definite: 200 (there) or 404 (gone); a 502 or a timeout is asked again. */
  readDefinitely(apiId: string, timeoutMs: number): Promise<Exchange | { status: 0; error: string }> {
    return retryUntil(
      async (observe) => {
        const read = await this.call('GET', `${PUBLISHER_V014}/apis/${apiId}`);
        observe(describeExchange(read));
        return read.status === 200 || read.status === 404 ? read : undefined;
      },
      { timeoutMs, intervalMs: 250, what: `a definite answer for API ${apiId}` },
    ).catch((err: Error) => ({ status: 0 as const, error: err.message }));
  }

  /**
   * Admin v0.14 (carbon-apimgt 6.4.50 `admin-api.yaml`): a request-count policy of an hour, its
   * `defaultLimit` flat (`RequestCountLimit`); a subscription policy stops at its quota.
   */
  tryAddPolicy(level: 'subscription' | 'application', name: string, requestsPerHour: number): Promise<Exchange> {
    return this.call('POST', `${ADMIN_V014}/throttling/policies/${level}`, {
      ...policyFields(level, name, requestsPerHour),
      defaultLimit: { type: 'RequestCountLimit', timeUnit: 'hour', unitTime: 1, requestCount: requestsPerHour },
    });
  }

  /** Publisher v0.14: the API as stored, with the tier added to its `tiers` (a subscription names one of them). */
  async tryOfferPolicy(apiId: string, name: string): Promise<Exchange> {
    const stored = (await this.call('GET', `${PUBLISHER_V014}/apis/${apiId}`)).body as { tiers?: string[] };
    return this.call('PUT', `${PUBLISHER_V014}/apis/${apiId}`, { ...stored, tiers: [...(stored.tiers ?? []), name] });
  }

  /** An application subscribed to the APIs, and its production keys with their token (store v0.14 generate-keys issues one). */
  async subscribe(
    appName: string,
    apiIds: readonly string[],
    tier = 'Unlimited',
    applicationTier = 'Unlimited',
  ): Promise<{ token: string; consumerKey: string; consumerSecret: string; steps: Exchange[] }> {
    const app = expect(
      'create application (v0.14)',
      await this.call('POST', `${STORE_V014}/applications`, { name: appName, throttlingTier: applicationTier, description: 'carbon-labs' }),
      201,
    );
    const applicationId = (app.body as { applicationId: string }).applicationId;
    const steps = [app];
    for (const apiId of apiIds)
      steps.push(
        expect(
          'subscribe (v0.14)',
          await this.call('POST', `${STORE_V014}/subscriptions`, { applicationId, apiIdentifier: apiId, tier }),
          201,
        ),
      );
    const keys = expect(
      'generate keys (v0.14)',
      await this.call('POST', `${STORE_V014}/applications/generate-keys?applicationId=${applicationId}`, {
        keyType: 'PRODUCTION',
        validityTime: '3600',
        accessAllowDomains: ['ALL'],
        supportedGrantTypes: ['client_credentials'],
      }),
      200,
    );
    const body = keys.body as { consumerKey: string; consumerSecret: string; token: { accessToken: string } };
    return { token: body.token.accessToken, consumerKey: body.consumerKey, consumerSecret: body.consumerSecret, steps: [...steps, keys] };
  }
}
