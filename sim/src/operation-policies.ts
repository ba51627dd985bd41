import { createHash } from 'crypto';

/**
 * Operation policies as APIM 4.3.0 has them (docs/real-product.md, "Operation policies"; sources:
 * product-apim v4.3.0 `resources/operation_policies/`, carbon-apimgt 9.29.120 `fb680d80`).
 *
 * The product ships 24 common policies; the stand-in carries those whose effect it can apply on a
 * gateway without Synapse: the header, method, path and query policies and the log policy. Their
 * names, versions, flows and attributes (with their validation patterns) are the product's; their
 * ids are derived from name and version (the product's are random per organisation).
 */

export type Flow = 'request' | 'response' | 'fault';

export interface PolicyAttribute {
  readonly name: string;
  readonly displayName: string;
  readonly description: string;
  readonly validationRegex?: string;
  readonly type: 'String' | 'Boolean' | 'Integer' | 'Enum' | 'Map';
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly allowedValues?: readonly string[];
}

export interface PolicySpec {
  readonly category: 'Mediation' | 'Security';
  readonly name: string;
  readonly version: string;
  readonly displayName: string;
  readonly description: string;
  readonly applicableFlows: readonly Flow[];
  readonly supportedGateways: readonly string[];
  readonly supportedApiTypes: readonly string[];
  readonly policyAttributes: readonly PolicyAttribute[];
}

/** An applied policy, as an operation's `operationPolicies.request|response|fault` holds it. */
export interface AppliedPolicy {
  readonly policyName: string;
  readonly policyVersion?: string;
  readonly policyId?: string;
  readonly parameters?: Record<string, unknown>;
}

export type AppliedPolicies = Partial<Record<Flow, readonly AppliedPolicy[]>>;

const ALL_FLOWS: readonly Flow[] = ['request', 'response', 'fault'];
const mediation = (
  name: string,
  version: string,
  displayName: string,
  description: string,
  applicableFlows: readonly Flow[],
  policyAttributes: readonly PolicyAttribute[] = [],
): PolicySpec => ({
  category: 'Mediation',
  name,
  version,
  displayName,
  description,
  applicableFlows,
  supportedGateways: ['Synapse'],
  supportedApiTypes: ['HTTP'],
  policyAttributes,
});
const text = (name: string, displayName: string, description: string, validationRegex: string): PolicyAttribute => ({
  name,
  displayName,
  description,
  validationRegex,
  type: 'String',
  required: true,
});

/** specifications/<name>_<version>.json of product-apim v4.3.0: those the stand-in's gateways apply. */
export const COMMON_POLICIES: readonly PolicySpec[] = [
  mediation('addHeader', 'v2', 'Add Header', 'Adds a header to the request, the response or the fault', ALL_FLOWS, [
    text('headerName', 'Header Name', 'Name of the header to be added', '^.+$'),
    text('headerValue', 'Header Value', 'Value of the header', '^.+$'),
  ]),
  mediation('removeHeader', 'v1', 'Remove Header', 'Removes a header from the request, the response or the fault', ALL_FLOWS, [
    text('headerName', 'Header Name', 'Name of the header to be removed', '^([a-zA-Z_][a-zA-Z\\d_\\-\\ ]*)$'),
  ]),
  mediation(
    'changeHTTPMethod',
    'v1',
    'Change HTTP Method',
    'Changes the HTTP method of the request to the backend',
    ['request'],
    [
      {
        name: 'httpMethod',
        displayName: 'HTTP Method',
        description: 'Method of the HTTP request',
        validationRegex: '^(GET|PUT|POST|PATCH|DELETE|HEAD|OPTIONS)$',
        type: 'Enum',
        required: true,
        allowedValues: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
      },
    ],
  ),
  mediation(
    'rewriteResourcePath',
    'v3',
    'Rewrite Resource Path',
    'Rewrites the resource path of the request to the backend',
    ['request'],
    [
      text('newResourcePath', 'New Resource Path', 'The new resource path', '^/?([a-zA-Z0-9!@#\\$%\\^\\&*\\)\\(+=._\\-~:,\\?{}/]*)$'),
      {
        name: 'includeQueryParams',
        displayName: 'Include Query Parameters',
        description: "Whether the request's query parameters are kept",
        validationRegex: '^(true|false)$',
        type: 'Boolean',
        required: false,
        defaultValue: 'true',
      },
    ],
  ),
  mediation(
    'addQueryParam',
    'v1',
    'Add Query Param',
    'Adds a query parameter to the request to the backend',
    ['request'],
    [
      text('paramKey', 'Parameter Key', "The query parameter's key, URL encoded", '^([a-zA-Z_\\%][a-zA-Z\\d_\\-\\ \\%]*)$'),
      text('paramValue', 'Parameter Value', "The query parameter's value, URL encoded", '^([a-zA-Z\\d_\\%][a-zA-Z\\d_\\-\\ \\%]*)$'),
    ],
  ),
  mediation('addLogMessage', 'v1', 'Log Policy', 'Logs the message in full', ALL_FLOWS),
];

