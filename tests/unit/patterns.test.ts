import { parse } from 'smol-toml';
import YAML from 'yaml';
import { LabError } from '../../generator/errors';
import type { LabSpec } from '../../generator/model/lab';
import { addressOf, makeArgs, managers, NAMED_SLOTS, PATTERN_IDS, workers } from '../../generator/model/lab';
import { parseLabName, parseManagers, parseWorkers } from '../../generator/patterns';
import { regenerateCommand, renderLab } from '../../generator/render';
import { buildLab, parsePattern } from '../../generator/patterns';
import { apim430 } from '../../generator/products/apim-4.3.0';
import { sim } from '../../generator/products/sim';
import { PRODUCTS, standInOf } from '../../generator/products';
import { productRoles, runtimeOf } from '../../generator/products/product';
import { validateLab } from '../../generator/synth/validate';
import { ALL_LABS, SCALED_LABS } from '../support/labs';

describe('pattern models', () => {
  test('pattern 1: one manager, two workers, one balancer `lb`, no passive manager', () => {
    const lab = buildLab(1, { product: apim430 });
    expect(lab.nodes.map((n) => n.name)).toEqual(['manager-1', 'worker-1', 'worker-2']);
    expect(lab.balancers.map((b) => b.name)).toEqual(['lb']);
    const managerUpstream = lab.balancers[0].upstreams.find((u) => u.name === 'managers')!;
    expect(managerUpstream.servers).toEqual([{ node: 'manager-1', backup: false }]);
  });

  test('pattern 2: manager-2 is the backup of manager-1 behind one shared `lb`', () => {
    const lab = buildLab(2, { product: apim430 });
    expect(lab.nodes.map((n) => n.name)).toEqual(['manager-1', 'manager-2', 'worker-1', 'worker-2']);
    expect(lab.balancers.map((b) => b.name)).toEqual(['lb']);
    expect(lab.balancers[0].upstreams.find((u) => u.name === 'managers')!.servers).toEqual([
      { node: 'manager-1', backup: false },
      { node: 'manager-2', backup: true },
    ]);
  });

  test('pattern 3: one balancer per sub-domain; lb-manager is never on public', () => {
    const lab = buildLab(3, { product: apim430 });
    expect(lab.balancers.map((b) => b.name)).toEqual(['lb-manager', 'lb-worker']);
    const [lbManager, lbWorker] = lab.balancers;
    expect(lbManager.attachments.map((a) => a.network).sort()).toEqual(['admin', 'cluster']);
    expect(lbWorker.attachments.map((a) => a.network).sort()).toEqual(['cluster', 'public']);
    expect(lbManager.upstreams.map((u) => u.name)).toEqual(['managers']);
    expect(lbWorker.upstreams.map((u) => u.name)).toEqual(['workers-https', 'workers-http', 'workers-ws', 'workers-wss']);
  });

  test.each(ALL_LABS)('$product.id pattern $pattern: managers only on cluster, workers on cluster and public', ({ lab }) => {
    for (const m of managers(lab)) expect(m.attachments.map((a) => a.network)).toEqual(['cluster']);
    for (const w of workers(lab)) expect(w.attachments.map((a) => a.network).sort()).toEqual(['cluster', 'public']);
    for (const b of lab.balancers) {
      for (const l of b.listeners.filter((x) => x.kind === 'admin')) expect(l.networks).not.toContain('public');
    }
  });

  test('labs of different patterns and products get distinct host ports and subnets', () => {
    const ports = ALL_LABS.flatMap(({ lab }) => [...lab.nodes, ...lab.balancers].flatMap((s) => s.published.map((p) => p.hostPort)));
    expect(new Set(ports).size).toBe(ports.length);
    const subnets = ALL_LABS.flatMap(({ lab }) => lab.networks.map((n) => n.subnet));
    expect(new Set(subnets).size).toBe(subnets.length);
  });

  test('named labs: their own project, and subnets and host ports no unnamed lab or other slot uses', () => {
    const a = buildLab(3, { product: sim, named: { name: 'a', slot: NAMED_SLOTS.first } });
    const b = buildLab(3, { product: sim, named: { name: 'b', slot: NAMED_SLOTS.first + 1 } });
    expect([a.project, b.project]).toEqual(['carbon-labs-a', 'carbon-labs-b']);
    const subnets = (l: LabSpec) => l.networks.map((n) => n.subnet);
    const ports = (l: LabSpec) => [...l.nodes, ...l.balancers].flatMap((s) => s.published.map((p) => p.hostPort));
    const all = [...ALL_LABS.map(({ lab }) => lab), a, b, buildLab(1, { product: sim, named: { name: 'z', slot: NAMED_SLOTS.last } })];
    expect(new Set(all.flatMap(subnets)).size).toBe(all.flatMap(subnets).length);
    expect(new Set(all.flatMap(ports)).size).toBe(all.flatMap(ports).length);
    expect(Math.max(...all.flatMap(ports))).toBeLessThan(65536);
    expect(renderLab(a).find((f) => f.path === 'README.md')!.content).toContain('make down PATTERN=3 PRODUCT=sim NAME=a');
  });

  test.each(['A', '1a', '', 'a_b', 'x'.repeat(21)])('NAME=%p is refused with the rule and the fix', (value) => {
    expect(() => parseLabName(value)).toThrow('NAME must be 1–20 lower-case letters, digits or dashes, starting with a letter');
  });

  // Every real product with its stand-in: a new product is covered without naming it here.
  const REAL = Object.values(PRODUCTS).filter((p) => p.pulled);
  const PAIRS = REAL.map((p) => [p, standInOf(p)!] as const);

  test('every real product has a stand-in', () => {
    expect(REAL.map((real) => [real.id, standInOf(real)?.id])).toEqual([
      ['apim-4.3.0', 'sim'],
      ['apim-4.5.0', 'sim-apim-4.5.0'],
      ['apim-4.7.0', 'sim-apim-4.7.0'],
      ['apim-2.6.0', 'sim-apim-2.6.0'],
    ]);
  });

  test.each(PAIRS)("the stand-in lab differs from the real one (%s) only in the product's images", (realProduct, standIn) => {
    expect({ additions: standIn.additions, stopOnTerm: standIn.stopOnTerm, layout: standIn.layout, version: standIn.version }).toEqual({
      additions: realProduct.additions,
      stopOnTerm: realProduct.stopOnTerm,
      layout: realProduct.layout,
      version: realProduct.version,
    });
    const real = buildLab(3, { product: realProduct });
    const stand = buildLab(3, { product: standIn });
    expect(stand.nodes.map((n) => n.name)).toEqual(real.nodes.map((n) => n.name));
    expect(stand.balancers.map((b) => b.upstreams)).toEqual(real.balancers.map((b) => b.upstreams));
    expect(stand.product.roleSwitch).toBe(real.product.roleSwitch);
    expect(Object.keys(stand.product.roles)).toEqual(Object.keys(real.product.roles));
    for (const role of productRoles(real.product))
      expect({ ...runtimeOf(stand.product, role), image: '' }).toEqual({ ...runtimeOf(real.product, role), image: '' });
  });

  test.each(['7', 'x', '', '0', '1.5'])('PATTERN=%p is refused with the rule, the value and the fix', (value) => {
    expect(() => parsePattern(value)).toThrow(`PATTERN must be 1, 2 or 3 (got "${value}"). Try: make lab PATTERN=3`);
  });
});

