import { LabValidationError } from '../../generator/errors';
import type { BalancerSpec, LabSpec } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { validateLab } from '../../generator/synth/validate';
import { SCALED_LABS } from '../support/labs';

/** Every rule the renderers rely on, each broken once on an otherwise valid lab (as kind tests its config). */
const base = (pattern: 1 | 2 | 3 = 3) => buildLab(pattern, { product: sim });
const balancer = (lab: LabSpec, name: string, edit: (b: BalancerSpec) => BalancerSpec): LabSpec => ({
  ...lab,
  balancers: lab.balancers.map((b) => (b.name === name ? edit(b) : b)),
});
const node = (lab: LabSpec, name: string, edit: (n: LabSpec['nodes'][number]) => LabSpec['nodes'][number]): LabSpec => ({
  ...lab,
  nodes: lab.nodes.map((n) => (n.name === name ? edit(n) : n)),
});

const CASES: [string, () => LabSpec, string][] = [
  ['no manager', () => ({ ...base(), nodes: base().nodes.filter((n) => n.role !== 'manager') }), 'no manager'],
  ['no worker', () => ({ ...base(), nodes: base().nodes.filter((n) => n.role !== 'worker') }), 'no worker'],
  ['a service name twice', () => ({ ...base(), nodes: [...base().nodes, base().nodes[0]] }), 'service name used twice'],
  [
    'a manager on public',
    () => node(base(), 'manager-1', (n) => ({ ...n, attachments: [...n.attachments, { network: 'public', host: 40 }] })),
    'manager is on the public network',
  ],
  [
    'the admin listener on public',
    () =>
      balancer(base(2), 'lb', (b) => ({
        ...b,
        listeners: b.listeners.map((l) => (l.kind === 'admin' ? { ...l, networks: [...l.networks, 'public'] } : l)),
      })),
    'admin listener binds on public',
  ],
  [
    'every manager a backup',
    () =>
      balancer(base(), 'lb-manager', (b) => ({
        ...b,
        upstreams: b.upstreams.map((u) => ({ ...u, servers: u.servers.map((s) => ({ ...s, backup: true })) })),
      })),
    'every server is a backup',
  ],
  [
    'two active managers',
    () =>
      balancer(base(), 'lb-manager', (b) => ({
        ...b,
        upstreams: b.upstreams.map((u) => ({ ...u, servers: u.servers.map((s) => ({ ...s, backup: false })) })),
      })),
    '2 active managers',
  ],
  [
    'an upstream server that is no node',
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        upstreams: b.upstreams.map((u) => ({ ...u, servers: [...u.servers, { node: 'worker-9', backup: false }] })),
      })),
    'server worker-9 is not a node',
  ],
  [
    'a worker its balancer leaves out',
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        upstreams: b.upstreams.map((u) => ({ ...u, servers: u.servers.filter((s) => s.node !== 'worker-2') })),
      })),
    '[carbon-labs-sim-p3/services/lb-worker/upstream/workers-https] worker-2 is not a server of it: the worker would get no API traffic',
  ],
  [
    'a manager its balancer leaves out',
    () =>
      balancer(base(2), 'lb', (b) => ({
        ...b,
        upstreams: b.upstreams.map((u) => (u.name === 'managers' ? { ...u, servers: u.servers.filter((s) => s.node !== 'manager-2') } : u)),
      })),
    'manager-2 is not a server of it: the manager would get no admin traffic',
  ],
  [
    'an upstream server off cluster',
    () => node(base(), 'worker-2', (n) => ({ ...n, attachments: n.attachments.filter((a) => a.network !== 'cluster') })),
    'server worker-2 is not on cluster',
  ],
  [
    'a listener to a missing upstream',
    () => balancer(base(), 'lb-worker', (b) => ({ ...b, upstreams: b.upstreams.filter((u) => u.name !== 'workers-http') })),
    'sends to upstream workers-http, which lb-worker does not define',
  ],
  [
    'API traffic sent to the managers',
    () =>
      balancer(base(2), 'lb', (b) => ({
        ...b,
        listeners: b.listeners.map((l) => (l.kind === 'api-https' ? { ...l, upstream: 'managers' } : l)),
      })),
    'the api-https listener sends to managers',
  ],
  [
    "WebSocket traffic sent to the workers' passthrough port",
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        listeners: b.listeners.map((l) => (l.kind === 'api-wss' ? { ...l, upstream: 'workers-https' } : l)),
      })),
    'the api-wss listener sends to workers-https; WebSocket listeners go',
  ],
  [
    'API traffic sent to the WebSocket port',
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        listeners: b.listeners.map((l) => (l.kind === 'api-http' ? { ...l, upstream: 'workers-ws' } : l)),
      })),
    'the api-http listener sends to workers-ws',
  ],
  [
    'a plain listener sending https',
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        listeners: b.listeners.map((l) => (l.kind === 'api-ws' ? { ...l, upstream: 'workers-wss' } : l)),
      })),
    'the api-ws listener is plain but sends https to workers-wss',
  ],
  [
    'a listener on a network the balancer is not on',
    () =>
      balancer(base(), 'lb-manager', (b) => ({ ...b, listeners: b.listeners.map((l) => ({ ...l, networks: [...l.networks, 'public'] })) })),
    'binds on public, where lb-manager is not attached',
  ],
  [
    'two listeners on one port',
    () => balancer(base(), 'lb-worker', (b) => ({ ...b, listeners: [...b.listeners, b.listeners[0]] })),
    'is used by two listeners',
  ],
  [
    'a published port with no listener',
    () =>
      balancer(base(), 'lb-worker', (b) => ({
        ...b,
        published: [...b.published, { containerPort: 9999, variable: 'X_PORT', hostPort: 29999, description: 'x' }],
      })),
    'publishes 9999 (X_PORT), where no listener is',
  ],
  [
    'a network the lab does not have',
    () => ({ ...base(), networks: base().networks.filter((n) => n.name !== 'admin') }),
    'attached to network admin, which the lab does not have',
  ],
  [
    'two services on one address',
    () =>
      node(base(), 'worker-2', (n) => ({
        ...n,
        attachments: n.attachments.map((a) => (a.network === 'cluster' ? { ...a, host: 21 } : a)),
      })),
    "address .21 on cluster is also worker-2's",
  ],
  [
    "an address outside the subnet's range",
    () =>
      node(base(), 'worker-2', (n) => ({
        ...n,
        attachments: n.attachments.map((a) => (a.network === 'cluster' ? { ...a, host: 255 } : a)),
      })),
    'address .255 on cluster is outside',
  ],
  [
    'a host port published twice',
    () =>
      node(base(), 'worker-2', (n) => ({
        ...n,
        published: [{ ...n.published[0], hostPort: base().nodes.find((m) => m.name === 'worker-1')!.published[0].hostPort }],
      })),
    'is published twice',
  ],
];

describe('whole-model validation', () => {
  test.each([1, 2, 3] as const)('pattern %i as generated is valid', (pattern) => {
    expect(() => validateLab(base(pattern))).not.toThrow();
  });

  test.each(SCALED_LABS)('$label as generated is valid', ({ lab }) => {
    expect(() => validateLab(lab)).not.toThrow();
  });

  test.each(CASES)('%s is reported with where it is', (_, make, problem) => {
    let thrown: unknown;
    try {
      validateLab(make());
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(LabValidationError);
    const problems = (thrown as LabValidationError).problems;
    expect(problems.some((p) => p.includes(problem))).toBe(true);
    for (const p of problems) expect(p).toMatch(/^\[carbon-labs-sim-p\d\/services[\]/]/);
  });
});
