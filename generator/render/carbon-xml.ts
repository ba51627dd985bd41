import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import type { Document, Element, Node } from '@xmldom/xmldom';
import { readFileSync } from 'fs';
import { join } from 'path';
import type { LabSpec, NodeSpec, Role } from '../model/lab';
import { addressOf, brokerOrder, CLUSTER_PORT, clusterDomainOf, DB, managers, PORTAL_HOST, portalPort } from '../model/lab';
import { PROJECT_ROOT } from '../paths';
import catalogueJson from '../products/apim-2.6.0.keys.json';
import type { CatalogueSource } from '../products/key-catalogue';
import { TOKEN_CACHE_EXPIRY_SECONDS } from '../products/apim-2.6.0';

/**
 * How a catalogued key is written: `text` (the element's text), `attr` (the path ends in
 * `@attribute`), `members` (the element's children become `<member>` entries, from `host:port,…`),
 * `uncomment` (WSO2's file has the element only as a comment: it becomes the element).
 */
export type XmlEdit = 'text' | 'attr' | 'members' | 'uncomment';

export interface XmlKey {
  /** A path of {@link pathOf}'s form, which is also what selects the key. */
  readonly key: string;
  readonly edit: XmlEdit;
  /** The roles the lab writes the key for (a kept key: the roles whose file must hold it). */
  readonly roles: readonly Role[];
  /** The value in WSO2's file the template is; null where that file does not have the key. */
  readonly stock: string | null;
  readonly writtenByLab: boolean;
  readonly source: string;
  readonly seenIn?: readonly string[];
  readonly note?: string;
}

export interface XmlFileEntry {
  /** Under the product's home, e.g. `repository/conf/axis2/axis2.xml`. */
  readonly path: string;
  /** Id of the source whose file the template is, verbatim. */
  readonly template: string;
  readonly keys: readonly XmlKey[];
}

export interface XmlCatalogue {
  readonly product: string;
  readonly sources: readonly CatalogueSource[];
  readonly files: readonly XmlFileEntry[];
}

/** @see ../products/apim-2.6.0.keys.json */
export const APIM_260_FILES: XmlCatalogue = catalogueJson as XmlCatalogue;
/** WSO2's files, verbatim, under the product's home layout. */
export const CLASSIC_TEMPLATES = 'generator/templates/apim-2.6.0';

// ---- the path form: /a/b[@name='x']/c[name='y']/@attr, names matched by local name ----

interface Step {
  readonly name: string;
  readonly attr?: readonly [string, string];
  readonly child?: readonly [string, string];
}

function parsePath(path: string): { steps: Step[]; attribute?: string } {
  const parts = path.split(/\/(?![^[]*\])/).filter(Boolean);
  const last = parts[parts.length - 1];
  const attribute = last?.startsWith('@') ? last.slice(1) : undefined;
  const steps = (attribute ? parts.slice(0, -1) : parts).map((part): Step => {
    const m = /^([\w.:-]+)(?:\[(@?)([\w.:-]+)='([^']*)'\])?$/.exec(part);
    if (!m) throw new Error(`bad key path ${path}: step "${part}"`);
    if (!m[3]) return { name: m[1] };
    return m[2] ? { name: m[1], attr: [m[3], m[4]] } : { name: m[1], child: [m[3], m[4]] };
  });
  return { steps, attribute };
}

export const childElements = (n: Node): Element[] => {
  const out: Element[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType === c.ELEMENT_NODE) out.push(c as Element);
  return out;
};

const matches = (el: Element, step: Step): boolean =>
  el.localName === step.name &&
  (!step.attr || el.getAttribute(step.attr[0]) === step.attr[1]) &&
  (!step.child || childElements(el).some((c) => c.localName === step.child![0] && (c.textContent ?? '').trim() === step.child![1]));

function selectElements(doc: Document, steps: readonly Step[]): Element[] {
  let current: Node[] = [doc];
  for (const step of steps) current = current.flatMap((n) => childElements(n).filter((el) => matches(el, step)));
  return current as Element[];
}

