import type { Res } from './http';
import { json } from './http';

/**
 * What a gateway knows of applications, their keys and their subscriptions, kept in memory as the
 * product's subscription data store keeps them (carbon-apimgt 9.29.120 keymgt
 * `SubscriptionDataStoreImpl`): loaded whole from the control plane's internal data API at startup,
 * then changed by APPLICATION_*, APPLICATION_REGISTRATION_CREATE and SUBSCRIPTIONS_* events. The
 * gateway admits requests against it and reports it in its own REST API (`/api/am/gateway/v2`).
 */

/** An application (`Application` of the store): its integer id is AM_APPLICATION.APPLICATION_ID. */
export interface StoredApplication {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  /** Its owner (the subscriber). */
  readonly subName: string;
  /** Its application-level throttling policy. */
  readonly policy: string;
  readonly tokenType: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An application's OAuth client for one key type and key manager (`ApplicationKeyMapping`). */
export interface StoredKeyMapping {
  readonly applicationId: number;
  readonly applicationUUID: string;
  readonly consumerKey: string;
  readonly keyType: string;
  readonly keyManager: string;
}

/** A subscription's state and tier, with the integer ids of it, its API and its application when known. */
export interface StoredSubscription {
  readonly status: string;
  readonly policy: string;
  readonly subscriptionId?: number;
  readonly apiId?: number;
  readonly appId?: number;
}

/** The integer ids an event or a pull carries with a subscription. */
export type SubscriptionIds = Pick<StoredSubscription, 'subscriptionId' | 'apiId' | 'appId'>;

/** A subscription as the internal data API gives it to gateways (`/internal/data/v1/subscriptions`). */
export interface InternalSubscription {
  readonly subscriptionId: number;
  readonly subscriptionUUID: string;
  /** Unknown when the API or the application went while the subscription stayed. */
  readonly apiId?: number;
  readonly apiUUID: string;
  readonly appId?: number;
  readonly appUUID: string;
  readonly policyId: string;
  readonly subscriptionState: string;
}

export const storedSubscription = (s: InternalSubscription): StoredSubscription => ({
  status: s.subscriptionState,
  policy: s.policyId ?? 'Unlimited',
  subscriptionId: s.subscriptionId,
  apiId: s.apiId,
  appId: s.appId,
});

/** The gateway REST API's 400, as `ErrorDTO().moreInfo(...)` serializes it with nothing else set. */
const MISSING = () => json(400, { moreInfo: 'required parameters are missing' });

export class SubscriptionData {
  /** Applications by UUID. */
  private readonly applications = new Map<string, StoredApplication>();
  /** Key mappings by `${applicationUUID}/${keyType}/${keyManager}`. */
  private readonly keyMappings = new Map<string, StoredKeyMapping>();
  /** Subscriptions by `${applicationUUID}/${apiUUID}`. */
  private readonly subscriptions = new Map<string, StoredSubscription>();

  putApplication(app: StoredApplication): void {
    this.applications.set(app.uuid, app);
  }

  getApplication(uuid: string): StoredApplication | undefined {
    return this.applications.get(uuid);
  }

  putKeyMapping(k: StoredKeyMapping): void {
    this.keyMappings.set(`${k.applicationUUID}/${k.keyType}/${k.keyManager}`, k);
  }

  /** Sets a subscription's state; ids the change does not carry are kept from what was known. */
  putSubscription(applicationUUID: string, apiUUID: string, sub: StoredSubscription): void {
    const key = `${applicationUUID}/${apiUUID}`;
    const known = this.subscriptions.get(key);
    this.subscriptions.set(key, {
      ...known,
      ...Object.fromEntries(Object.entries(sub).filter(([, v]) => v !== undefined)),
    } as StoredSubscription);
  }

  getSubscription(applicationUUID: string, apiUUID: string): StoredSubscription | undefined {
    return this.subscriptions.get(`${applicationUUID}/${apiUUID}`);
  }

  /** A subscription removed (SUBSCRIPTIONS_DELETE: KeyManagerDataServiceImpl.removeSubscription). */
  removeSubscription(applicationUUID: string, apiUUID: string): void {
    this.subscriptions.delete(`${applicationUUID}/${apiUUID}`);
  }

  /** An application gone: its keys and subscriptions with it. */
  removeApplication(uuid: string): void {
    this.applications.delete(uuid);
    for (const key of [...this.keyMappings.keys()]) if (key.startsWith(`${uuid}/`)) this.keyMappings.delete(key);
    for (const key of [...this.subscriptions.keys()]) if (key.startsWith(`${uuid}/`)) this.subscriptions.delete(key);
  }

  /** The applications subscribed to an API, with their subscriptions. */
  subscribersOf(apiUUID: string): { applicationUUID: string; sub: StoredSubscription }[] {
    return [...this.subscriptions]
      .filter(([key]) => key.endsWith(`/${apiUUID}`))
      .map(([key, sub]) => ({ applicationUUID: key.slice(0, key.indexOf('/')), sub }));
  }

  /**
   * `GET /applications?name=&uuid=` (rest.api.gateway ApplicationsApiServiceImpl, carbon-apimgt
   * 9.29.120): `name` wins over `uuid` (every application of that exact name); neither, 400; none
   * found, 200 with an empty list. Each with its keys (`GatewayUtils.generateApplicationList`).
   */
  applicationsAnswer(name: string | null, uuid: string | null): Res {
    let found: StoredApplication[];
    if (name) found = [...this.applications.values()].filter((a) => a.name === name);
    else if (uuid) found = this.applications.has(uuid) ? [this.applications.get(uuid)!] : [];
    else return MISSING();
    const list = found.map((a) => ({
      uuid: a.uuid,
      id: a.id,
      name: a.name,
      subName: a.subName,
      policy: a.policy,
      tokenType: a.tokenType,
      attributes: a.attributes,
      keys: [...this.keyMappings.values()]
        .filter((k) => k.applicationId === a.id)
        .map((k) => ({ consumerKey: k.consumerKey, keyType: k.keyType, keyManager: k.keyManager })),
    }));
    return json(200, { count: list.length, list });
  }

  /**
   * `GET /subscriptions?apiUUID=&appUUID=` (SubscriptionsApiServiceImpl): both required (else
   * 400); none, 404 with no body; else the subscription with its integer ids
   * (`GatewayUtils.convertToSubscriptionDto`: no UUIDs).
   */
  subscriptionAnswer(apiUUID: string | null, appUUID: string | null): Res {
    if (!apiUUID || !appUUID) return MISSING();
    const sub = this.getSubscription(appUUID, apiUUID);
    if (!sub) return { status: 404, contentType: 'application/json', body: '' };
    return json(200, {
      subscriptionId: sub.subscriptionId,
      policyId: sub.policy,
      apiId: sub.apiId,
      appId: sub.appId,
      subscriptionState: sub.status,
    });
  }
}
