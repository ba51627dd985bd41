import { randomUUID } from 'crypto';
import type { EventHub } from '../eventhub';
import { json, log, restError } from '../http';
import type { ApiDoc, ApiStore } from '../store';
import { Conflict } from '../store';
import { availableTransitions, stateName, transition } from './lifecycle';
import type { Operations } from './rest';
import type { DefaultVersionRepository, EnvironmentRepository, RevisionRepository, SubscriptionRepository } from './repositories';
import { subscriptionIdsOf } from './repositories';
import { apiInfo, iso, notFound, paginated, revisionsOf, subscriptionOf } from './views';
import { ApiOperation, definitionOf, readDefinition, shownApi } from './definitions';
import {
  AppliedPolicies,
  COMMON_POLICIES,
  commonPolicyId,
  hasPolicies,
  PolicyClone,
  policyData,
  resolveAppliedPolicies,
} from '../operation-policies';

/** What the publisher's operations work on. */
export interface PublisherDeps {
  /** `[server] node_ip`: the origin of the events this node publishes. */
  readonly nodeName: string;
  readonly apis: ApiStore;
  readonly revisions: RevisionRepository;
  readonly subscriptions: SubscriptionRepository;
  readonly environments: EnvironmentRepository;
  readonly defaults: DefaultVersionRepository;
  readonly hub: EventHub;
}

/** A deployment as `POST /apis/{apiId}/deploy-revision` receives it (`APIRevisionDeployment`). */
interface DeploymentRequest {
  readonly name: string;
  readonly vhost?: string;
  readonly displayOnDevportal?: boolean;
}

