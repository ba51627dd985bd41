import axios from 'axios';
import { readFileSync, writeFileSync } from 'fs';
import { Agent } from 'https';
import { join } from 'path';
import type { LabSpec } from '../../generator/model/lab';
import { addressOf, clusterDomainOf, managers, workers } from '../../generator/model/lab';
import { simApim260 } from '../../generator/products/sim';
import { retryUntil } from '../../generator/runtime/retry';
import type { StartedLab } from '../../harness/lab-target';
import { describeDocker } from '../support/docker';
import { startTestLab } from '../support/labs';

/**
 * The classic product on its stand-in, as a user of WSO2's 2.x split would check it by hand: the
 * members each node logs, the admin service a publisher pushes APIs through, and an API pushed
 * to a manager reaching every worker by the lab's rsync and the worker's deployment tick.
 * The harness's checks for it (REST v0.14, cluster-membership) are issue 23's next step.
 */

// Test traffic to 127.0.0.1 only; a worker's servlet port has the image's own certificate.
const http = axios.create({ httpsAgent: new Agent({ rejectUnauthorized: false }), validateStatus: () => true, timeout: 10_000 });

const apiXml = (name: string, context: string) => `<api xmlns="http://ws.apache.org/ns/synapse" name="admin--${name}:v1.0.0" context="${context}" version="1.0.0" version-type="context"><resource methods="GET" url-mapping="/*"><inSequence><send><endpoint><http uri-template="http://backend:8080"/></endpoint></send></inSequence></resource></api>`;
const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const addApi = (name: string, context: string) => `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://service.gateway.apimgt.carbon.wso2.org"><soapenv:Body><xsd:addApiForTenant><xsd:apiProviderName>admin</xsd:apiProviderName><xsd:apiName>${name}</xsd:apiName><xsd:version>1.0.0</xsd:version><xsd:apiConfig>${escape(apiXml(name, context))}</xsd:apiConfig><xsd:tenantDomain>carbon.super</xsd:tenantDomain></xsd:addApiForTenant></soapenv:Body></soapenv:Envelope>`;

async function push(servlet: string, name: string, context: string, auth = true) {
  return http.post(`${servlet}/services/APIGatewayAdmin`, addApi(name, context), {
    headers: { 'Content-Type': 'text/xml', SOAPAction: 'urn:addApiForTenant' }, ...(auth ? { auth: { username: 'admin', password: 'admin' } } : {}),
  });
}

/** What a node's log says of the cluster: its sub-domain and the addresses of the members it saw join. */
async function clusterView(lab: StartedLab, node: string): Promise<{ subDomain?: string; joined: string[] }> {
  const log = await lab.logs(node, 500);
  return {
    subDomain: /Local member: \[[^\]]+\] - .*Sub-domain:(\S+?),/.exec(log)?.[1],
    joined: [...log.matchAll(/Member joined \[[^\]]+\]: \/([\d.]+):4000/g)].map((m) => m[1]).sort(),
  };
}

/** The view each node must log: the other members of its domain, and its sub-domain. */
const expectedView = (lab: LabSpec, node: string) => ({
  subDomain: node.startsWith('manager') ? 'mgt' : 'worker',
  joined: clusterDomainOf(lab, node).members.filter((m) => m.node !== node).map((m) => addressOf(lab, m.node, 'cluster')).sort(),
});

async function awaitViews(lab: StartedLab, nodes: readonly string[], expected: (node: string) => unknown) {
  for (const node of nodes) {
    const want = expected(node);
    await retryUntil(async (observe) => {
      const seen = await clusterView(lab, node);
      observe(seen);
      return JSON.stringify(seen) === JSON.stringify(want) ? seen : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500, what: `${node}'s log to show ${JSON.stringify(want)}` });
  }
}

