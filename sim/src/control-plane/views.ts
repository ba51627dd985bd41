import type { Res } from '../http';
import { restError } from '../http';
import type { KeyManagerDto } from '../key-managers';
import type { ApiDoc } from '../store';
import type { InternalSubscription, StoredApplication, StoredKeyMapping } from '../subscription-data';
import { idOf } from './repositories';

/** A row of the API Manager database, column name to value. */
type DbRow = Readonly<Record<string, unknown>>;

/** An epoch time in milliseconds as the REST APIs write times. */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** The product's 404 for a resource named by id. */
export function notFound(what: string, id: string): Res {
  return restError(404, 'Not Found', `Requested ${what} with Id '${id}' not found`);
}

/** The `Pagination` block of the REST APIs' list answers. */
export interface Pagination {
  readonly offset: number;
  readonly limit: number;
  readonly total: number;
  readonly next: string;
  readonly previous: string;
}

/** A list answer with its pagination block; the stand-in returns every item on one page. */
export function paginated<T>(list: readonly T[]): { readonly count: number; readonly list: readonly T[]; readonly pagination: Pagination } {
  return { count: list.length, list, pagination: { offset: 0, limit: 25, total: list.length, next: '', previous: '' } };
}

/** An API as the publisher lists it (`APIInfo` of publisher v4). */
export function apiInfo(api: ApiDoc): Record<string, unknown> {
  return {
    id: api.id,
    name: api.name,
    description: api.description ?? '',
    context: api.context,
    version: api.version,
    provider: api.provider,
    type: api.type ?? 'HTTP',
    lifeCycleStatus: api.lifeCycleStatus,
    hasThumbnail: false,
    securityScheme: [],
    createdTime: api.createdTime,
    updatedTime: api.lastUpdatedTime,
    gatewayVendor: 'wso2',
    advertiseOnly: false,
    additionalProperties: [],
    additionalPropertiesMap: {},
  };
}

/** A row of AM_APPLICATION as the devportal returns it (`Application` of devportal v3). */
export function applicationOf(row: DbRow): Record<string, unknown> {
  return {
    applicationId: row.UUID,
    name: row.NAME,
    throttlingPolicy: row.APPLICATION_TIER,
    description: row.DESCRIPTION ?? '',
    tokenType: row.TOKEN_TYPE ?? 'JWT',
    status: 'APPROVED',
    groups: [],
    subscriptionCount: 0,
    keys: [],
    attributes: {},
    subscriptionScopes: [],
    owner: row.OWNER,
    hashEnabled: false,
  };
}

/** A row of AM_APPLICATION as gateways keep it (the store's `Application`: integer id, owner as `subName`). */
export function gatewayApplicationOf(row: DbRow): StoredApplication {
  return {
    id: Number(row.APPLICATION_ID),
    uuid: String(row.UUID),
    name: String(row.NAME),
    subName: String(row.OWNER),
    policy: String(row.APPLICATION_TIER ?? 'Unlimited'),
    tokenType: String(row.TOKEN_TYPE ?? 'JWT'),
    attributes: {},
  };
}

/** A row of AM_APPLICATION_KEY_MAPPING (read with its application's APPLICATION_ID) as gateways keep it. */
export function gatewayKeyMappingOf(row: DbRow): StoredKeyMapping {
  return {
    applicationId: Number(row.APPLICATION_ID),
    applicationUUID: String(row.APPLICATION_UUID),
    consumerKey: String(row.CONSUMER_KEY),
    keyType: String(row.KEY_TYPE),
    keyManager: String(row.KEY_MANAGER),
  };
}

/** A row of AM_SUBSCRIPTION (read with its integer ids) as the internal data API gives it to gateways. */
export function internalSubscriptionOf(row: DbRow): InternalSubscription {
  return {
    subscriptionId: Number(row.SUBSCRIPTION_ID),
    subscriptionUUID: String(row.UUID),
    apiId: idOf(row.API_ID),
    apiUUID: String(row.API_UUID),
    appId: idOf(row.APPLICATION_ID),
    appUUID: String(row.APPLICATION_UUID),
    policyId: String(row.TIER_ID ?? 'Unlimited'),
    subscriptionState: String(row.SUB_STATUS),
  };
}

