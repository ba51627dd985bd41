import { DOMParser } from '@xmldom/xmldom';
import type { Document, Element } from '@xmldom/xmldom';
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';
import type { DatabaseConfig } from '../config';
import { parseJdbcUrl } from '../config';

/**
 * What a classic Carbon 4.4 node (APIM 2.6.0) reads from its XML files, as the stand-in obeys it:
 * the launcher's system properties, `axis2.xml` clustering, `carbon.xml`, the datasources the user
 * store names, `api-manager.xml`. Refused as Carbon refuses it; warned as Carbon warns.
 * @see ../../../docs/products.md, "The classic Carbon product"
 */

/** The OSGi profiles product-apim 2.6.0 builds (modules/p2-profile/product/pom.xml). */
export const PROFILES_260 = ['default', 'gateway-worker', 'api-key-manager', 'api-publisher', 'api-store', 'traffic-manager'] as const;

export interface Launcher {
  readonly workerNode: boolean;
  readonly profile: string;
}

/**
 * A profile the launcher cannot find: carbon-kernel v4.4.35 `org.wso2.carbon.server.Main` l.74-86
 * logs it at FATAL and throws a RuntimeException out of `main`, so the JVM ends with status 1 and
 * `wso2server.sh` (which restarts only on status 121) ends with it.
 */
export class LauncherError extends Error {
  constructor(readonly profile: string) {
    super(`OSGi runtime ${profile} profile not found`);
  }
}

/**
 * carbon-kernel v4.4.35 `Main`: every `-Dk=v` argument becomes a system property in order (the
 * script's own `-DworkerNode=false` comes first, so the container's arguments win); with
 * `workerNode=true` and no profile the launcher switches to the `worker` profile, which 2.6.0 does
 * not have. An error is what stops the node.
 */
export function launcher(argv: readonly string[]): Launcher {
  const props = new Map<string, string>();
  for (const arg of argv) {
    const m = /^-D([^=]+)=(.*)$/.exec(arg);
    if (m) props.set(m[1], m[2]);
  }
  const workerNode = props.get('workerNode') === 'true';
  const profile = props.get('profile') ?? (workerNode ? 'worker' : 'default');
  // Carbon's Main checks only the worker profile it picks itself (l.74-86); another unknown
  // profile fails later, in the OSGi launcher, which the stand-in does not model: it just stops.
  if (!props.has('profile') && workerNode && !(PROFILES_260 as readonly string[]).includes(profile)) throw new LauncherError(profile);
  if (!(PROFILES_260 as readonly string[]).includes(profile))
    throw new Error(`profile ${profile} is not one of 2.6.0's (${PROFILES_260.join(', ')})`);
  return { workerNode, profile };
}

export interface Clustering {
  readonly enabled: boolean;
  readonly scheme: string;
  readonly domain: string;
  readonly host: string;
  readonly port: number;
  readonly subDomain: string;
  readonly members: readonly { readonly host: string; readonly port: number }[];
}

/** An `<Environment>` of api-manager.xml: a gateway's admin services and its credentials. */
export interface GatewayEnvironment {
  readonly name: string;
  readonly serverUrl: string;
  readonly user: string;
  readonly password: string;
}

/** carbon-apimgt 6.4.50 `APIConstants`/`APIUtil`: a gateway cache's expiry when `TokenCacheExpiry` is not set. */
export const DEFAULT_TOKEN_CACHE_EXPIRY_SECONDS = 900;

/** An endpoint of the data bridge or a broker: `tcp://host:port`. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * `<ThrottlingConfigurations>` as a gateway reads it (carbon-apimgt 6.4.50 `APIManagerConfiguration`
 * l.602-662): advanced throttling on or off; where it publishes its requests, `ReceiverUrlGroup`
 * (each braced group gets every event; inside one, `|` fails over and `,` balances: the data bridge
 * agent's `DataPublisherUtil` l.46-101); where it hears decisions, the brokers of
 * `JMSConnectionDetails`' `connectionfactory.TopicConnectionFactory` (one at a time, failing over).
 */
export interface ThrottlingConfig {
  readonly enabled: boolean;
  readonly receiverGroups: readonly (readonly Endpoint[])[];
  readonly decisions: boolean;
  readonly brokers: readonly Endpoint[];
}

