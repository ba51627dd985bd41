import type { Distribution } from './config';
import { productVersion } from './config';

/** What one `server.server_role` value of infer.json sets: configuration key to value. */
type Inferences = Readonly<Record<string, unknown>>;

const TOKEN_GENERATOR = { 'oauth.extensions.token_generator': 'org.wso2.carbon.identity.oauth2.token.OauthTokenIssuerImpl' };

/** The `default` maps of the 4.5.0 distributions. */
const ACP_45: Inferences = {
  ...TOKEN_GENERATOR,
  'apim.key_manager.enable_retriever': true,
  'apim.key_manager.enable_registration': true,
  'apim.throttling.enable_data_publishing': false,
  'apim.throttling.enable_decision_connection': false,
  'apim.throttling.enable_blacklist_condition': false,
  'transport.ws.sender.enable': false,
  'transport.wss.sender.enable': false,
  'apim.sync_runtime_artifacts.gateway.enable': 'false',
  'apim.ai.llm_provider_events_enabled': true,
};
const GATEWAY_45: Inferences = {
  ...TOKEN_GENERATOR,
  'apim.throttling.enable_policy_deploy': false,
  'apim.throttling.enable_data_publishing': true,
  'apim.throttling.enable_decision_connection': true,
  'apim.throttling.enable_blacklist_condition': true,
  'indexing.enable': false,
  'apim.key_manager.enable_registration': false,
  'oauth.grant_type.token_exchange.enable': false,
  'apim.ai.llm_provider_events_enabled': false,
};
const TRAFFIC_MANAGER_45: Inferences = {
  ...TOKEN_GENERATOR,
  'apim.key_manager.enable_registration': true,
  'apim.key_manager.enable_retriever': false,
  'apim.throttling.enable_policy_deploy': false,
  'apim.throttling.enable_data_publishing': false,
  'apim.throttling.enable_decision_connection': false,
  'apim.throttling.enable_blacklist_condition': false,
  'oauth.grant_type.token_exchange.enable': false,
  'apim.ai.llm_provider_events_enabled': false,
};

/** One image's `server.server_role` map: the values it has, and what `default` sets. */
interface ServerRoles {
  readonly mapped: readonly string[];
  readonly default: Inferences;
}

/**
 * `server.server_role` of each image's `repository/resources/conf/infer.json`: the config tool
 * applies the settings of the value a node writes; a value the map lacks sets none of them, and
 * each key keeps its default (default.json). Sources: wso2/product-apim
 * `modules/distribution/product/src/main/resources/conf/infer.json` at v4.3.0 (lines 2-50), and
 * `{api-control-plane,gateway,traffic-manager}/modules/distribution/product/src/main/resources/conf/infer.json`
 * at v4.5.0 (lines 2-14/15) and v4.7.0 (lines 2-15/16), which map only `default`.
 */
const SERVER_ROLES: Readonly<Record<string, Readonly<Partial<Record<Distribution, ServerRoles>>>>> = {
  '4.3': {
    'all-in-one': {
      mapped: ['gateway-worker', 'api-key-manager-deprecated', 'traffic-manager', 'control-plane', 'default'],
      default: TOKEN_GENERATOR,
    },
  },
  '4.5': {
    acp: { mapped: ['default'], default: ACP_45 },
    'universal-gw': { mapped: ['default'], default: GATEWAY_45 },
    tm: { mapped: ['default'], default: TRAFFIC_MANAGER_45 },
  },
  // 4.7.0 adds the certificate manager's events to each map.
  '4.7': {
    acp: { mapped: ['default'], default: { ...ACP_45, 'apim.certificate_manager.events_enabled': true } },
    'universal-gw': { mapped: ['default'], default: { ...GATEWAY_45, 'apim.certificate_manager.events_enabled': false } },
    tm: { mapped: ['default'], default: { ...TRAFFIC_MANAGER_45, 'apim.certificate_manager.events_enabled': false } },
  },
};

/**
 * What a `server_role` value the image's infer.json does not map costs the node: the settings of
 * `default` it no longer gets, in a line for the startup log. Undefined when the value is mapped,
 * or when the stand-in does not know the version's infer.json.
 */
export function suppressedInferences(version: string, distribution: Distribution, serverRole: string): string | undefined {
  const { major, minor } = productVersion(version);
  const roles = SERVER_ROLES[`${major}.${minor}`]?.[distribution];
  if (!roles || roles.mapped.includes(serverRole)) return undefined;
  const lost = Object.entries(roles.default).map(([key, value]) => `${key} = ${JSON.stringify(value)}`);
  return (
    `server_role "${serverRole}" is not in infer.json's server.server_role (it maps ${roles.mapped.map((r) => `"${r}"`).join(', ')}): ` +
    `none of its settings apply, so these of "default" are not set and keep their defaults: ${lost.join(', ')} (carbon-labs stand-in)`
  );
}
