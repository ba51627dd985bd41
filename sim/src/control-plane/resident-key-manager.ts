import type { NodeConfig } from '../config';
import type { KeyManagerDto } from '../key-managers';
import { send } from '../outbound';
import type { TokenIssuer } from '../tokens';
import type { TrustStore } from '../trust';
import type { KeyManagerRepository } from './repositories';

/** Name and organization of the key manager every control plane is (carbon-apimgt `APIConstants.KeyManager`). */
const RESIDENT = { name: 'Resident Key Manager', organization: 'carbon.super' } as const;

/**
 * Where a key manager's OIDC discovery answers, from its `service_url`: the URL up to `/services`,
 * then `/oauth2/token/.well-known/openid-configuration` (carbon-apimgt 9.31.86
 * `APIUtil.getAndSetDefaultKeyManagerConfiguration`, lines 9637-9642; `APIConstants` 2803).
 */
export const discoveryUrlOf = (serviceUrl: string): string =>
  `${serviceUrl.split('/services')[0]}/oauth2/token/.well-known/openid-configuration`;

/**
 * This node's `GET /oauth2/token/.well-known/openid-configuration` (identity-inbound-auth-oauth
 * v6.13.27 `ProviderConfigBuilder`, lines 60-82): its token issuer, its endpoints on the node's
 * public origin, and `jwks_uri`, `[oauth.endpoints] oauth2_jwks_url` or its default.
 */
export function discoveryDocument(config: NodeConfig, tokens: TokenIssuer): Record<string, unknown> {
  const origin = config.publicOrigin;
  return {
    issuer: tokens.issuer,
    authorization_endpoint: `${origin}/oauth2/authorize`,
    token_endpoint: `${origin}/oauth2/token`,
    revocation_endpoint: `${origin}/oauth2/revoke`,
    jwks_uri: config.jwksUrl,
    grant_types_supported: ['client_credentials', 'password'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

/**
 * The Resident Key Manager as `/internal/data/v1/keymanagers` gives it to gateways, built on every
 * read as `APIUtil.getAndSetDefaultKeyManagerConfiguration` builds it (lines 9615-9731): the
 * endpoints from `[apim.key_manager] service_url`, and `issuer` and `certificate_value` (the JWKS
 * URL gateways fetch) from a real HTTPS call to that URL's OIDC discovery, verified against the
 * node's truststore. A discovery that fails is an error ("Error in fetching Open ID
 * configuration."), not a configuration without a JWKS. `token_format_string` and
 * `claim_mappings`, which no gateway of a lab reads, are left out.
 */
export async function residentKeyManager(
  config: NodeConfig,
  trust: TrustStore,
  keyManagers: Pick<KeyManagerRepository, 'residentUuid'>,
): Promise<KeyManagerDto> {
  const serverUrl = config.keyManagerServiceUrl;
  const base = serverUrl.split('/services')[0];
  const discoveryUrl = discoveryUrlOf(serverUrl);
  const res = await send(discoveryUrl, { method: 'GET', headers: { accept: 'application/json' }, rawBody: '' }, 5000, trust);
  const discovery = res.status === 200 ? parseObject(String(res.body)) : undefined;
  if (!discovery) {
    throw new Error(`Error in fetching Open ID configuration. (${discoveryUrl}: ${res.failure ?? `answered ${res.status}`})`);
  }
  return {
    uuid: await keyManagers.residentUuid(RESIDENT.name, RESIDENT.organization),
    name: RESIDENT.name,
    type: 'default',
    enabled: true,
    organization: RESIDENT.organization,
    tokenType: 'DIRECT',
    additionalProperties: {
      ServerURL: serverUrl,
      'OAuthConfigurations.EncryptPersistedTokens': false,
      RevokeURL: `${base}/oauth2/revoke`,
      TokenURL: `${base}/oauth2/token`,
      grant_types: ['client_credentials', 'password'],
      enable_token_hash: false,
      enable_oauth_app_creation: true,
      enable_map_oauth_consumer_apps: false,
      enable_token_generation: true,
      token_endpoint: `${base}/oauth2/token`,
      revoke_endpoint: `${base}/oauth2/revoke`,
      VALIDITY_PERIOD: '3600',
      validation_enable: true,
      self_validate_jwt: true,
      issuer: discovery.issuer,
      certificate_type: 'JWKS',
      certificate_value: discovery.jwks_uri,
    },
  };
}

/** A JSON object, or undefined for anything else. */
function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