const endpointsIn = (text: string): Endpoint[] =>
  [...text.matchAll(/(?:tcp|ssl):\/\/([^:/?;,|{}'&%\s]+):(\d+)/g)].map((m) => ({ host: m[1], port: Number(m[2]) }));

/** `{tcp://a:9611},{tcp://b:9611}`: two groups; `tcp://a:9611|tcp://b:9611` (no braces): one group. */
export function receiverGroups(value: string): Endpoint[][] {
  const braced = [...value.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  return (braced.length ? braced : [value]).map(endpointsIn).filter((g) => g.length);
}

/** The brokers of an AMQP connection URL's `brokerlist='tcp://h:p?…;tcp://h2:p2?…'` (`%26` is `&` in the XML). */
export function brokerList(connectionUrl: string): Endpoint[] {
  const at = connectionUrl.indexOf('brokerlist=');
  return at < 0 ? [] : endpointsIn(connectionUrl.slice(at));
}

export interface ClassicConfig {
  readonly clustering: Clustering;
  readonly hostName?: string;
  readonly deploymentIntervalSeconds: number;
  /** The user store's database: the datasource user-mgt.xml names, from master-datasources.xml. */
  readonly userDb: DatabaseConfig;
  /** api-manager.xml `<DataSourceName>`, from master-datasources.xml: APIs, applications, keys, tokens. */
  readonly apimDb?: DatabaseConfig;
  /** api-manager.xml `<APIKeyValidator>`: where a gateway validates tokens (`APIKeyValidationService`), as whom. */
  readonly keyValidatorUrl: string;
  readonly keyValidator: { readonly user: string; readonly password: string; readonly clientType: string };
  /** api-manager.xml `<APIGateway><Environments>`: where the publisher pushes APIs and the key manager clears caches. */
  readonly environments: readonly GatewayEnvironment[];
  /** `<CacheConfigurations>`: the gateway's token cache, on or off, and its expiry (`TokenCacheExpiry`, seconds). */
  readonly gatewayTokenCache: { readonly enabled: boolean; readonly expirySeconds: number };
  /** carbon.xml `<Security><TrustStore>`: what every outbound TLS call trusts. */
  readonly truststore: { readonly file: string; readonly password: string };
  /** user-mgt.xml `<AdminUser>`: the realm adds it to a user store without it. */
  readonly admin: { readonly user: string; readonly password: string };
  readonly throttling: ThrottlingConfig;
  readonly warnings: readonly string[];
}

function parse(file: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') errors.push(message);
    },
  }).parseFromString(readFileSync(file, 'utf8'), 'text/xml');
  if (errors.length || !doc.documentElement) throw new Error(`${file}: not well-formed XML (${errors.join('; ')})`);
  return doc;
}

const children = (el: Element | null | undefined, name?: string): Element[] => {
  const out: Element[] = [];
  for (let c = el?.firstChild; c; c = c.nextSibling)
    if (c.nodeType === c.ELEMENT_NODE && (!name || (c as Element).localName === name)) out.push(c as Element);
  return out;
};
const child = (el: Element | null | undefined, ...path: string[]): Element | undefined =>
  path.reduce<Element | undefined>((at, name) => children(at, name)[0], el ?? undefined);
const text = (el: Element | undefined): string | undefined => el?.textContent?.trim();
const parameter = (clustering: Element, name: string) =>
  text(children(clustering, 'parameter').find((p) => p.getAttribute('name') === name));

/** HazelcastClusteringAgent (carbon-kernel v4.4.35): the schemes it knows, else a ClusteringFault. */
const SCHEMES = ['multicast', 'wka', 'aws'];

export function readClustering(home: string, warnings: string[]): Clustering {
  const root = parse(join(home, 'repository', 'conf', 'axis2', 'axis2.xml')).documentElement!;
  const clustering = child(root, 'clustering');
  if (!clustering)
    return {
      enabled: false,
      scheme: 'none',
      domain: 'wso2.carbon.domain',
      host: '127.0.0.1',
      port: 4000,
      subDomain: '__$default',
      members: [],
    };
  const scheme = parameter(clustering, 'membershipScheme') ?? 'multicast';
  const enabled = clustering.getAttribute('enable') === 'true';
  if (enabled && !SCHEMES.includes(scheme))
    throw new Error(`ClusteringFault: Invalid membership scheme '${scheme}'. Supported schemes are multicast & wka`);
  const host = parameter(clustering, 'localMemberHost') ?? '127.0.0.1';
  const members = children(child(clustering, 'members'), 'member').map((m) => ({
    host: text(child(m, 'hostName')) ?? '',
    port: Number(text(child(m, 'port')) ?? 4000),
  }));
  if (enabled && [host, ...members.map((m) => m.host)].some((h) => h === '127.0.0.1' || h === 'localhost')) {
    warnings.push('Hazelcast Clustering needs ip addresses for localMemberHost and well-known members');
  }
  const properties = children(clustering, 'parameter').find((p) => p.getAttribute('name') === 'properties');
  const subDomain =
    children(properties, 'property')
      .find((p) => p.getAttribute('name') === 'subDomain')
      ?.getAttribute('value') ?? undefined;
  return {
    enabled,
    scheme,
    host,
    members,
    domain: parameter(clustering, 'domain') ?? 'wso2.carbon.domain',
    port: Number(parameter(clustering, 'localMemberPort') ?? 4000),
    // MemberUtils: a member with no subDomain property is in "__$default".
    subDomain: subDomain ?? '__$default',
  };
}

/** The datasource of a JNDI name in master-datasources.xml, as a MySQL connection. */
function datasource(home: string, jndi: string): DatabaseConfig {
  const root = parse(join(home, 'repository', 'conf', 'datasources', 'master-datasources.xml')).documentElement!;
  const ds = children(child(root, 'datasources'), 'datasource').find((d) => text(child(d, 'jndiConfig', 'name')) === jndi);
  if (!ds) throw new Error(`master-datasources.xml has no datasource with the JNDI name ${jndi}`);
  const conf = child(ds, 'definition', 'configuration');
  const url = text(child(conf, 'url')) ?? '';
  if (!url.startsWith('jdbc:mysql:'))
    throw new Error(`${jndi}: ${url} is not a MySQL URL (the stand-in keeps users in the lab's MySQL only)`);
  return { ...parseJdbcUrl(url), user: text(child(conf, 'username')) ?? '', password: text(child(conf, 'password')) ?? '' };
}

export function readClassicConfig(home: string): ClassicConfig {
  const warnings: string[] = [];
  const clustering = readClustering(home, warnings);
  const conf = join(home, 'repository', 'conf');
  const carbon = parse(join(conf, 'carbon.xml')).documentElement!;
  const realm = parse(join(conf, 'user-mgt.xml')).documentElement!;
  const realmConf = child(realm, 'Realm', 'Configuration');
  const dataSource = text(children(realmConf, 'Property').find((p) => p.getAttribute('name') === 'dataSource'));
  if (!dataSource) throw new Error('user-mgt.xml: the realm names no dataSource');
  const apim = existsSync(join(conf, 'api-manager.xml')) ? parse(join(conf, 'api-manager.xml')).documentElement! : undefined;
  const admin = {
    user: text(child(realmConf, 'AdminUser', 'UserName')) ?? 'admin',
    password: text(child(realmConf, 'AdminUser', 'Password')) ?? 'admin',
  };
  // The placeholders Carbon fills in api-manager.xml: the realm's admin user, the node's ports
  // (carbon.xml offset 0) and its context root.
  const placeholders: Record<string, string> = {
    'admin.username': admin.user,
    'admin.password': admin.password,
    'mgt.transport.https.port': '9443',
    'carbon.context': '/',
    'https.nio.port': '8243',
    'http.nio.port': '8280',
    'carbon.local.ip': '127.0.0.1',
    // APIManagerConfiguration l.110-115: the node's own receiver, auth and JMS ports (offset 0).
    'receiver.url.port': '9611',
    'auth.url.port': '9711',
    'jms.port': '5672',
  };
  const resolve = (value: string | undefined) => (value ?? '').replace(/\$\{([^}]+)\}/g, (all, name: string) => placeholders[name] ?? all);
  const amDataSource = text(child(apim, 'DataSourceName'));
  const cache = child(apim, 'CacheConfigurations');
  const throttling = child(apim, 'ThrottlingConfigurations');
  const jms = child(throttling, 'JMSConnectionDetails');
  return {
    clustering,
    hostName: text(child(carbon, 'HostName')),
    deploymentIntervalSeconds: Number(text(child(carbon, 'Axis2Config', 'DeploymentUpdateInterval')) ?? 15),
    userDb: datasource(home, dataSource),
    apimDb: amDataSource ? datasource(home, amDataSource) : undefined,
    keyValidatorUrl: resolve(text(child(apim, 'APIKeyValidator', 'ServerURL'))),
    keyValidator: {
      user: resolve(text(child(apim, 'APIKeyValidator', 'Username'))),
      password: resolve(text(child(apim, 'APIKeyValidator', 'Password'))),
      clientType: text(child(apim, 'APIKeyValidator', 'KeyValidatorClientType')) ?? 'ThriftClient',
    },
    environments: children(child(apim, 'APIGateway', 'Environments'), 'Environment').map((e) => ({
      name: text(child(e, 'Name')) ?? '',
      serverUrl: resolve(text(child(e, 'ServerURL'))),
      user: resolve(text(child(e, 'Username'))),
      password: resolve(text(child(e, 'Password'))),
    })),
    gatewayTokenCache: {
      enabled: (text(child(cache, 'EnableGatewayTokenCache')) ?? 'true') === 'true',
      expirySeconds: Number(text(child(cache, 'TokenCacheExpiry')) ?? DEFAULT_TOKEN_CACHE_EXPIRY_SECONDS),
    },
    truststore: {
      file: (text(child(carbon, 'Security', 'TrustStore', 'Location')) ?? '').replace('${carbon.home}', home),
      password: text(child(carbon, 'Security', 'TrustStore', 'Password')) ?? '',
    },
    admin,
    throttling: {
      enabled: (text(child(throttling, 'EnableAdvanceThrottling')) ?? 'true') === 'true',
      receiverGroups: receiverGroups(resolve(text(child(throttling, 'TrafficManager', 'ReceiverUrlGroup')))),
      decisions: (text(child(jms, 'Enabled')) ?? 'false') === 'true',
      brokers: brokerList(resolve(text(child(jms, 'JMSConnectionParameters', 'connectionfactory.TopicConnectionFactory')))),
    },
    warnings,
  };
}