/** A common policy's id: stable for its name and version (UUID-shaped), the same on every node. */
export function commonPolicyId(spec: Pick<PolicySpec, 'name' | 'version'>): string {
  const h = createHash('sha1').update(`carbon-labs common operation policy ${spec.name}_${spec.version}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `OperationPolicyData` of the publisher API (OperationPolicyMappingUtil): `isAPISpecific` for an API's own or cloned ones. */
export function policyData(spec: PolicySpec, id: string, apiSpecific: boolean): Record<string, unknown> {
  return {
    category: spec.category,
    id,
    name: spec.name,
    version: spec.version,
    displayName: spec.displayName,
    description: spec.description,
    applicableFlows: spec.applicableFlows,
    supportedGateways: spec.supportedGateways,
    supportedApiTypes: spec.supportedApiTypes,
    isAPISpecific: apiSpecific,
    md5: createHash('md5').update(JSON.stringify(spec)).digest('hex'),
    policyAttributes: spec.policyAttributes.map((a) => ({ ...a, allowedValues: a.allowedValues ?? [] })),
  };
}

/** A common policy cloned into an API when it is applied to it (ApiMgtDAO.handlePolicyCloning): its own id. */
export interface PolicyClone {
  readonly id: string;
  readonly clonedFrom: string;
  readonly name: string;
  readonly version: string;
}

/**
 * Checks the policies applied to an API's operations and the API itself as `APIProviderImpl.validatePolicies`
 * and `validateAppliedPolicyWithSpecification` do (l.1669-1814), and gives each its API-specific id:
 * a common policy applied is cloned into the API once (a new id, reused after). The first failure's
 * message, which the product wraps in its 500, or the policies with their ids and the clones the API
 * now needs (those no operation uses any more are dropped, as `cleanUnusedClonedOperationPolicies`).
 */
export function resolveAppliedPolicies(
  groups: readonly AppliedPolicies[],
  apiType: string,
  clones: readonly PolicyClone[],
  newId: () => string,
): { ok: true; groups: AppliedPolicies[]; clones: PolicyClone[] } | { ok: false; message: string } {
  const kept: PolicyClone[] = [];
  const cloneOf = (spec: PolicySpec): PolicyClone => {
    const common = commonPolicyId(spec);
    const clone = kept.find((c) => c.clonedFrom === common) ??
      clones.find((c) => c.clonedFrom === common) ?? { id: newId(), clonedFrom: common, name: spec.name, version: spec.version };
    if (!kept.includes(clone)) kept.push(clone);
    return clone;
  };
  const out: AppliedPolicies[] = [];
  for (const group of groups) {
    const resolved: Partial<Record<Flow, AppliedPolicy[]>> = {};
    for (const flow of ALL_FLOWS) {
      for (const applied of group[flow] ?? []) {
        const version = applied.policyVersion ?? 'v1';
        let spec: PolicySpec | undefined;
        if (applied.policyId) {
          const clone = clones.find((c) => c.id === applied.policyId);
          spec = COMMON_POLICIES.find((p) => (clone ? commonPolicyId(p) === clone.clonedFrom : commonPolicyId(p) === applied.policyId));
          if (!spec) return { ok: false, message: `Selected policy ${applied.policyId} is not found.` };
          // The API-specific (clone) and the common lookups say it in their own words (l.1690-1730).
          if (spec.name !== applied.policyName || spec.version !== version)
            return {
              ok: false,
              message: `Applied policy ${clone ? '' : 'for uriTemplate '}${applied.policyName}_${version} does not match the specification`,
            };
        } else {
          spec = COMMON_POLICIES.find((p) => p.name === applied.policyName && p.version === version);
          if (!spec) return { ok: false, message: `Selected policy ${applied.policyName} is not found.` };
        }
        if (!spec.applicableFlows.includes(flow)) return { ok: false, message: `${spec.name} cannot be used in the ${flow} flow.` };
        if (!spec.supportedApiTypes.includes(apiType))
          return { ok: false, message: `${spec.name} cannot be used for the ${apiType} API type.` };
        const parameters = applied.parameters ?? {};
        for (const attribute of spec.policyAttributes.filter((a) => a.required)) {
          const value = parameters[attribute.name];
          if (value === undefined || value === null)
            return {
              ok: false,
              message: `Required policy attribute ${attribute.name} is not found for the policy ${spec.name} ${flow} flow.`,
            };
          if (attribute.validationRegex && !new RegExp(`^(?:${attribute.validationRegex})$`, 'i').test(String(value)))
            return { ok: false, message: `Policy attribute ${attribute.name} regex validation error.` };
        }
        (resolved[flow] ??= []).push({ policyName: spec.name, policyVersion: spec.version, policyId: cloneOf(spec).id, parameters });
      }
    }
    out.push({ request: resolved.request ?? [], response: resolved.response ?? [], fault: resolved.fault ?? [] });
  }
  return { ok: true, groups: out, clones: kept };
}

/** What a request to the backend is made of, as the gateway's request flow changes it. */
export interface OutboundRequest {
  method: string;
  /** The resource path after the API's context and version, without the query. */
  path: string;
  /** The query string, without `?` (empty when none). */
  query: string;
  headers: Record<string, string>;
}

/** Jinja's truth: a non-empty string (also "false") or a non-zero number is true; a missing value false. */
const truthy = (v: unknown): boolean => v === true || (typeof v === 'string' && v !== '') || (typeof v === 'number' && v !== 0);

/**
 * The request flow's policies in order (the API's, then the operation's), as their Synapse templates
 * act (product-apim v4.3.0 `definitions/*.j2`): a header set or removed on the request to the backend,
 * its method changed, its path rewritten (the query kept only with `includeQueryParams`, which
 * Jinja reads as a truthy value, so the string "false" keeps it too and a missing one drops it), a
 * query parameter added; the log policy logs.
 */
export function applyRequestFlow(
  policies: readonly AppliedPolicy[],
  request: OutboundRequest,
  log: (line: string) => void,
): OutboundRequest {
  const out = { ...request, headers: { ...request.headers } };
  for (const p of policies) {
    const params = p.parameters ?? {};
    if (p.policyName === 'addHeader') out.headers[String(params.headerName).toLowerCase()] = String(params.headerValue);
    else if (p.policyName === 'removeHeader') delete out.headers[String(params.headerName).toLowerCase()];
    else if (p.policyName === 'changeHTTPMethod') out.method = String(params.httpMethod).toUpperCase();
    else if (p.policyName === 'rewriteResourcePath') {
      const path = String(params.newResourcePath);
      out.path = path.startsWith('/') ? path : `/${path}`;
      if (!truthy(params.includeQueryParams)) out.query = '';
    } else if (p.policyName === 'addQueryParam')
      out.query = `${out.query ? `${out.query}&` : ''}${String(params.paramKey)}=${String(params.paramValue)}`;
    else if (p.policyName === 'addLogMessage')
      log(`${out.method} ${out.path}${out.query ? `?${out.query}` : ''} headers ${JSON.stringify(out.headers)}`);
  }
  return out;
}

/** The response flow's header policies on the response to the client; the log policy logs. */
export function applyResponseFlow(
  policies: readonly AppliedPolicy[],
  headers: Record<string, string>,
  status: number,
  log: (line: string) => void,
): Record<string, string> {
  const out = { ...headers };
  for (const p of policies) {
    const params = p.parameters ?? {};
    if (p.policyName === 'addHeader') out[String(params.headerName).toLowerCase()] = String(params.headerValue);
    else if (p.policyName === 'removeHeader') delete out[String(params.headerName).toLowerCase()];
    else if (p.policyName === 'addLogMessage') log(`response ${status} headers ${JSON.stringify(out)}`);
  }
  return out;
}

/** Whether an API's body applies any policy (to the API or to one of its operations). */
export function hasPolicies(api: Record<string, unknown>): boolean {
  const some = (g: unknown) =>
    !!g && typeof g === 'object' && Object.values(g as AppliedPolicies).some((list) => Array.isArray(list) && list.length > 0);
  return (
    some(api.apiPolicies) ||
    (Array.isArray(api.operations) && api.operations.some((o) => some((o as { operationPolicies?: unknown }).operationPolicies)))
  );
}
