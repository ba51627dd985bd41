import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { addressOf, clusterDomainOf, DB } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { simApim260 } from '../../generator/products/sim';
import { renderLab } from '../../generator/render';
import { retryUntil } from '../../generator/runtime/retry';
import { launcher, readClassicConfig } from '../../sim/src/classic/config';
import { Membership } from '../../sim/src/classic/membership';
import { parseSynapseApi, SynapseApis, synapseFileName } from '../../sim/src/classic/synapse';
import { expectedView, loggedView, viewProblems } from '../../harness/checks/cluster-membership';
import type { Req } from '../../sim/src/http';
import { tempDir } from '../support/labs';

/** A node's home as the entrypoint leaves it: the lab's files for the node over the product home. */
function homeOf(pattern: 1 | 2 | 3, node: string): string {
  const home = tempDir('classic-home-');
  const prefix = `nodes/${node}/`;
  for (const f of renderLab(buildLab(pattern, { product: simApim260 })).filter((x) => x.path.startsWith(prefix))) {
    const path = join(home, f.path.slice(prefix.length));
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, f.content);
  }
  return home;
}

describe('the classic stand-in\'s launcher (carbon-kernel 4.4 Main)', () => {
  test.each([
    [['-DworkerNode=false'], { workerNode: false, profile: 'default' }],
    [['-DworkerNode=false', '-Dprofile=gateway-worker', '-DworkerNode=true'], { workerNode: true, profile: 'gateway-worker' }],
    // The container's arguments come after the script's -DworkerNode=false: the last one wins.
    [['-DworkerNode=false', '-DworkerNode=true', '-Dprofile=gateway-worker', '-DworkerNode=false'], { workerNode: false, profile: 'gateway-worker' }],
  ])('%j', (argv, expected) => expect(launcher(argv)).toEqual(expected));

  test('workerNode=true without a profile switches to the worker profile, which 2.6.0 does not have: the node stops', () => {
    expect(() => launcher(['-DworkerNode=false', '-DworkerNode=true'])).toThrow('OSGi runtime worker profile not found');
    expect(() => launcher(['-Dprofile=gateway-manager'])).toThrow('profile gateway-manager is not one of 2.6.0\'s');
  });
});

describe('the classic stand-in reads the generated XML as the product does', () => {
  test.each([[1, 'manager-1'], [2, 'worker-2'], [3, 'worker-1'], [3, 'manager-2']] as const)('pattern %s %s', (pattern, node) => {
    const lab = buildLab(pattern, { product: simApim260 });
    const config = readClassicConfig(homeOf(pattern, node));
    const domain = clusterDomainOf(lab, node);
    expect(config.clustering).toEqual({
      enabled: true, scheme: 'wka', domain: domain.domain, host: addressOf(lab, node, 'cluster'), port: 4000,
      subDomain: node.startsWith('manager') ? 'mgt' : 'worker',
      members: domain.members.map((m) => ({ host: addressOf(lab, m.node, 'cluster'), port: 4000 })),
    });
    expect(config.userDb).toMatchObject({ host: DB.host, database: DB.sharedDb, user: DB.user, password: DB.password });
    expect(config.warnings).toEqual([]);
  });

  test('an unknown membership scheme stops the node, a loopback member is warned about', () => {
    const home = homeOf(1, 'worker-1');
    const axis2 = join(home, 'repository/conf/axis2/axis2.xml');
    const text = readFileSync(axis2, 'utf8');
    writeFileSync(axis2, text.replace('<parameter name="membershipScheme">wka</parameter>', '<parameter name="membershipScheme">kubernetes</parameter>'));
    expect(() => readClassicConfig(home)).toThrow("Invalid membership scheme 'kubernetes'");
    writeFileSync(axis2, text.replace(/<parameter name="localMemberHost">[^<]+</, '<parameter name="localMemberHost">127.0.0.1<'));
    expect(readClassicConfig(home).warnings).toEqual(['Hazelcast Clustering needs ip addresses for localMemberHost and well-known members']);
  });
});

describe('membership over TCP: a domain is a cluster, whatever the WKA list names', () => {
  const started: Membership[] = [];
  afterAll(() => { for (const m of started) m.stop(); });

  test('members of one domain join through their well-known members; a member of another is refused', async () => {
    const wka = [47101, 47102, 47103, 47104].map((port) => ({ host: '127.0.0.1', port }));
    const node = (port: number, domain: string, subDomain: string) => {
      const m = new Membership({ host: '127.0.0.1', port, httpPort: 9763, httpsPort: 9443, domain, subDomain }, port === 47104 ? [wka[0]] : wka);
      started.push(m);
      return m;
    };
    const [a, b, c, d] = [node(47101, 'mgt.domain', 'mgt'), node(47102, 'mgt.domain', 'mgt'), node(47103, 'worker.domain', 'worker'), node(47104, 'mgt.domain', 'worker')];
    for (const m of started) await m.start();
    // d lists only a: it learns b from a.
    const view = (m: Membership) => m.view().map((x) => `${x.port}/${x.subDomain}`).sort();
    await retryUntil(async () => (view(a).length === 3 && view(b).length === 3 && view(d).length === 3 ? true : undefined), { timeoutMs: 15_000, intervalMs: 200, what: 'the mgt.domain members to see each other' });
    expect(view(a)).toEqual(['47101/mgt', '47102/mgt', '47104/worker']);
    expect(view(d)).toEqual(view(a));
    expect(view(c)).toEqual(['47103/worker']);
  });
});