describe('lab scale (--workers, --managers)', () => {
  const hostPorts = (lab: LabSpec) => [...lab.nodes, ...lab.balancers].flatMap((s) => s.published.map((p) => p.hostPort));
  const upstreamServers = (lab: LabSpec, upstream: string) =>
    lab.balancers.flatMap((b) => b.upstreams.filter((u) => u.name === upstream).map((u) => u.servers));

  test.each(ALL_LABS)(
    "$product.id pattern $pattern: the default size is today's lab, asked for or not, and records no scale",
    ({ pattern, product, lab }) => {
      const defaults = { 1: 1, 2: 2, 3: 2 }[pattern];
      expect(buildLab(pattern, { product, workers: 2, managers: defaults })).toEqual(lab);
      expect([workers(lab).length, managers(lab).length]).toEqual([2, defaults]);
      expect(lab.scale).toBeUndefined();
    },
  );

  test.each(PATTERN_IDS.flatMap((pattern) => [1, 2, 3, 4, 5].map((n) => [pattern, n] as const)))(
    'pattern %i takes %i workers, each in every worker upstream',
    (pattern, n) => {
      const lab = buildLab(pattern, { product: sim, workers: n });
      const names = Array.from({ length: n }, (_, i) => `worker-${i + 1}`);
      expect(workers(lab).map((w) => w.name)).toEqual(names);
      for (const servers of upstreamServers(lab, 'workers-https')) expect(servers).toEqual(names.map((node) => ({ node, backup: false })));
      expect(() => validateLab(lab)).not.toThrow();
    },
  );

  test('pattern 3 with one manager: no passive manager, no backup, manager-1 alone in lb-manager', () => {
    const lab = buildLab(3, { product: sim, managers: 1 });
    expect(managers(lab).map((m) => m.name)).toEqual(['manager-1']);
    expect(upstreamServers(lab, 'managers')).toEqual([[{ node: 'manager-1', backup: false }]]);
    expect(lab.balancers.map((b) => b.name)).toEqual(['lb-manager', 'lb-worker']);
    const toml = parse(renderLab(lab).find((f) => f.path === 'nodes/worker-1/repository/conf/deployment.toml')!.content) as {
      apim: { throttling: { throttle_decision_endpoints: string[] } };
    };
    expect(toml.apim.throttling.throttle_decision_endpoints).toEqual(['tcp://manager-1:5672']);
    expect(renderLab(lab).some((f) => f.path.startsWith('nodes/manager-2/'))).toBe(false);
    expect(buildLab(3, { product: sim, managers: 2 })).toEqual(buildLab(3, { product: sim }));
  });

  test.each([
    [1, 2, 'pattern 1 has one manager (no HA) (got MANAGERS=2). Try: make lab PATTERN=2, or PATTERN=3, for two managers active/passive'],
    [2, 1, 'pattern 2 has two managers active/passive (got MANAGERS=1). Try: make lab PATTERN=1, or PATTERN=3 MANAGERS=1, for one manager'],
  ] as const)('pattern %i refuses %i managers, naming the patterns that have them', (pattern, n, message) => {
    expect(() => buildLab(pattern, { product: sim, managers: n })).toThrow(
      new LabError(message.split('. Try: ')[0], message.split('. Try: ')[1]),
    );
  });

  test.each(['0', '6', '-1', 'x', '', '1.5', '2e0'])('WORKERS=%p is refused with the rule, the value and the fix', (value) => {
    expect(() => parseWorkers(value)).toThrow(
      `WORKERS must be a whole number from 1 to 5 (got "${value}"). Try: make lab PATTERN=3 WORKERS=5`,
    );
    expect(() => buildLab(3, { product: sim, workers: value as unknown as number })).toThrow('WORKERS must be a whole number from 1 to 5');
  });

  test.each(['0', '3', 'x', '', '1.0'])('MANAGERS=%p is refused with the rule, the value and the fix', (value) => {
    expect(() => parseManagers(value)).toThrow(`MANAGERS must be 1 or 2 (got "${value}"). Try: make lab PATTERN=3 MANAGERS=1`);
  });

  test.each(SCALED_LABS)('$label: unique names, addresses and host ports; the balancers list every node', ({ lab, scale }) => {
    expect(() => validateLab(lab)).not.toThrow();
    const names = [...lab.nodes, ...lab.balancers].map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const network of lab.networks) {
      const addresses = [...lab.nodes, ...lab.balancers]
        .filter((s) => s.attachments.some((a) => a.network === network.name))
        .map((s) => addressOf(lab, s.name, network.name));
      expect(new Set(addresses).size).toBe(addresses.length);
    }
    expect(new Set(hostPorts(lab)).size).toBe(hostPorts(lab).length);
    expect(workers(lab)).toHaveLength(scale.workers ?? 2);
    const managerNames = managers(lab).map((m) => m.name);
    expect(
      upstreamServers(lab, 'managers')
        .flat()
        .map((s) => s.node),
    ).toEqual(managerNames);
  });

  test('five workers: five worker services, five upstream servers, a deployment.toml and host ports each', () => {
    const lab = buildLab(3, { product: sim, workers: 5 });
    const files = renderLab(lab);
    const compose = YAML.parse(files.find((f) => f.path === 'docker-compose.yml')!.content);
    const names = ['worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-5'];
    expect(Object.keys(compose.services).filter((s) => s.startsWith('worker-'))).toEqual(names);
    const conf = files.find((f) => f.path === 'nginx/lb-worker.conf')!.content;
    const workersHttps = /upstream workers-https \{([^}]*)\}/.exec(conf)![1];
    expect(workersHttps.match(/^\s*server /gm)).toHaveLength(5);
    for (const n of names) expect(workersHttps).toContain(`server ${addressOf(lab, n, 'cluster')}:8243`);
    for (const n of names) {
      const toml = parse(files.find((f) => f.path === `nodes/${n}/repository/conf/deployment.toml`)!.content) as {
        server: { node_ip: string; server_role: string };
      };
      expect(toml.server).toMatchObject({ node_ip: n, server_role: 'gateway-worker' });
    }
    const env = files.find((f) => f.path === '.env')!.content;
    expect(env).toMatch(/^WORKER_5_API_HTTPS_PORT=25353$/m);
    expect(env).toMatch(/^WORKER_5_HTTPS_PORT=25354$/m);
    expect(addressOf(lab, 'worker-5', 'cluster')).toBe('10.213.32.25');
  });

  test("five workers on every lab, named ones in the first and last slot too, still collide with no other lab's host ports or subnets", () => {
    const all = [
      ...ALL_LABS.map(({ pattern, product }) => buildLab(pattern, { product, workers: 5 })),
      buildLab(3, { product: sim, named: { name: 'a', slot: NAMED_SLOTS.first }, workers: 5 }),
      buildLab(1, { product: sim, named: { name: 'z', slot: NAMED_SLOTS.last }, workers: 5 }),
    ];
    expect(new Set(all.flatMap(hostPorts)).size).toBe(all.flatMap(hostPorts).length);
    expect(Math.max(...all.flatMap(hostPorts))).toBeLessThan(65536);
  });

  test('a scaled lab says its size where it says how to make it again: make variables, regenerate command, README', () => {
    const lab = buildLab(3, { product: sim, named: { name: 'a', slot: NAMED_SLOTS.first }, workers: 4, managers: 1 });
    expect(lab.scale).toEqual({ workers: 4, managers: 1 });
    expect(makeArgs(lab)).toBe('PATTERN=3 PRODUCT=sim WORKERS=4 MANAGERS=1 NAME=a');
    expect(regenerateCommand(lab)).toBe('carbon-labs generate --pattern 3 --product sim --workers 4 --managers 1 --name a');
    const readme = renderLab(lab).find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain('make lab PATTERN=3 PRODUCT=sim WORKERS=4 MANAGERS=1 NAME=a');
    expect(readme).toContain('One manager (no HA) and workers in two sub-domains');
    expect(renderLab(buildLab(1, { product: sim, workers: 1 })).find((f) => f.path === 'README.md')!.content).toContain(
      'One manager (no HA) and one worker in a cluster',
    );
    expect(renderLab(buildLab(2, { product: sim, workers: 5 })).find((f) => f.path === 'README.md')!.content).toContain(
      'five workers in another',
    );
    expect(buildLab(1, { product: sim, workers: 3 }).scale).toEqual({ workers: 3 });
  });
});