describeDocker('the classic product on its stand-in: Carbon clustering domains, worker mode, artifacts by rsync', () => {
  // Each test's lab is removed at its end (a leg's slots are few); one a failed test left, here.
  const labs: StartedLab[] = [];
  afterAll(async () => { for (const lab of labs.splice(0)) await lab.down(); }, 180_000);
  const done = async (lab: StartedLab) => { labs.splice(labs.indexOf(lab), 1); await lab.down(); };

  test('pattern 3: one domain in two sub-domains; a worker refuses the admin write a manager takes; the API reaches every worker within the product\'s bound', async () => {
    const lab = await startTestLab(3, { product: simApim260 });
    labs.push(lab);
    const nodes = lab.lab.nodes.map((n) => n.name);
    await awaitViews(lab, nodes, (node) => expectedView(lab.lab, node));

    const worker = lab.workerServletUrl('worker-1');
    const anonymous = await push(worker, 'Anon', '/anon/1.0.0', false);
    expect({ status: anonymous.status, body: String(anonymous.data) }).toEqual({ status: 500, body: expect.stringContaining('Access Denied. Please login first.') });
    const refused = await push(worker, 'Refused', '/refused/1.0.0');
    expect({ status: refused.status, body: refused.data }).toEqual({ status: 403, body: '' });
    expect(await lab.logs('worker-1', 50)).toContain('Invoking admin services on worker node is forbidden...');

    const pushed = await push(lab.adminUrl(), 'Echo', '/echo/1.0.0');
    expect({ status: pushed.status, body: String(pushed.data) }).toEqual({ status: 200, body: expect.stringContaining('<ns:return>true</ns:return>') });
    const started = Date.now();
    const bound = simApim260.timing.propagationBoundMs;
    const reached: Record<string, number> = {};
    for (const w of workers(lab.lab)) {
      await retryUntil(async () => ((await http.get(`${lab.workerApiUrl(w.name)}/echo/1.0.0/ping`)).status === 200 ? true : undefined),
        { timeoutMs: Math.max(1, bound - (Date.now() - started)), intervalMs: 250, what: `${w.name} to serve /echo/1.0.0 after the push` });
      reached[w.name] = Date.now() - started;
    }
    process.stdout.write(`classic pattern 3: pushed to the managers, served by ${Object.entries(reached).map(([w, ms]) => `${w} after ${ms} ms`).join(', ')} (bound ${bound} ms: sync ${10} s + tick 15 s + 2 s)\n`);
    // What no worker deployed it did not get by the sync: the refused write is nowhere.
    expect((await http.get(`${lab.workerApiUrl('worker-1')}/refused/1.0.0/ping`)).status).toBe(404);
    await done(lab);
  }, 300_000);

  test('pattern 2: two clusters, managers in one and workers in the other', async () => {
    const lab = await startTestLab(2, { product: simApim260 });
    labs.push(lab);
    await awaitViews(lab, lab.lab.nodes.map((n) => n.name), (node) => expectedView(lab.lab, node));
    const managerView = await clusterView(lab, 'manager-1');
    expect(managerView.joined.filter((ip) => workers(lab.lab).some((w) => addressOf(lab.lab, w.name, 'cluster') === ip))).toEqual([]);
    expect(managers(lab.lab).length).toBe(2);
    await done(lab);
  }, 300_000);

  test('seeded faults are seen for their reason: a worker without -DworkerNode=true takes the admin write; a worker of another domain joins no one', async () => {
    const lab = await startTestLab(1, { product: simApim260 }, {
      faults: [
        { kind: 'compose', services: { 'worker-1': { command: ['-Dprofile=gateway-worker'] } } },
        {
          kind: 'files',
          edit: (dir) => {
            const axis2 = join(dir, 'nodes', 'worker-2', 'repository', 'conf', 'axis2', 'axis2.xml');
            writeFileSync(axis2, readFileSync(axis2, 'utf8').replace('<parameter name="domain">wso2.am.domain</parameter>', '<parameter name="domain">wso2.am.other.domain</parameter>'));
          },
        },
      ],
    });
    labs.push(lab);
    expect((await push(lab.workerServletUrl('worker-1'), 'Taken', '/taken/1.0.0')).status).toBe(200);
    const others = ['manager-1', 'worker-1'];
    await awaitViews(lab, others, (node) => ({ ...expectedView(lab.lab, node), joined: expectedView(lab.lab, node).joined.filter((ip) => ip !== addressOf(lab.lab, 'worker-2', 'cluster')) }));
    expect((await clusterView(lab, 'worker-2')).joined).toEqual([]);
    expect(await lab.logs('manager-1', 200)).toMatch(/join request from [\d.]+:4000 of group wso2\.am\.other\.domain is refused/);
    await done(lab);
  }, 300_000);
});