/** The one element a path names, or an error that says how many it found. */
function selectOne(doc: Document, steps: readonly Step[], what: string): Element {
  const found = selectElements(doc, steps);
  if (found.length !== 1) throw new Error(`${what}: ${found.length} elements match`);
  return found[0];
}

/**
 * The path of an element in the catalogue's form: its local name, with a predicate only where
 * siblings share the name: the first attribute whose value no such sibling shares, else a unique
 * `name` child's text, else the position.
 */
export function pathOf(el: Element): string {
  const parent = el.parentNode;
  const prefix = parent && parent.nodeType === parent.ELEMENT_NODE ? pathOf(parent as Element) : '';
  const same = parent ? childElements(parent).filter((s) => s.localName === el.localName) : [el];
  if (same.length === 1) return `${prefix}/${el.localName}`;
  for (const a of Array.from(el.attributes)) {
    if (same.filter((s) => s.getAttribute(a.name) === a.value).length === 1) return `${prefix}/${el.localName}[@${a.name}='${a.value}']`;
  }
  const nameOf = (s: Element) =>
    childElements(s)
      .find((c) => c.localName === 'name')
      ?.textContent?.trim();
  const name = nameOf(el);
  if (name !== undefined && same.filter((s) => nameOf(s) === name).length === 1) return `${prefix}/${el.localName}[name='${name}']`;
  return `${prefix}/${el.localName}[${same.indexOf(el) + 1}]`;
}

export function parseXml(text: string, file: string): Document {
  const errors: string[] = [];
  const doc = new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') errors.push(message);
    },
  }).parseFromString(text, 'text/xml');
  if (errors.length || !doc.documentElement) throw new Error(`${file} is not well-formed XML: ${errors.join('; ') || 'no root element'}`);
  return doc;
}

/** The value a key has in a document (text, attribute, `host:port,…` members), or undefined where absent. */
export function valueAt(doc: Document, key: XmlKey): string | undefined {
  const { steps, attribute } = parsePath(key.key);
  const found = selectElements(doc, steps);
  if (found.length !== 1) return undefined;
  const el = found[0];
  if (attribute) return el.hasAttribute(attribute) ? el.getAttribute(attribute)! : undefined;
  if (key.edit === 'members') {
    return childElements(el)
      .filter((m) => m.localName === 'member')
      .map((m) => {
        const part = (name: string) =>
          childElements(m)
            .find((c) => c.localName === name)
            ?.textContent?.trim();
        return `${part('hostName')}:${part('port')}`;
      })
      .join(',');
  }
  return (el.textContent ?? '').trim();
}

function apply(doc: Document, key: XmlKey, value: string, file: string): void {
  const { steps, attribute } = parsePath(key.key);
  const what = `${file} ${key.key}`;
  if (key.edit === 'uncomment') {
    const parent = selectOne(doc, steps.slice(0, -1), what);
    const name = steps[steps.length - 1].name;
    let comment: Node | undefined;
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      // `<!--<Name>v</Name>-->`, or WSO2's other form `<!--Name>v</Name-->` (api-manager.xml's TokenCacheExpiry).
      if (c.nodeType === c.COMMENT_NODE && new RegExp(`^\\s*<?${name}>[^<]*</${name}>?\\s*$`).test(c.nodeValue ?? '')) comment = c;
    }
    if (!comment) throw new Error(`${what}: no commented-out <${name}> to write`);
    const element = doc.createElementNS(parent.namespaceURI, name);
    element.appendChild(doc.createTextNode(value));
    parent.replaceChild(element, comment);
    return;
  }
  const el = selectOne(doc, steps, what);
  if (key.edit === 'attr') {
    if (!attribute) throw new Error(`${what}: an attr key must end in @attribute`);
    el.setAttribute(attribute, value);
  } else if (key.edit === 'text') {
    while (el.firstChild) el.removeChild(el.firstChild);
    el.appendChild(doc.createTextNode(value));
  } else {
    // The indentation of WSO2's own <members> block.
    while (el.firstChild) el.removeChild(el.firstChild);
    for (const member of value.split(',')) {
      const [host, port] = member.split(':');
      const m = doc.createElement('member');
      const child = (name: string, text: string) => {
        const c = doc.createElement(name);
        c.appendChild(doc.createTextNode(text));
        m.appendChild(doc.createTextNode('\n                '));
        m.appendChild(c);
      };
      child('hostName', host);
      child('port', port);
      m.appendChild(doc.createTextNode('\n            '));
      el.appendChild(doc.createTextNode('\n            '));
      el.appendChild(m);
    }
    el.appendChild(doc.createTextNode('\n        '));
  }
}

