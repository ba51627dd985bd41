import { retryUntil } from '../generator/runtime/retry';
import { basic, bearer, describeExchange, Exchange, HttpClient } from './http';

export const PUBLISHER = '/api/am/publisher/v4';
export const DEVPORTAL = '/api/am/devportal/v3';
export const ADMIN = '/api/am/admin/v4';
export const ADMIN_SCOPES = [
  'apim:api_view',
  'apim:api_create',
  'apim:api_publish',
  'apim:api_manage',
  'apim:api_delete',
  'apim:subscribe',
  'apim:app_manage',
  'apim:sub_manage',
  'apim:subscription_block',
  'apim:admin',
  'apim:environment_read',
  'apim:common_operation_policy_view',
];

export class FlowError extends Error {
  constructor(
    step: string,
    readonly exchange: Exchange,
  ) {
    super(`${step} failed: ${describeExchange(exchange)}`);
  }
}

/** The exchange when its status is one of `statuses`; else a FlowError naming the step. */
export function expectStatus(step: string, e: Exchange, ...statuses: number[]): Exchange {
  if (!statuses.includes(e.status)) throw new FlowError(step, e);
  return e;
}

export interface ApiSpecInput {
  readonly name: string;
  readonly context: string;
  readonly version: string;
  readonly backendUrl: string;
  /** `WS` for a WebSocket API (backend `ws://`, served on the gateways' 9099/8099). @default 'HTTP' */
  readonly type?: 'HTTP' | 'WS';
  /** The default version of its name: gateways also serve it on the context without a version, once deployed. */
  readonly isDefaultVersion?: boolean;
}

/** The publisher's block and unblock operations (the same in v4 and v0.14), relative to `/subscriptions/`. */
export const blockPath = (subscriptionId: string, blocked: boolean): string =>
  blocked
    ? `block-subscription?subscriptionId=${subscriptionId}&blockState=BLOCKED`
    : `unblock-subscription?subscriptionId=${subscriptionId}`;

/**
 * What the checks that apply to every product ask of a control plane, whatever REST it speaks
 * (4.x: {@link ApimClient}; the classic product's v0.14: `ClassicRestClient`).
 */
export interface ApiFlow {
  login(): Promise<unknown>;
  /** Creates an API (not deployed): the write a load repeats. */
  tryCreateApi(api: ApiSpecInput): Promise<Exchange>;
  /** Creates an API and has it served by the gateways. */
  createAndDeploy(api: ApiSpecInput, vhost: string): Promise<{ apiId: string; steps: Exchange[] }>;
  /**
   * An application subscribed to the APIs, and a token of its production keys: subscribed with
   * `policy`, the application with `applicationPolicy` (both `Unlimited` by default).
   */
  subscribe(
    appName: string,
    apiIds: readonly string[],
    policy?: string,
    applicationPolicy?: string,
  ): Promise<{ token: string; steps: Exchange[] }>;
  /** Adds a subscription or application throttling policy of `requestsPerHour` (the admin REST API); answered as it is (201). */
  tryAddPolicy(level: 'subscription' | 'application', name: string, requestsPerHour: number): Promise<Exchange>;
  /** Offers a subscription policy on an API (which a subscription must name), keeping those it offers; answered as it is (200). */
  tryOfferPolicy(apiId: string, name: string): Promise<Exchange>;
  readDefinitely(apiId: string, timeoutMs: number): Promise<Exchange | { status: 0; error: string }>;
  /** A read of the publisher's API list, its first `limit` (default 1000: an admin's load). */
  listApis(limit?: number): Promise<Exchange>;
  /** One read of an API in the publisher. */
  readApi(apiId: string): Promise<Exchange>;
  /**
   * The requests that take a new API to the gateways, each one on its own, so that a load can time
   * each and stop at the first that fails: 4.x create, revision, deploy; 2.6.0 create, publish.
   * Each step is given the answers of the steps before it (the API's id is the first one's).
   */
  deploySteps(api: ApiSpecInput, vhost: string): readonly DeployStep[];
  /** Publishes an API (its lifecycle's Publish), answered as it is. */
  tryPublish(apiId: string): Promise<Exchange>;
  /** Blocks a subscription (`BLOCKED`, for production and sandbox keys) or unblocks it, in the publisher; answered as it is. */
  trySetBlocked(subscriptionId: string, blocked: boolean): Promise<Exchange>;
  /** How many times an API was deployed (4.x: its revisions), or undefined where the product counts none (2.6.0 publishes in place). */
  deployCount(apiId: string): Promise<number | undefined>;
}

