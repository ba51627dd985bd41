import { addressOf, clusterDomains, managers, workers } from '../../generator/model/lab';
import { simApim260 } from '../../generator/products/sim';
import { retryUntil } from '../../generator/runtime/retry';
import { expectedView, loggedView, viewProblems } from '../../harness/checks/cluster-membership';
import type { StartedLab } from '../../harness/lab-target';
import { describeDocker } from '../support/docker';
import { startTestLab } from '../support/labs';

/**
 * Pattern 2 of the classic product on its stand-in, where "separate clusters" is real: no node of
 * one domain logs a member of the other. (Pattern 3 is the conformance leg's, `make conformance
 * PATTERN=3 PRODUCT=sim-apim-2.6.0`; its seeded faults are the self-test's.)
 */
describeDocker('the classic product on its stand-in, pattern 2: managers and workers in two clusters', () => {
  let lab: StartedLab | undefined;
  afterAll(async () => { await lab?.down(); }, 120_000);

  test('each node logs its own domain\'s members only, each with its sub-domain', async () => {
    lab = await startTestLab(2, { product: simApim260 });
    const spec = lab.lab;
    const address = (node: string) => addressOf(spec, node, 'cluster');
    const nameOf = (ip: string) => spec.nodes.find((n) => address(n.name) === ip)?.name ?? ip;
    const domains = [...new Set(spec.nodes.map((n) => expectedView(clusterDomains(spec), n.name, address).domain))];
    expect(domains.length).toBe(2);
    for (const node of spec.nodes) {
      await retryUntil(async (observe) => {
        const problems = viewProblems(node.name, loggedView(await lab!.logs(node.name, 2000)), expectedView(clusterDomains(spec), node.name, address), nameOf);
        observe(problems);
        return problems.length ? undefined : true;
      }, { timeoutMs: 30_000, intervalMs: 500, what: `${node.name}'s log to show its domain's members` });
    }
    // Separate clusters: no manager has seen a worker join, and no worker a manager.
    for (const m of managers(spec)) expect(loggedView(await lab.logs(m.name, 2000)).members.filter((ip) => workers(spec).some((w) => address(w.name) === ip))).toEqual([]);
    for (const w of workers(spec)) expect(loggedView(await lab.logs(w.name, 2000)).members.filter((ip) => managers(spec).some((m) => address(m.name) === ip))).toEqual([]);
  }, 300_000);
});