/**
 * The value of every key the lab writes for a node, by key: what the model says (addresses,
 * domains, the balancers' names, the database). A key the catalogue has and this does not is a
 * renderer bug ({@link renderClassicFiles} throws), as is one this has and the catalogue not.
 */
export function classicValues(lab: LabSpec, node: NodeSpec): Readonly<Record<string, string>> {
  const domain = clusterDomainOf(lab, node.name);
  const address = (name: string) => addressOf(lab, name, 'cluster');
  const brokers = brokerOrder(lab).map((m) => `tcp://${m.name}:5672`);
  const tms = managers(lab).map((m) => m.name);
  const group = (scheme: string, port: number) =>
    tms.length === 1 ? `${scheme}://${tms[0]}:${port}` : tms.map((t) => `{${scheme}://${t}:${port}}`).join(',');
  const shared = `jdbc:mysql://${DB.host}:${DB.port}/${DB.sharedDb}?autoReconnect=true&useSSL=false`;
  const isManager = node.role === 'manager';
  return {
    '/axisconfig/clustering/@enable': 'true',
    "/axisconfig/clustering/parameter[@name='membershipScheme']": 'wka',
    "/axisconfig/clustering/parameter[@name='domain']": domain.domain,
    "/axisconfig/clustering/parameter[@name='localMemberHost']": address(node.name),
    "/axisconfig/clustering/parameter[@name='properties']/property[@name='subDomain']/@value": 'mgt',
    '/axisconfig/clustering/members': domain.members.map((m) => `${address(m.node)}:${CLUSTER_PORT}`).join(','),
    '/Server/HostName': isManager ? PORTAL_HOST : lab.workerEndpointHost,
    '/Server/MgtHostName': isManager ? PORTAL_HOST : lab.managerEndpointHost,
    "/Server/Service/Connector[@port='9443']/@proxyPort": String(portalPort(lab)),
    '/wso2registry/remoteInstance/cacheId': `${DB.user}@${shared.replace(/\?.*$/, '')}`,
    '/wso2registry/remoteInstance/readOnly': 'true',
    "/datasources-configuration/datasources/datasource[name='WSO2_COMMON_DS']/definition/configuration/url": shared,
    "/datasources-configuration/datasources/datasource[name='WSO2_COMMON_DS']/definition/configuration/username": DB.user,
    "/datasources-configuration/datasources/datasource[name='WSO2_COMMON_DS']/definition/configuration/password": DB.password,
    "/datasources-configuration/datasources/datasource[name='WSO2AM_DB']/definition/configuration/url": `jdbc:mysql://${DB.host}:${DB.port}/${DB.apimDb}?autoReconnect=true&useSSL=false`,
    "/datasources-configuration/datasources/datasource[name='WSO2AM_DB']/definition/configuration/username": DB.user,
    "/datasources-configuration/datasources/datasource[name='WSO2AM_DB']/definition/configuration/password": DB.password,
    '/APIManager/Analytics/Enabled': 'false',
    '/APIManager/CacheConfigurations/TokenCacheExpiry': String(TOKEN_CACHE_EXPIRY_SECONDS),
    '/APIManager/APIGateway/Environments/Environment/GatewayEndpoint': `http://${lab.workerEndpointHost}:8280,https://${lab.workerEndpointHost}:8243`,
    '/APIManager/OAuthConfigurations/RevokeAPIURL': `https://${lab.workerEndpointHost}:8243/revoke`,
    '/APIManager/APIKeyValidator/ServerURL': `https://${lab.managerEndpointHost}:9443/services/`,
    '/APIManager/APIKeyValidator/KeyValidatorClientType': 'WSClient',
    '/APIManager/ThrottlingConfigurations/TrafficManager/ReceiverUrlGroup': group('tcp', 9611),
    '/APIManager/ThrottlingConfigurations/TrafficManager/AuthUrlGroup': group('ssl', 9711),
    '/APIManager/ThrottlingConfigurations/JMSConnectionDetails/JMSConnectionParameters/connectionfactory.TopicConnectionFactory':
      brokers.length === 1
        ? `amqp://\${admin.username}:\${admin.password}@clientid/carbon?brokerlist='${brokers[0]}'`
        : `amqp://\${admin.username}:\${admin.password}@clientid/carbon?failover='roundrobin'%26cyclecount='2'%26brokerlist='${brokers.map((b) => `${b}?retries='5'%26connectdelay='50'`).join(';')}'`,
  };
}