/**
 * A throttling policy of the check's own, as both products' admin REST APIs name it (4.x and v0.14
 * differ only in how `defaultLimit` is written): a subscription one stops at its quota.
 */
export const policyFields = (level: 'subscription' | 'application', name: string, requestsPerHour: number) => ({
  policyName: name,
  displayName: name,
  description: `carbon-labs: ${requestsPerHour} requests an hour`,
  ...(level === 'subscription' ? { stopOnQuotaReach: true, billingPlan: 'FREE' } : {}),
});

/** One request of {@link ApiFlow.deploySteps}: its label in a load's figures, its name in an error, and the statuses that mean it worked. */
export interface DeployStep {
  readonly label: string;
  readonly step: string;
  readonly statuses: readonly number[];
  send(before: readonly Exchange[]): Promise<Exchange>;
}

/** The id the first step of a deploy (the create) answered. */
export const createdId = (before: readonly Exchange[]): string => (before[0].body as { id: string }).id;

/** Runs a deploy's steps one after another, each required to answer as it should (a FlowError naming the step otherwise). */
export async function runDeploySteps(steps: readonly DeployStep[]): Promise<Exchange[]> {
  const answered: Exchange[] = [];
  for (const s of steps) answered.push(expectStatus(s.step, await s.send(answered), ...s.statuses));
  return answered;
}

/**
 * The APIM 4.3 REST flow against one node or balancer (publisher v4, devportal v3, admin v4,
 * DCR v0.17, /oauth2/token). Methods named `try*` return the exchange; the others throw a
 * FlowError naming the step when the status is not the one the product answers.
 */
export class ApimClient implements ApiFlow {
  accessToken?: string;

  constructor(
    readonly http: HttpClient,
    readonly user = 'admin',
    readonly password = 'admin',
  ) {}

  tryRegister(clientName = 'carbon-labs-harness'): Promise<Exchange> {
    return this.http.request('POST', '/client-registration/v0.17/register', {
      headers: { authorization: basic(this.user, this.password), 'content-type': 'application/json' },
      data: {
        callbackUrl: 'www.example.com',
        clientName,
        owner: this.user,
        grantType: 'client_credentials password refresh_token',
        saasApp: true,
      },
    });
  }

  tryToken(clientId: string, clientSecret: string, form: Record<string, string>): Promise<Exchange> {
    return this.http.request('POST', '/oauth2/token', {
      headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams(form).toString(),
    });
  }

