import type { LabSpec } from '../../generator/model/lab';
import { managers, NAMED_SLOTS, workers } from '../../generator/model/lab';
import { parseLabName } from '../../generator/patterns';
import { renderLab } from '../../generator/render';
import { buildLab, parsePattern } from '../../generator/patterns';
import { apim430 } from '../../generator/products/apim-4.3.0';
import { sim } from '../../generator/products/sim';
import { ALL_LABS } from '../support/labs';

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
    expect(lab.balancers[0].upstreams.find((u) => u.name === 'managers')!.servers)
      .toEqual([{ node: 'manager-1', backup: false }, { node: 'manager-2', backup: true }]);
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

  test('the stand-in lab differs from the real one only in the product', () => {
    const real = buildLab(3, { product: apim430 });
    const stand = buildLab(3, { product: sim });
    expect(stand.nodes.map((n) => n.name)).toEqual(real.nodes.map((n) => n.name));
    expect(stand.balancers.map((b) => b.upstreams)).toEqual(real.balancers.map((b) => b.upstreams));
    expect(stand.product.profiles).toEqual(real.product.profiles);
  });

  test.each(['7', 'x', '', '0', '1.5'])('PATTERN=%p is refused with the rule, the value and the fix', (value) => {
    expect(() => parsePattern(value)).toThrow(`PATTERN must be 1, 2 or 3 (got "${value}"). Try: make lab PATTERN=3`);
  });
});