/** The operations of the publisher REST API v4 that the stand-in implements. */
export function publisherOperations(deps: PublisherDeps): Operations {
  const { nodeName, apis, revisions, subscriptions, environments, defaults, hub } = deps;

  const revisionList = async (apiId: string) => revisionsOf(apiId, await revisions.list(apiId), await revisions.deployments(apiId));

  function publishEvent(type: 'DEPLOY_API_IN_GATEWAY' | 'REMOVE_API_FROM_GATEWAY' | 'API_UPDATE', apiId: string, labels: string[]): void {
    hub.publish({ type, eventId: randomUUID(), apiId, labels, origin: nodeName });
  }

  /** The other versions of an API (same name and provider). */
  const versionsOf = async (api: ApiDoc) =>
    (await apis.list()).filter((a) => a.name === api.name && a.provider === api.provider && a.id !== api.id);

  /**
   * `api` becomes its name's default version (ApiMgtDAO.addUpdateAPIAsDefaultVersion): the others
   * are no longer marked default; it is also the published default, which gateways serve on the
   * unversioned context, when it has a deployment; then the gateways of the previous published
   * default and of this one hear API_UPDATE (APIProviderImpl.updateAPI) and pull them again.
   */
  async function makeDefault(api: ApiDoc): Promise<void> {
    for (const other of await versionsOf(api))
      if (other.isDefaultVersion === true) await apis.update({ ...other, isDefaultVersion: false });
    const before = await defaults.get(api.name, String(api.provider));
    const deployed = await revisions.deployedEnvironments(api.id);
    await defaults.setDefault(api.name, String(api.provider), api.version, deployed.length > 0);
    if (!deployed.length || before?.published === api.version) return;
    await announcePublishedDefault(api, before?.published, deployed);
  }

  /**
   * `api` is no longer its name's default version (ApiMgtDAO.updateAPI → removeAPIFromDefaultVersion,
   * carbon-apimgt 9.29.120 l.7095-7106, 5912-5934): the whole AM_API_DEFAULT_VERSION row goes, its
   * published default with it, and its gateways hear API_UPDATE (APIProviderImpl.updateAPI
   * l.999-1006); they pull it again as no default and stop serving the context without a version.
   */
  async function unmakeDefault(api: ApiDoc): Promise<void> {
    await defaults.remove(api.name, String(api.provider));
    const deployed = await revisions.deployedEnvironments(api.id);
    if (deployed.length) publishEvent('API_UPDATE', api.id, deployed);
    log('INFO', 'APIProvider', `${api.name}:${api.version} is no longer the default version`);
  }

  /** The gateways of the previous published default and of `api` (deployed to `labels`) hear API_UPDATE. */
  async function announcePublishedDefault(api: ApiDoc, previous: string | undefined, labels: string[]): Promise<void> {
    const old = previous ? (await versionsOf(api)).find((a) => a.version === previous) : undefined;
    if (old) {
      const oldLabels = await revisions.deployedEnvironments(old.id);
      if (oldLabels.length) publishEvent('API_UPDATE', old.id, oldLabels);
    }
    publishEvent('API_UPDATE', api.id, labels);
    log('INFO', 'APIProvider', `${api.name}:${api.version} is the published default version${previous ? ` (was ${previous})` : ''}`);
  }

  async function setSubscriptionStatus(subscriptionId: string, status: string) {
    const sub = await subscriptions.get(subscriptionId);
    if (!sub) return notFound('Subscription', subscriptionId);
    await subscriptions.setStatus(subscriptionId, status);
    log('INFO', 'APIProvider', `Subscription ${subscriptionId} is now ${status}`);
    hub.publish({
      type: 'SUBSCRIPTIONS_UPDATE',
      eventId: randomUUID(),
      apiId: String(sub.API_UUID),
      applicationId: String(sub.APPLICATION_UUID),
      status,
      policy: String(sub.TIER_ID ?? 'Unlimited'),
      subscriptionIds: subscriptionIdsOf(sub),
      labels: [],
      origin: nodeName,
    });
    // The product answers with the subscription (the OpenAPI file describes no body).
    return json(200, subscriptionOf((await subscriptions.get(subscriptionId))!));
  }

  /** A common policy's clone in the API, by its id. */
  const cloneIn = (api: ApiDoc | undefined, id: string): PolicyClone | undefined =>
    ((api?.operationPolicyClones ?? []) as PolicyClone[]).find((c) => c.id === id);

  /** The API with its applied policies checked and given ids (clones of common policies), or why not. */
  function withPolicies(api: ApiDoc): { api: ApiDoc } | { refused: string } {
    const operations = (api.operations ?? []) as (Record<string, unknown> & { operationPolicies?: AppliedPolicies })[];
    // WS, SSE and WebSub APIs take none: they are dropped (APIProviderImpl l.1633-1642).
    if (['WS', 'SSE', 'WEBSUB'].includes(String(api.type ?? 'HTTP'))) {
      return {
        api: {
          ...api,
          apiPolicies: undefined,
          operations: operations.map(({ operationPolicies: _dropped, ...o }) => o),
          operationPolicyClones: [],
        },
      };
    }
    const resolved = resolveAppliedPolicies(
      [(api.apiPolicies ?? {}) as AppliedPolicies, ...operations.map((o) => o.operationPolicies ?? {})],
      String(api.type ?? 'HTTP'),
      (api.operationPolicyClones ?? []) as PolicyClone[],
      randomUUID,
    );
    if (!resolved.ok) return { refused: resolved.message };
    const [apiPolicies, ...perOperation] = resolved.groups;
    return {
      api: {
        ...api,
        apiPolicies,
        operations: operations.map((o, i) => ({ ...o, operationPolicies: perOperation[i] })),
        operationPolicyClones: resolved.clones,
      },
    };
  }

  return {
    async 'GET /apis'() {
      return json(200, paginated((await apis.list()).map(apiInfo)));
    },
    async 'POST /apis'({ body, claims }) {
      const input = body as Record<string, unknown> & { readonly name: string; readonly version: string };
      if (hasPolicies(input))
        return restError(
          501,
          'Not Implemented',
          'The carbon-labs stand-in applies operation policies through PUT /apis/{apiId}, not at creation',
        );
      const now = Date.now();
      const context = `/${String(input.context).replace(/^\/+/, '')}`;
      const api: ApiDoc = {
        type: 'HTTP',
        transport: ['http', 'https'],
        policies: ['Unlimited'],
        visibility: 'PUBLIC',
        ...input,
        id: randomUUID(),
        context,
        provider: claims.sub,
        lifeCycleStatus: 'CREATED',
        createdTime: String(now),
        lastUpdatedTime: String(now),
        gatewayVendor: 'wso2',
        isRevision: false,
      };
      try {
        await apis.insert(api);
      } catch (err) {
        if (err instanceof Conflict) return restError(409, 'Conflict', err.message);
        throw err;
      }
      if (api.isDefaultVersion === true) await makeDefault(api);
      log('INFO', 'APIProvider', `API ${api.name}:${api.version} created (${api.id}) by ${claims.sub}`);
      return { status: 201, body: api, headers: { location: `/api/am/publisher/v4/apis/${api.id}` } };
    },
    async 'GET /apis/{apiId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      return api ? json(200, shownApi(api)) : notFound('API', match.params.apiId);
    },
    // The working copy only: gateways keep the deployed revision until a new one is deployed.
    // As carbon-apimgt 9.29.120 PublisherCommonUtils.updateApi: name, version, context, provider,
    // type and lifecycle state in the body are ignored (the stored ones stay), as are the times.
    // An unknown id is the OpenAPI file's 404 (the product's catch turns it into a 500).
    async 'PUT /apis/{apiId}'({ match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const input = body as Record<string, unknown>;
      // The API is built from the body (APIMappingUtil.fromDTOtoAPI): `isDefaultVersion` left out is false.
      const edited: ApiDoc = {
        ...api,
        ...input,
        id: api.id,
        name: api.name,
        version: api.version,
        context: api.context,
        provider: api.provider,
        type: api.type,
        lifeCycleStatus: api.lifeCycleStatus,
        createdTime: api.createdTime,
        lastUpdatedTime: String(Date.now()),
        isRevision: false,
        isDefaultVersion: input.isDefaultVersion === true,
      };
      // Its operation and API policies checked and given their ids (APIProviderImpl.updateAPI l.962);
      // a refusal is the operation's generic 500 with the reason (ApisApiServiceImpl.updateAPI l.685-697).
      const policed = withPolicies(edited);
      if ('refused' in policed)
        return restError(500, 'Internal server error', `Error while updating the API : ${api.id} - ${policed.refused}`);
      const updated = policed.api;
      await apis.update(updated);
      const wasDefault = (await defaults.get(api.name, String(api.provider)))?.defaultVersion === api.version;
      if (updated.isDefaultVersion && !wasDefault) await makeDefault(updated);
      if (!updated.isDefaultVersion && wasDefault) await unmakeDefault(updated);
      return json(200, shownApi(updated));
    },
    // The definition (carbon-apimgt 9.29.120 ApisApiServiceImpl.getAPISwagger / updateAPISwagger,
    // PublisherCommonUtils.updateSwagger): the working copy's resources come from its paths; gateways
    // get them with the next revision deployed.
    async 'GET /apis/{apiId}/swagger'({ match }) {
      const api = await apis.get(match.params.apiId);
      return api ? json(200, definitionOf(api)) : notFound('API', match.params.apiId);
    },
    async 'PUT /apis/{apiId}/swagger'({ match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const form = (body ?? {}) as { apiDefinition?: string; url?: string; file?: string };
      if (form.url !== undefined && form.file === undefined)
        return restError(
          501,
          'Not Implemented',
          'The carbon-labs stand-in does not fetch a definition from a URL (the product does): send it as apiDefinition or file',
        );
      const text = form.file ?? form.apiDefinition;
      // The product dereferences the missing definition (OASParserUtil.validateAPIDefinition): its generic 500.
      if (text === undefined)
        return restError(500, 'Internal server error', 'The server encountered an internal error. Please contact administrator.');
      const read = readDefinition(text, (api.operations ?? []) as ApiOperation[]);
      if (!read.ok && 'failure' in read)
        return restError(
          500,
          'Internal server error',
          `Error while updating the swagger definition of the API: ${api.id} - ${read.failure}`,
        );
      if (!read.ok) {
        // RestApiUtil.getErrorDTO (l.154-172): the first error item is the body, the others its `error` list.
        const [first, ...rest] = read.items;
        return json(400, {
          code: first.code,
          message: first.message,
          description: first.description,
          moreInfo: '',
          error: rest.map((e) => ({ code: String(e.code), message: e.message, description: e.description })),
        });
      }
      const updated: ApiDoc = { ...api, operations: read.operations, apiDefinition: read.definition, lastUpdatedTime: String(Date.now()) };
      await apis.update(updated);
      log(
        'INFO',
        'APIProvider',
        `API ${api.name}:${api.version} definition updated: ${read.operations.map((o) => `${o.verb} ${o.target}`).join(', ')}`,
      );
      return json(200, definitionOf(updated));
    },
    // Operation policies (carbon-apimgt 9.29.120 OperationPoliciesApiServiceImpl, ApisApiServiceImpl
    // l.1916-2187): the common ones the stand-in's gateways apply, and an API's clones of them.
    async 'GET /operation-policies'({ req }) {
      const query = req.query.get('query');
      if (query !== null) {
        // `name:X version:Y`, space-separated, both to match (OperationPoliciesApiServiceImplUtils.getQueryParams).
        const asked = Object.fromEntries(query.split(' ').map((kv) => [kv.slice(0, kv.indexOf(':')), kv.slice(kv.indexOf(':') + 1)]));
        const found = COMMON_POLICIES.find((p) => p.name === asked.name && p.version === asked.version);
        if (!found)
          return restError(
            404,
            'API Policy Not Found with given name and version',
            `Requested api policy with name '${asked.name}' and version '${asked.version} not found`,
            903004,
          );
        return json(200, {
          count: 1,
          list: [policyData(found, commonPolicyId(found), false)],
          pagination: { offset: 0, limit: 1, total: 1 },
        });
      }
      const all = COMMON_POLICIES.map((p) => policyData(p, commonPolicyId(p), false));
      const offset = Number(req.query.get('offset') ?? 0);
      const limit = req.query.get('limit') === null ? all.length : Number(req.query.get('limit'));
      const page = all.slice(offset, offset + limit);
      return json(200, { count: page.length, list: page, pagination: { offset, limit, total: all.length } });
    },
    async 'GET /operation-policies/{operationPolicyId}'({ match }) {
      const found = COMMON_POLICIES.find((p) => commonPolicyId(p) === match.params.operationPolicyId);
      return found
        ? json(200, policyData(found, commonPolicyId(found), false))
        : notFound('operation-policies', match.params.operationPolicyId);
    },
    // An API's own policies: the stand-in takes no uploads, and its clones of common ones are not listed.
    async 'GET /apis/{apiId}/operation-policies'({ match }) {
      if (!(await apis.get(match.params.apiId))) return notFound('API', match.params.apiId);
      return json(200, { count: 0, list: [], pagination: { offset: 0, limit: 25, total: 0 } });
    },
    async 'GET /apis/{apiId}/operation-policies/{operationPolicyId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      const clone = cloneIn(api, match.params.operationPolicyId);
      const spec = clone && COMMON_POLICIES.find((p) => commonPolicyId(p) === clone.clonedFrom);
      return spec ? json(200, policyData(spec, clone.id, true)) : notFound('operation-policies', match.params.operationPolicyId);
    },
    async 'POST /apis/{apiId}/operation-policies'({ match }) {
      if (!(await apis.get(match.params.apiId))) return notFound('API', match.params.apiId);
      return restError(
        501,
        'Not Implemented',
        'The carbon-labs stand-in runs no Synapse templates: an API-specific policy could not be applied on its gateways, so it is not taken',
      );
    },
    async 'DELETE /apis/{apiId}/operation-policies/{operationPolicyId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      const clone = cloneIn(api, match.params.operationPolicyId);
      if (!api || !clone) return notFound('operation-policies', match.params.operationPolicyId);
      // A clone exists while an operation applies it (unused ones are dropped): always in use.
      return restError(
        500,
        'Internal server error',
        `Error while deleting the API specific operation policy with ID :${clone.id} for API ${api.id} Cannot delete operation policy with id ${clone.id} as policy usages exists`,
      );
    },
    // A new version: a copy of the API in CREATED, with no revisions, deployments or subscriptions.
    async 'POST /apis/copy-api'({ req, claims }) {
      const apiId = req.query.get('apiId') ?? '';
      const newVersion = req.query.get('newVersion') ?? '';
      const api = await apis.get(apiId);
      if (!api) return notFound('API', apiId);
      const now = Date.now();
      const copy: ApiDoc = {
        ...api,
        id: randomUUID(),
        version: newVersion,
        lifeCycleStatus: 'CREATED',
        isDefaultVersion: req.query.get('defaultVersion') === 'true',
        provider: api.provider ?? claims.sub,
        createdTime: String(now),
        lastUpdatedTime: String(now),
        isRevision: false,
      };
      try {
        await apis.insert(copy);
      } catch (err) {
        // As the product answers (carbon-apimgt 9.29.120 APIProviderImpl: API_VERSION_ALREADY_EXISTS),
        // although the OpenAPI file lists 201, 400 and 404 only.
        if (err instanceof Conflict)
          return restError(
            409,
            'The API version already exists.',
            `An API with version '${newVersion}' already exists for API '${api.name}'`,
            900252,
          );
        throw err;
      }
      if (copy.isDefaultVersion === true) await makeDefault(copy);
      log('INFO', 'APIProvider', `API ${api.name}:${newVersion} created from ${api.version} (${copy.id})`);
      return { status: 201, body: shownApi(copy), headers: { location: `/api/am/publisher/v4/apis/${copy.id}` } };
    },
    async 'POST /subscriptions/block-subscription'({ req }) {
      return setSubscriptionStatus(req.query.get('subscriptionId') ?? '', req.query.get('blockState') ?? '');
    },
    async 'POST /subscriptions/unblock-subscription'({ req }) {
      return setSubscriptionStatus(req.query.get('subscriptionId') ?? '', 'UNBLOCKED');
    },
    async 'DELETE /apis/{apiId}'({ match }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      // The product refuses while any subscription is left, whatever its state (carbon-apimgt
      // 9.29.120 publisher ApisApiServiceImpl.deleteAPI l.1157-1170, RestApiUtil.handleConflict).
      if ((await subscriptions.list({ apiId: api.id, applicationId: null })).length) {
        return restError(409, 'Conflict', `Cannot remove the API ${api.id} as active subscriptions exist`);
      }
      const deployedTo = await revisions.deployedEnvironments(api.id);
      await revisions.deleteForApi(api.id);
      await apis.delete(api.id);
      await defaults.forget(api.name, String(api.provider), api.version);
      if (deployedTo.length) publishEvent('REMOVE_API_FROM_GATEWAY', api.id, deployedTo);
      return json(200);
    },
    async 'GET /apis/{apiId}/revisions'({ match }) {
      if (!(await apis.get(match.params.apiId))) return notFound('API', match.params.apiId);
      const list = await revisionList(match.params.apiId);
      return json(200, { count: list.length, list });
    },
    async 'POST /apis/{apiId}/revisions'({ match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const id = randomUUID();
      await revisions.add({
        id,
        apiId: api.id,
        description: String((body as Record<string, unknown> | undefined)?.description ?? ''),
        apiDoc: JSON.stringify(api),
        createdTime: Date.now(),
      });
      const revision = (await revisionList(api.id)).find((r) => r.id === id);
      return { status: 201, body: revision, headers: { location: `/api/am/publisher/v4/apis/${api.id}/revisions/${id}` } };
    },
    async 'POST /apis/{apiId}/deploy-revision'({ req, match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const revisionId = req.query.get('revisionId') ?? '';
      if (!(await revisions.exists(revisionId, api.id))) return notFound('Revision', revisionId);
      const envs = await environments.list();
      const requested = body as DeploymentRequest[];
      for (const d of requested) {
        const env = envs.find((e) => e.name === d.name);
        if (!env) return restError(400, 'Bad Request', `Gateway environment not found: ${d.name}`);
        if (d.vhost && !env.vhosts.some((v) => v.host === d.vhost))
          return restError(400, 'Bad Request', `Invalid vhost: ${d.vhost} for environment ${d.name}`);
      }
      const now = Date.now();
      // Every name was found above; an environment's first vhost is its default.
      const deployments = requested.map((d) => ({
        apiId: api.id,
        environment: d.name,
        vhost: d.vhost ?? envs.find((e) => e.name === d.name)!.vhosts[0].host,
        revisionId,
        displayOnDevportal: d.displayOnDevportal !== false,
        deployedTime: now,
      }));
      for (const d of deployments) await revisions.deploy(d);
      // The default version deployed is the published default (APIProviderImpl.resumeDeployedAPIRevision:
      // deployToGateway, updateDefaultAPIPublishedVersion, an update event to the previous default).
      // The stand-in marks it before its deploy event, so a gateway's pull already sees it.
      const defaultNow = await defaults.get(api.name, String(api.provider));
      const newlyPublished = defaultNow?.defaultVersion === api.version && defaultNow.published !== api.version;
      if (newlyPublished) await defaults.setPublished(api.name, String(api.provider), api.version);
      publishEvent(
        'DEPLOY_API_IN_GATEWAY',
        api.id,
        requested.map((d) => d.name),
      );
      if (newlyPublished)
        await announcePublishedDefault(
          api,
          defaultNow.published,
          requested.map((d) => d.name),
        );
      // The spec lists 200; the product answers 201 (APIRevisionTestCase asserts 201).
      return json(
        201,
        deployments.map((d) => ({
          revisionUuid: revisionId,
          name: d.environment,
          status: 'APPROVED',
          vhost: d.vhost,
          displayOnDevportal: d.displayOnDevportal,
          deployedTime: iso(now),
          successDeployedTime: iso(now),
        })),
      );
    },
    // The deployments of one revision leave the environments named (or all of them); their
    // gateways hear REMOVE_API_FROM_GATEWAY. 201 with the API's deployments left, as the product.
    async 'POST /apis/{apiId}/undeploy-revision'({ req, match, body }) {
      const api = await apis.get(match.params.apiId);
      if (!api) return notFound('API', match.params.apiId);
      const revisionId = req.query.get('revisionId') ?? '';
      if (!(await revisions.exists(revisionId, api.id))) return notFound('Revision', revisionId);
      const deployed = (await revisions.deployments(api.id)).filter((d) => d.REVISION_UUID === revisionId).map((d) => String(d.NAME));
      const named =
        req.query.get('allEnvironments') === 'true' ? deployed : ((body as DeploymentRequest[] | undefined) ?? []).map((d) => d.name);
      const gone = named.filter((n) => deployed.includes(n));
      await revisions.undeploy(api.id, revisionId, gone);
      if (gone.length) publishEvent('REMOVE_API_FROM_GATEWAY', api.id, gone);
      const left = (await revisionList(api.id)).flatMap((r) => r.deploymentInfo as unknown[]);
      return json(201, left);
    },
    async 'POST /apis/change-lifecycle'({ req }) {
      const apiId = req.query.get('apiId') ?? '';
      const action = req.query.get('action') ?? '';
      const api = await apis.get(apiId);
      if (!api) return notFound('API', apiId);
      const next = transition(api.lifeCycleStatus, action);
      if (!next) return restError(400, 'Bad Request', `Action '${action}' is not allowed from state ${stateName(api.lifeCycleStatus)}`);
      await apis.update({ ...api, lifeCycleStatus: next, lastUpdatedTime: String(Date.now()) });
      return json(200, {
        workflowStatus: 'APPROVED',
        lifecycleState: { state: stateName(next), checkItems: [], availableTransitions: availableTransitions(next) },
      });
    },
  };
}