describe('Synapse APIs from files, on the deployment tick', () => {
  const xml = (name: string, context: string, handlers = '') => `<api xmlns="http://ws.apache.org/ns/synapse" name="${name}" context="${context}"><resource methods="GET" url-mapping="/*"><inSequence><send><endpoint><http uri-template="http://127.0.0.1:9/x"/></endpoint></send></inSequence></resource>${handlers}</api>`;
  const req = (path: string, headers: Record<string, string> = {}): Req => ({ method: 'GET', path, query: new URLSearchParams(), headers, rawBody: '' });

  test('a file copied in is served only after the next tick; a secured API refuses a call without a token, and any token it cannot check', async () => {
    const home = tempDir('classic-synapse-');
    const apis = new SynapseApis(home);
    mkdirSync(apis.dir, { recursive: true });
    writeFileSync(join(apis.dir, synapseFileName('admin--Secured:v1')), xml('admin--Secured:v1', '/secured/1', '<handlers><handler class="org.wso2.carbon.apimgt.gateway.handlers.security.APIAuthenticationHandler"/></handlers>'));
    expect((await apis.serve(req('/secured/1/a'))).status).toBe(404);
    apis.tick();
    const missing = await apis.serve(req('/secured/1/a'));
    expect({ status: missing.status, body: String(missing.body) }).toEqual({ status: 401, body: expect.stringContaining('<am:code>900902</am:code>') });
    expect((await apis.serve(req('/secured/1/a', { authorization: 'Bearer abc' }))).status).toBe(401);
    expect(parseSynapseApi(xml('admin--A:v1', '/a/1/'), 'a.xml').context).toBe('/a/1');
  });
});

describe('cluster-membership reads a node\'s view from Carbon\'s log lines', () => {
  const log = [
    '[t] INFO  {HazelcastClusteringAgent} - Cluster domain: wso2.am.domain',
    '[t] INFO  {HazelcastClusteringAgent} - Local member: [u0] - Host:10.0.0.21, Remote Host:null, Port: 4000, HTTP:9763, HTTPS:9443, Domain: wso2.am.domain, Sub-domain:worker, Active:true',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u1]: /10.0.0.11:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u2]: /10.0.0.22:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member left [u2]: /10.0.0.22:4000',
    // worker-2 again, a new process (a new uuid): present.
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u3]: /10.0.0.22:4000',
    '[t] INFO  {WKABasedMembershipScheme} - Member joined [u4]: /10.0.0.99:4000',
  ].join('\n');
  const names: Record<string, string> = { '10.0.0.11': 'manager-1', '10.0.0.21': 'worker-1', '10.0.0.22': 'worker-2', '10.0.0.99': 'stranger' };

  test('joins and leaves by member uuid; its domain and sub-domain', () => {
    expect(loggedView(log)).toEqual({ domain: 'wso2.am.domain', subDomain: 'worker', members: ['10.0.0.11', '10.0.0.22', '10.0.0.99'] });
  });

  test('what differs from the domain\'s view, in words', () => {
    const domains = [{ domain: 'wso2.am.domain', members: [{ node: 'manager-1', subDomain: 'mgt' as const }, { node: 'worker-1', subDomain: 'worker' as const }, { node: 'worker-2', subDomain: 'worker' as const }] }];
    const address = (node: string) => Object.entries(names).find(([, n]) => n === node)![0];
    const want = expectedView(domains, 'worker-1', address);
    expect(want).toEqual({ domain: 'wso2.am.domain', subDomain: 'worker', members: ['10.0.0.11', '10.0.0.22'] });
    expect(viewProblems('worker-1', loggedView(log), want, (ip) => names[ip])).toEqual(['worker-1 has joined stranger, of another domain']);
    expect(viewProblems('worker-1', { domain: 'other', subDomain: 'mgt', members: [] }, want, (ip) => names[ip])).toEqual([
      'worker-1 is in domain other, not wso2.am.domain', 'worker-1 is in sub-domain mgt, not worker', 'worker-1 has not joined manager-1, worker-2',
    ]);
  });
});