  /** `POST /oauth2/revoke` (RFC 7009): the client that was issued `token` revokes it. */
  tryRevoke(clientId: string, clientSecret: string, token: string): Promise<Exchange> {
    return this.http.request('POST', '/oauth2/revoke', {
      headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      data: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
  }

  /** DCR then a password-grant token with the admin scopes; keeps the token for later calls. */
  async login(scopes = ADMIN_SCOPES): Promise<string> {
    const reg = expectStatus('DCR register', await this.tryRegister(), 200).body as { clientId: string; clientSecret: string };
    const tok = expectStatus(
      'password grant',
      await this.tryToken(reg.clientId, reg.clientSecret, {
        grant_type: 'password',
        username: this.user,
        password: this.password,
        scope: scopes.join(' '),
      }),
      200,
    ).body as { access_token: string };
    this.accessToken = tok.access_token;
    return tok.access_token;
  }

  private auth(): Record<string, string> {
    if (!this.accessToken) throw new Error('login() first');
    return { authorization: bearer(this.accessToken) };
  }

  call(method: string, path: string, data?: unknown, extraHeaders: Record<string, string> = {}): Promise<Exchange> {
    return this.http.request(method, path, { headers: { ...this.auth(), ...extraHeaders }, data });
  }

  tryCreateApi(api: ApiSpecInput): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER}/apis`, {
      name: api.name,
      context: api.context,
      version: api.version,
      policies: ['Unlimited'],
      type: api.type ?? 'HTTP',
      isDefaultVersion: api.isDefaultVersion === true,
      endpointConfig: {
        endpoint_type: api.type === 'WS' ? 'ws' : 'http',
        production_endpoints: { url: api.backendUrl },
        sandbox_endpoints: { url: api.backendUrl },
      },
      // A WebSocket API's operations are topics with SUBSCRIBE/PUBLISH verbs.
      operations: (api.type === 'WS' ? ['SUBSCRIBE', 'PUBLISH'] : ['GET']).map((verb) => ({
        target: '/*',
        verb,
        authType: 'Application & Application User',
        throttlingPolicy: 'Unlimited',
      })),
    });
  }

  listApis(limit = 1000): Promise<Exchange> {
    return this.call('GET', `${PUBLISHER}/apis?limit=${limit}`);
  }

  readApi(apiId: string): Promise<Exchange> {
    return this.call('GET', `${PUBLISHER}/apis/${apiId}`);
  }

  deploySteps(api: ApiSpecInput, vhost: string): readonly DeployStep[] {
    return [
      { label: 'POST create', step: 'create API', statuses: [201], send: () => this.tryCreateApi(api) },
      {
        label: 'POST revision',
        step: 'create revision',
        statuses: [201],
        send: (before) => this.call('POST', `${PUBLISHER}/apis/${createdId(before)}/revisions`, { description: 'carbon-labs' }),
      },
      {
        label: 'POST deploy',
        step: 'deploy revision',
        statuses: [201, 200],
        send: (before) =>
          this.call('POST', `${PUBLISHER}/apis/${createdId(before)}/deploy-revision?revisionId=${(before[1].body as { id: string }).id}`, [
            { name: 'Default', vhost, displayOnDevportal: true },
          ]),
      },
    ];
  }

  trySetBlocked(subscriptionId: string, blocked: boolean): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER}/subscriptions/${blockPath(subscriptionId, blocked)}`);
  }

  tryPublish(apiId: string): Promise<Exchange> {
    return this.call('POST', `${PUBLISHER}/apis/change-lifecycle?apiId=${apiId}&action=Publish`);
  }

  async deployCount(apiId: string): Promise<number | undefined> {
    const revisions = await this.call('GET', `${PUBLISHER}/apis/${apiId}/revisions`);
    return revisions.status === 200 ? ((revisions.body as { count?: number } | undefined)?.count ?? 0) : undefined;
  }

  /** Create → revision → deploy to the "Default" environment ({@link deploySteps}) → publish. Returns the API id. */
  async createAndDeploy(api: ApiSpecInput, vhost: string): Promise<{ apiId: string; steps: Exchange[] }> {
    const deployed = await runDeploySteps(this.deploySteps(api, vhost));
    const apiId = createdId(deployed);
    const published = expectStatus('publish', await this.tryPublish(apiId), 200, 202);
    return { apiId, steps: [...deployed, published] };
  }

  /**
   * Reads an API until the answer is definite: 200 (there) or 404 (gone). A 502 or a timeout is a
   * balancer still recovering, so it asks again; the last exchange (or the reason) when it never is.
   */
  async readDefinitely(apiId: string, timeoutMs: number): Promise<Exchange | { status: 0; error: string }> {
    return retryUntil(
      async (observe) => {
        const read = await this.call('GET', `${PUBLISHER}/apis/${apiId}`);
        observe(describeExchange(read));
        return read.status === 200 || read.status === 404 ? read : undefined;
      },
      { timeoutMs, intervalMs: 250, what: `a definite answer for API ${apiId}` },
    ).catch((err: Error) => ({ status: 0 as const, error: err.message }));
  }

  /** 4.x admin REST: a request-count policy of an hour, its limit nested (`defaultLimit.requestCount`). */
  tryAddPolicy(level: 'subscription' | 'application', name: string, requestsPerHour: number): Promise<Exchange> {
    return this.call('POST', `${ADMIN}/throttling/policies/${level}`, {
      ...policyFields(level, name, requestsPerHour),
      defaultLimit: { type: 'REQUESTCOUNTLIMIT', requestCount: { timeUnit: 'hour', unitTime: 1, requestCount: requestsPerHour } },
    });
  }

  /** The API as stored, with the policy added to its `policies` (the devportal subscribes with the API's policies only). */
  async tryOfferPolicy(apiId: string, name: string): Promise<Exchange> {
    const stored = (await this.call('GET', `${PUBLISHER}/apis/${apiId}`)).body as { policies?: string[] };
    return this.call('PUT', `${PUBLISHER}/apis/${apiId}`, { ...stored, policies: [...(stored.policies ?? []), name] });
  }

  /** Application → subscriptions → production keys → token: a token that may invoke `apiIds`. */
  /** An application (its own policy, default Unlimited) subscribed to the APIs with a subscription policy (default Unlimited), its keys and a token. */
  async subscribe(
    appName: string,
    apiIds: readonly string[],
    policy = 'Unlimited',
    applicationPolicy = 'Unlimited',
  ): Promise<{ token: string; steps: Exchange[] }> {
    const app = expectStatus(
      'create application',
      await this.call('POST', `${DEVPORTAL}/applications`, {
        name: appName,
        throttlingPolicy: applicationPolicy,
        description: 'carbon-labs',
        tokenType: 'JWT',
      }),
      201,
    );
    const applicationId = (app.body as { applicationId: string }).applicationId;
    const steps = [app];
    for (const apiId of apiIds) {
      steps.push(
        expectStatus(
          'subscribe',
          await this.call('POST', `${DEVPORTAL}/subscriptions`, { apiId, applicationId, throttlingPolicy: policy }),
          201,
        ),
      );
    }
    const keys = expectStatus(
      'generate keys',
      await this.call('POST', `${DEVPORTAL}/applications/${applicationId}/generate-keys`, {
        keyType: 'PRODUCTION',
        keyManager: 'Resident Key Manager',
        grantTypesToBeSupported: ['password', 'client_credentials'],
        callbackUrl: '',
        scopes: ['default'],
        validityTime: '3600',
      }),
      200,
    );
    const { keyMappingId, consumerSecret } = keys.body as { keyMappingId: string; consumerSecret: string };
    const token = expectStatus(
      'generate application token',
      await this.call('POST', `${DEVPORTAL}/applications/${applicationId}/oauth-keys/${keyMappingId}/generate-token`, {
        consumerSecret,
        validityPeriod: 3600,
        scopes: ['default'],
      }),
      200,
    );
    steps.push(keys, token);
    return { token: (token.body as { accessToken: string }).accessToken, steps };
  }

  /**
   * Removes every subscription to an API (devportal `DELETE /subscriptions/{id}`): the product
   * refuses to delete an API while any is left (409).
   */
  async unsubscribeAll(apiId: string): Promise<Exchange[]> {
    const list = expectStatus('list subscriptions', await this.call('GET', `${DEVPORTAL}/subscriptions?apiId=${apiId}`), 200);
    const steps = [list];
    for (const { subscriptionId } of (list.body as { list: { subscriptionId: string }[] }).list) {
      steps.push(expectStatus('unsubscribe', await this.call('DELETE', `${DEVPORTAL}/subscriptions/${subscriptionId}`), 200));
    }
    return steps;
  }
}

/** Invokes `/{context}/{version}/{resource}` on a worker or the worker balancer. */
/** A call of a deployed API's resource; an empty `version` calls the context without one (its default version). */
export function invoke(http: HttpClient, context: string, version: string, token: string, resource = '/menu'): Promise<Exchange> {
  return http.request('GET', `${context}${version ? `/${version}` : ''}${resource}`, { headers: { authorization: bearer(token) } });
}
