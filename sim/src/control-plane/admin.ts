import { randomUUID } from 'crypto';
import { json, restError } from '../http';
import type { Operations } from './rest';
import type { Environment, EnvironmentRepository } from './repositories';

/** What the admin operations work on. */
export interface AdminDeps {
  readonly environments: EnvironmentRepository;
}

/** An environment as the admin API lists it (`Environment` of admin v4); those of deployment.toml are read-only. */
function environmentOf(e: Environment): Record<string, unknown> {
  return {
    id: e.id ?? e.name, name: e.name, displayName: e.displayName ?? e.name,
    description: e.description, provider: e.provider, gatewayType: 'Regular', isReadOnly: !e.id,
    vhosts: e.vhosts.map((v) => ({ host: v.host, httpContext: '', httpPort: v.httpPort, httpsPort: v.httpsPort, wsPort: v.wsPort, wssPort: v.wssPort })),
    endpointURIs: [], additionalProperties: [],
  };
}

/** The operations of the admin REST API v4 that the stand-in implements. */
export function adminOperations({ environments }: AdminDeps): Operations {
  return {
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
        id, name: input.name, displayName: input.displayName ?? input.name, description: input.description ?? '',
        provider: input.provider ?? 'wso2', vhosts: input.vhosts,
      };
      if (!(await environments.add(env))) return exists();
      return json(201, {
        id, name: env.name, displayName: env.displayName, description: env.description, provider: env.provider,
        gatewayType: 'Regular', isReadOnly: false, vhosts: env.vhosts, endpointURIs: [], additionalProperties: [],
      });
    },
  };
}