/** The header of every rendered file: the marker, and which WSO2 file it is with which keys changed. */
function header(marker: string, entry: XmlFileEntry, written: readonly string[], catalogue: XmlCatalogue): string {
  const source = catalogue.sources.find((s) => s.id === entry.template);
  if (!source) throw new Error(`${entry.path}: template source ${entry.template} is not in the catalogue`);
  const name = entry.path.split('/').pop();
  return [
    // A comment cannot hold `--`: the regenerate command is in the lab's README.md.
    `<!-- ${marker.replace(/ Regenerate: .*$/, " Regenerate: the command in this lab's README.md.")}`,
    `     WSO2's ${source.path}${source.path.endsWith('/') ? name : ''} (${source.repo} ${source.ref}),`,
    `     with only these keys changed (generator/products/apim-2.6.0.keys.json says why, key by key):`,
    ...(written.length ? written.map((k) => `       ${k}`) : ["       none: WSO2's file as it is"]),
    '-->',
  ].join('\n');
}

/** The XML files of one node of a classic lab, each WSO2's own file with only the lab's keys changed. */
export function renderClassicFiles(
  lab: LabSpec,
  node: NodeSpec,
  marker: string,
  catalogue: XmlCatalogue = APIM_260_FILES,
): { path: string; content: string }[] {
  const values = classicValues(lab, node);
  const catalogued = new Set(catalogue.files.flatMap((f) => f.keys.filter((k) => k.writtenByLab).map((k) => k.key)));
  const stray = Object.keys(values).filter((k) => !catalogued.has(k));
  if (stray.length) throw new Error(`keys written but not catalogued in ${catalogue.product}: ${stray.join(', ')}`);
  return catalogue.files.map((entry) => {
    const template = join(PROJECT_ROOT, CLASSIC_TEMPLATES, entry.path);
    const doc = parseXml(readFileSync(template, 'utf8'), template);
    const written: string[] = [];
    for (const key of entry.keys) {
      if (!key.writtenByLab || !key.roles.includes(node.role)) continue;
      const value = values[key.key];
      if (value === undefined) throw new Error(`${entry.path} ${key.key}: catalogued as written, but the renderer has no value for it`);
      apply(doc, key, value, entry.path);
      written.push(key.key);
    }
    const xml = new XMLSerializer().serializeToString(doc).replace(/\r\n/g, '\n');
    const declaration = /^<\?xml[^>]*\?>\s*/.exec(xml);
    const body = declaration ? xml.slice(declaration[0].length) : xml;
    return {
      path: entry.path,
      content: `${declaration ? `${declaration[0].trim()}\n` : ''}${header(marker, entry, written, catalogue)}\n${body.replace(/\s*$/, '\n')}`,
    };
  });
}