/** A row of AM_SUBSCRIPTION as the devportal returns it (`Subscription` of devportal v3). */
export function subscriptionOf(row: DbRow): Record<string, unknown> {
  return {
    subscriptionId: row.UUID,
    applicationId: row.APPLICATION_UUID,
    apiId: row.API_UUID,
    throttlingPolicy: row.TIER_ID,
    requestedThrottlingPolicy: row.TIER_ID,
    status: row.SUB_STATUS,
  };
}

/**
 * The revisions of one API as the publisher lists them (`APIRevision` of publisher v4): rows of
 * AM_REVISION, each with the rows of AM_DEPLOYMENT_REVISION_MAPPING that deploy it.
 */
export function revisionsOf(apiId: string, revisions: readonly DbRow[], deployments: readonly DbRow[]): Record<string, unknown>[] {
  return revisions.map((r) => ({
    id: String(r.REVISION_UUID),
    displayName: `Revision ${r.REVISION_NUM}`,
    description: String(r.DESCRIPTION ?? ''),
    createdTime: iso(Number(r.CREATED_TIME)),
    apiInfo: { id: apiId },
    deploymentInfo: deployments
      .filter((d) => d.REVISION_UUID === r.REVISION_UUID)
      .map((d) => ({
        revisionUuid: String(d.REVISION_UUID),
        name: String(d.NAME),
        vhost: String(d.VHOST),
        status: 'APPROVED',
        displayOnDevportal: !!d.DISPLAY_ON_DEVPORTAL,
        deployedTime: iso(Number(d.DEPLOYED_TIME)),
        successDeployedTime: iso(Number(d.DEPLOYED_TIME)),
      })),
  }));
}

/** An API as the devportal shows it (`API` of devportal v3): what a subscriber needs, not the publisher's settings. */
export function devportalApi(api: ApiDoc): Record<string, unknown> {
  return {
    id: api.id,
    name: api.name,
    description: api.description ?? '',
    context: api.context,
    version: api.version,
    provider: api.provider,
    lifeCycleStatus: api.lifeCycleStatus,
    isDefaultVersion: api.isDefaultVersion === true,
    type: api.type ?? 'HTTP',
    transport: api.transport ?? ['http', 'https'],
    tags: [],
    additionalProperties: [],
    hasThumbnail: false,
    tiers: ((api.policies as string[] | undefined) ?? ['Unlimited']).map((tierName) => ({ tierName, tierPlan: 'FREE' })),
    securityScheme: ['oauth2'],
    isSubscriptionAvailable: true,
    createdTime: api.createdTime,
    lastUpdatedTime: api.lastUpdatedTime,
    gatewayVendor: 'wso2',
  };
}

/** A key manager as the devportal lists it (`KeyManagerInfo` of devportal v3), from its configuration. */
export function keyManagerInfo(km: KeyManagerDto): Record<string, unknown> {
  const p = km.additionalProperties;
  return {
    id: km.uuid,
    name: km.name,
    type: km.type,
    displayName: km.name,
    description: `This is ${km.name}`,
    enabled: km.enabled,
    availableGrantTypes: p.grant_types ?? [],
    tokenEndpoint: p.token_endpoint,
    revokeEndpoint: p.revoke_endpoint,
    enableTokenGeneration: p.enable_token_generation === true,
    enableTokenEncryption: false,
    enableTokenHashing: p.enable_token_hash === true,
    enableOAuthAppCreation: p.enable_oauth_app_creation === true,
    enableMapOAuthConsumerApps: p.enable_map_oauth_consumer_apps === true,
    applicationConfiguration: [],
    additionalProperties: {},
    tokenType: km.tokenType,
  };
}
