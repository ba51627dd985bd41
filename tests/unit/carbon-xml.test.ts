import type { Document, Element, Node } from '@xmldom/xmldom';
import { readFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import type { NodeSpec } from '../../generator/model/lab';
import { addressOf, clusterDomains, DB, managers, workers } from '../../generator/model/lab';
import { PROJECT_ROOT } from '../../generator/paths';
import { runtimeOf } from '../../generator/products/product';
import type { XmlKey } from '../../generator/render/carbon-xml';
import { APIM_260_FILES, childElements, CLASSIC_TEMPLATES, parseXml, pathOf, valueAt } from '../../generator/render/carbon-xml';
import { renderLab } from '../../generator/render';
import { SYNAPSE_CONFIGS } from '../../generator/render/compose';
import { SYNC_SERVICE } from '../../generator/model/lab';
import { CLASSIC_LABS } from '../support/labs';

const stock = (path: string) => parseXml(readFileSync(join(PROJECT_ROOT, CLASSIC_TEMPLATES, path), 'utf8'), path);

/** Non-blank children: elements, comments and text that is not only white space. */
const significant = (n: Node): Node[] => {
  const out: Node[] = [];
  for (let c = n.firstChild; c; c = c.nextSibling) if (c.nodeType !== c.TEXT_NODE || (c.nodeValue ?? '').trim()) out.push(c);
  return out;
};

/**
 * Where two documents differ, as paths of the catalogue's form: an attribute (`…/@name`), an
 * element whose text or children differ, or an element that replaced a comment.
 */
function changedPaths(a: Document, b: Document): string[] {
  const changed: string[] = [];
  const walk = (x: Element, y: Element) => {
    const path = pathOf(y);
    const names = new Set([...Array.from(x.attributes), ...Array.from(y.attributes)].map((at) => at.name));
    for (const name of names) if (x.getAttribute(name) !== y.getAttribute(name)) changed.push(`${path}/@${name}`);
    const xs = significant(x);
    const ys = significant(y);
    if (xs.length !== ys.length) {
      changed.push(path);
      return;
    }
    xs.forEach((xc, i) => {
      const yc = ys[i];
      if (xc.nodeType === xc.ELEMENT_NODE && yc.nodeType === yc.ELEMENT_NODE && (xc as Element).localName === (yc as Element).localName)
        walk(xc as Element, yc as Element);
      else if (xc.nodeType === xc.COMMENT_NODE && yc.nodeType === yc.ELEMENT_NODE) changed.push(pathOf(yc as Element));
      else if (xc.nodeType !== yc.nodeType || (xc.nodeValue ?? '').trim() !== (yc.nodeValue ?? '').trim()) changed.push(path);
    });
  };
  walk(a.documentElement!, b.documentElement!);
  return [...new Set(changed)];
}

describe("the apim-2.6.0 key catalogue against WSO2's own files", () => {
  const sources = new Set(APIM_260_FILES.sources.map((s) => s.id));
  test.each(APIM_260_FILES.files.map((f) => [f.path, f] as const))(
    '%s: every key is where the catalogue says, with the stock value it says',
    (path, entry) => {
      expect(sources.has(entry.template)).toBe(true);
      const doc = stock(path);
      for (const key of entry.keys) {
        expect({ key: key.key, source: sources.has(key.source), seenIn: (key.seenIn ?? []).every((s) => sources.has(s)) }).toEqual({
          key: key.key,
          source: true,
          seenIn: true,
        });
        if (key.edit === 'uncomment') {
          // The element is absent, and the parent holds it as the comment the catalogue quotes.
          expect(valueAt(doc, key)).toBeUndefined();
          expect(readFileSync(join(PROJECT_ROOT, CLASSIC_TEMPLATES, path), 'utf8')).toContain(key.stock!);
        } else {
          expect({ key: key.key, value: valueAt(doc, key) }).toEqual({ key: key.key, value: key.stock ?? undefined });
        }
      }
    },
  );
});

const domainValue = (doc: Document) => valueAt(doc, { key: "/axisconfig/clustering/parameter[@name='domain']", edit: 'text' } as XmlKey);
const keyOf = (file: string, key: string): XmlKey => APIM_260_FILES.files.find((f) => f.path === file)!.keys.find((k) => k.key === key)!;

describe.each(CLASSIC_LABS)('$product.id pattern $pattern', ({ lab, pattern }) => {
  const files = Object.fromEntries(renderLab(lab).map((f) => [f.path, f.content]));
  const doc = (node: NodeSpec, path: string) => parseXml(files[`nodes/${node.name}/${path}`], path);
  const at = (node: NodeSpec, path: string, key: string) => valueAt(doc(node, path), keyOf(path, key));
  const AXIS2 = 'repository/conf/axis2/axis2.xml';

  test.each(lab.nodes.map((n) => [n.name, n] as const))(
    "%s: every file is WSO2's own with only the catalogued keys of its role changed",
    (_, node) => {
      for (const entry of APIM_260_FILES.files) {
        const written = entry.keys.filter((k) => k.writtenByLab && k.roles.includes(node.role)).map((k) => k.key);
        const changed = changedPaths(stock(entry.path), doc(node, entry.path));
        expect({ file: entry.path, changed: changed.filter((p) => !written.includes(p)) }).toEqual({ file: entry.path, changed: [] });
        // Every kept key still holds WSO2's value.
        for (const k of entry.keys.filter((key) => !key.writtenByLab))
          expect({ key: k.key, value: valueAt(doc(node, entry.path), k) }).toEqual({ key: k.key, value: k.stock ?? undefined });
      }
    },
  );

  test("clustering: each node in its domain, with its sub-domain, listing exactly its domain's members", () => {
    const domains = clusterDomains(lab);
    expect(domains.length).toBe(pattern === 2 ? 2 : 1);
    for (const node of lab.nodes) {
      const own = domains.find((d) => d.members.some((m) => m.node === node.name))!;
      expect({
        node: node.name,
        enable: at(node, AXIS2, '/axisconfig/clustering/@enable'),
        scheme: at(node, AXIS2, "/axisconfig/clustering/parameter[@name='membershipScheme']"),
        domain: domainValue(doc(node, AXIS2)),
        host: at(node, AXIS2, "/axisconfig/clustering/parameter[@name='localMemberHost']"),
        subDomain: at(node, AXIS2, "/axisconfig/clustering/parameter[@name='properties']/property[@name='subDomain']/@value"),
        members: at(node, AXIS2, '/axisconfig/clustering/members')!.split(',').sort(),
      }).toEqual({
        node: node.name,
        enable: 'true',
        scheme: 'wka',
        domain: own.domain,
        host: addressOf(lab, node.name, 'cluster'),
        subDomain: node.role === 'manager' ? 'mgt' : 'worker',
        members: own.members.map((m) => `${addressOf(lab, m.node, 'cluster')}:4000`).sort(),
      });
    }
    // Pattern 2: two clusters that share no member; patterns 1 and 3: every node in one.
    const domainOf = (n: NodeSpec) => domainValue(doc(n, AXIS2));
    const managerDomains = new Set(managers(lab).map(domainOf));
    const workerDomains = new Set(workers(lab).map(domainOf));
    expect(managerDomains.size).toBe(1);
    expect(workerDomains.size).toBe(1);
    expect([...managerDomains][0] === [...workerDomains][0]).toBe(pattern !== 2);
  });

  test('workers: -Dprofile=gateway-worker -DworkerNode=true, read-only registry mounts, keys validated and throttled by the managers', () => {
    const compose = YAML.parse(files['docker-compose.yml']);
    for (const node of lab.nodes) {
      const worker = node.role === 'worker';
      expect({ node: node.name, command: compose.services[node.name].command }).toEqual({
        node: node.name,
        command: worker ? ['-Dprofile=gateway-worker', '-DworkerNode=true'] : undefined,
      });
      expect(at(node, 'repository/conf/registry.xml', '/wso2registry/remoteInstance/readOnly')).toBe(String(worker));
      if (!worker) continue;
      expect(at(node, 'repository/conf/api-manager.xml', '/APIManager/APIKeyValidator/ServerURL')).toBe(
        `https://${lab.managerEndpointHost}:9443/services/`,
      );
      const receivers = at(
        node,
        'repository/conf/api-manager.xml',
        '/APIManager/ThrottlingConfigurations/TrafficManager/ReceiverUrlGroup',
      )!;
      // One group per manager: every throttling event reaches every manager's traffic manager.
      expect(receivers.match(/tcp:\/\/[\w-]+:9611/g)).toEqual(managers(lab).map((m) => `tcp://${m.name}:9611`));
      const jms = at(
        node,
        'repository/conf/api-manager.xml',
        '/APIManager/ThrottlingConfigurations/JMSConnectionDetails/JMSConnectionParameters/connectionfactory.TopicConnectionFactory',
      )!;
      expect(jms.match(/tcp:\/\/[\w-]+:5672/g)!.sort()).toEqual(
        managers(lab)
          .map((m) => `tcp://${m.name}:5672`)
          .sort(),
      );
    }
  });

  test("the shared registry and user store are the lab's database, named by datasources the node defines", () => {
    for (const node of lab.nodes) {
      const datasources = doc(node, 'repository/conf/datasources/master-datasources.xml');
      const jndi = (name: string) =>
        childElements(datasources.documentElement!)
          .flatMap((d) => childElements(d))
          .find((ds) => childElements(ds).some((c) => c.localName === 'name' && c.textContent === name))!;
      const jndiNames = childElements(datasources.documentElement!)
        .flatMap((d) => childElements(d))
        .map((ds) =>
          childElements(ds)
            .find((c) => c.localName === 'jndiConfig')
            ?.textContent?.trim(),
        )
        .filter(Boolean);
      expect(jndiNames).toContain(
        at(node, 'repository/conf/user-mgt.xml', "/UserManager/Realm/Configuration/Property[@name='dataSource']"),
      );
      expect(jndiNames).toContain(at(node, 'repository/conf/registry.xml', "/wso2registry/dbConfig[@name='carbondb']/dataSource"));
      expect(jndi('WSO2_COMMON_DS').textContent).toContain(`jdbc:mysql://${DB.host}:${DB.port}/${DB.sharedDb}?`);
      expect(jndi('WSO2AM_DB').textContent).toContain(`jdbc:mysql://${DB.host}:${DB.port}/${DB.apimDb}?`);
    }
  });

  test("artifacts: managers share one synapse-configs volume; the sync service copies it, read-only, to each worker's own", () => {
    const compose = YAML.parse(files['docker-compose.yml']);
    const mountOf = (name: string) => compose.services[name].volumes.find((v: { target: string }) => v.target.endsWith(SYNAPSE_CONFIGS));
    const home = runtimeOf(lab.product, 'manager').home;
    for (const m of managers(lab))
      expect(mountOf(m.name)).toEqual({ type: 'volume', source: 'synapse-configs-managers', target: `${home}/${SYNAPSE_CONFIGS}` });
    const sync = compose.services[SYNC_SERVICE];
    expect(sync.volumes).toContainEqual({
      type: 'volume',
      source: 'synapse-configs-managers',
      target: '/synapse/managers',
      read_only: true,
    });
    for (const w of workers(lab)) {
      expect(mountOf(w.name).source).toBe(`synapse-configs-${w.name}`);
      expect(sync.volumes).toContainEqual({ type: 'volume', source: `synapse-configs-${w.name}`, target: `/synapse/${w.name}` });
      expect(sync.command[0]).toContain(`/synapse/managers/ /synapse/${w.name}/`);
    }
    // Nothing else writes a worker's Synapse files: no other service mounts its volume.
    const writers = Object.entries<{ volumes?: { source?: string; read_only?: boolean }[] }>(compose.services)
      .filter(([, s]) => (s.volumes ?? []).some((v) => v.source?.startsWith('synapse-configs-worker') && !v.read_only))
      .map(([name]) => name)
      .sort();
    expect(writers).toEqual([SYNC_SERVICE, ...workers(lab).map((w) => w.name)].sort());
  });
});
