import { randomUUID } from 'crypto';
import { json, restError } from '../http';
import type { Operations } from './rest';
import type { Environment, EnvironmentRepository, PolicyLevel, ThrottlePolicyRepository } from './repositories';
import type { Row } from '../db';
import { notFound } from './views';

/** What the admin operations work on. */
export interface AdminDeps {
  readonly environments: EnvironmentRepository;
  readonly policies: ThrottlePolicyRepository;
}

/** A request-count policy as the admin API returns it (`ApplicationThrottlePolicy`, `SubscriptionThrottlePolicy`). */
function policyOf(level: PolicyLevel, row: Row): Record<string, unknown> {
  return {
    policyId: row.UUID,
    policyName: row.NAME,
    displayName: row.DISPLAY_NAME ?? row.NAME,
    description: row.DESCRIPTION ?? '',
    isDeployed: !!row.IS_DEPLOYED,
    type: level === 'application' ? 'ApplicationThrottlePolicy' : 'SubscriptionThrottlePolicy',
    defaultLimit: {
      type: 'REQUESTCOUNTLIMIT',
      requestCount: { timeUnit: row.TIME_UNIT, unitTime: row.UNIT_TIME, requestCount: row.QUOTA },
    },
    ...(level === 'subscription'
      ? { stopOnQuotaReach: !!row.STOP_ON_QUOTA_REACH, billingPlan: row.BILLING_PLAN, customAttributes: [] }
      : {}),
  };
}

/** A policy's request body, as far as the stand-in keeps it (request-count limits only). */
interface PolicyInput {
  readonly policyName: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly stopOnQuotaReach?: boolean;
  readonly defaultLimit: {
    readonly type: string;
    readonly requestCount?: { readonly timeUnit: string; readonly unitTime: number; readonly requestCount: number };
  };
}

/** GET, POST, GET one and DELETE of the throttling policies of one level. */
function policyOperations(policies: ThrottlePolicyRepository, level: PolicyLevel): Operations {
  const base = `/throttling/policies/${level}`;
  return {
    async [`GET ${base}`]() {
      const list = (await policies.list(level)).map((row) => policyOf(level, row));
      return json(200, { count: list.length, list });
    },
    async [`POST ${base}`]({ body }) {
      const input = body as PolicyInput;
      const limit = input.defaultLimit.requestCount;
      if (input.defaultLimit.type !== 'REQUESTCOUNTLIMIT' || !limit) {
        return restError(
          400,
          'Bad Request',
          `The carbon-labs stand-in keeps request-count limits only (defaultLimit.type REQUESTCOUNTLIMIT with requestCount), not ${input.defaultLimit.type}`,
        );
      }
      const id = randomUUID();
      const added = await policies.add(level, {
        id,
        name: input.policyName,
        displayName: input.displayName ?? input.policyName,
        description: input.description ?? '',
        requestCount: limit.requestCount,
        unitTime: limit.unitTime,
        timeUnit: limit.timeUnit,
        stopOnQuotaReach: input.stopOnQuotaReach,
      });
      // 409 as the product answers it (a code the OpenAPI file does not list).
      if (!added)
        return restError(
          409,
          'Resource Already Exists',
          `${level === 'application' ? 'Application' : 'Subscription'} Policy with name ${input.policyName} already exists`,
        );
      return {
        status: 201,
        body: policyOf(level, (await policies.get(level, id))!),
        headers: { location: `/api/am/admin/v4${base}/${id}` },
      };
    },
    async [`GET ${base}/{policyId}`]({ match }) {
      const row = await policies.get(level, match.params.policyId);
      return row ? json(200, policyOf(level, row)) : notFound(`${level} policy`, match.params.policyId);
    },
    async [`DELETE ${base}/{policyId}`]({ match }) {
      const row = await policies.get(level, match.params.policyId);
      if (!row) return notFound(`${level} policy`, match.params.policyId);
      // A policy in use is refused as the product refuses it: a plain 500 (carbon-apimgt 9.29.120 ThrottlingApiServiceImpl).
      if (await policies.usage(level, String(row.NAME))) {
        return restError(
          500,
          'Internal server error',
          `Error while deleting ${level === 'application' ? 'Application' : 'Subscription'} level policy : ${String(row.UUID)}`,
        );
      }
      await policies.delete(level, String(row.UUID));
      return json(200);
    },
  };
}

/** An environment as the admin API lists it (`Environment` of admin v4); those of deployment.toml are read-only. */
function environmentOf(e: Environment): Record<string, unknown> {
  return {
    id: e.id ?? e.name,
    name: e.name,
    displayName: e.displayName ?? e.name,
    description: e.description,
    provider: e.provider,
    gatewayType: 'Regular',
    isReadOnly: !e.id,
    vhosts: e.vhosts.map((v) => ({
      host: v.host,
      httpContext: '',
      httpPort: v.httpPort,
      httpsPort: v.httpsPort,
      wsPort: v.wsPort,
      wssPort: v.wssPort,
    })),
    endpointURIs: [],
    additionalProperties: [],
  };
}

/** The operations of the admin REST API v4 that the stand-in implements. */
export function adminOperations({ environments, policies }: AdminDeps): Operations {
  return {
    ...policyOperations(policies, 'application'),
    ...policyOperations(policies, 'subscription'),
    async 'GET /environments'() {
      const list = (await environments.list()).map(environmentOf);
      return json(200, { count: list.length, list });
    },
    async 'POST /environments'({ body }) {
      const input = body as { name: string; displayName?: string; description?: string; provider?: string; vhosts: unknown[] };
      const exists = () => restError(409, 'Conflict', `Gateway environment ${input.name} already exists`);
      if ((await environments.list()).some((e) => e.name === input.name)) return exists();
      const id = randomUUID();
      const env = {
        id,
        name: input.name,
        displayName: input.displayName ?? input.name,
        description: input.description ?? '',
        provider: input.provider ?? 'wso2',
        vhosts: input.vhosts,
      };
      if (!(await environments.add(env))) return exists();
      return json(201, {
        id,
        name: env.name,
        displayName: env.displayName,
        description: env.description,
        provider: env.provider,
        gatewayType: 'Regular',
        isReadOnly: false,
        vhosts: env.vhosts,
        endpointURIs: [],
        additionalProperties: [],
      });
    },
  };
}
