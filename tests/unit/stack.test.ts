import { ChildProcess, spawn } from 'child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, normalize } from 'path';
import YAML from 'yaml';
import { managers, trafficManagers, TRUST, workers } from '../../generator/model/lab';
import { renderLab } from '../../generator/render';
import { renderCompose } from '../../generator/render/compose';
import { renderBalancerConf, renderSwarmStart } from '../../generator/render/nginx';
import { accessRoutes, renderAccess, renderStack, SWARM_NAME_MAX } from '../../generator/render/stack';
import { SWARM_DBSCRIPTS, SWARM_DIR, SWARM_LABELS } from '../../generator/model/swarm';
import { buildLab } from '../../generator/patterns';
import { PRODUCTS } from '../../generator/products';
import { NAMED_SLOTS } from '../../generator/model/lab';
import { deployWaves, interpolate, swarmRefusal, tasksElsewhere } from '../../generator/runtime/swarm';
import type { SwarmNode } from '../../generator/runtime/swarm';
import { reachedItself } from '../../harness/checks/managers-unreachable-from-public';
import { synthLab } from '../../generator/synth/writer';
import { ALL_LABS, TOML_LABS } from '../support/labs';

/* eslint-disable @typescript-eslint/no-explicit-any -- parsed compose documents, navigated by key */

describe.each(TOML_LABS)('$product.id pattern $pattern as a swarm stack', ({ lab }) => {
  const stack = renderStack(lab) as any;
  const compose = renderCompose(lab) as any;

  test('the same services as the compose lab but its one-shots, with the same images, environment and health checks', () => {
    expect(Object.keys(stack.services).sort()).toEqual(
      Object.keys(compose.services)
        .filter((s) => !['dbscripts', 'truststore'].includes(s))
        .sort(),
    );
    for (const [name, service] of Object.entries<any>(stack.services)) {
      for (const key of ['image', 'environment', 'healthcheck', 'hostname', 'command']) {
        const balancer = lab.balancers.some((b) => b.name === name);
        if (key === 'environment' && balancer) continue; // the balancers' start script reads their subnets
        // A balancer is probed every second: Swarm names a task in its service's DNS only once a probe passed.
        const expected =
          key === 'healthcheck' && balancer ? { ...compose.services[name][key], interval: '1s' } : compose.services[name][key];
        expect({ name, key, value: service[key] }).toEqual({ name, key, value: expected });
      }
    }
  });

  test('no bind mounts, no fixed addresses, no depends_on: files travel as configs and secrets, names resolve by DNS', () => {
    for (const [name, service] of Object.entries<any>(stack.services)) {
      expect({ name, binds: (service.volumes ?? []).filter((v: any) => v.type === 'bind') }).toEqual({ name, binds: [] });
      expect({ name, depends_on: service.depends_on }).toEqual({ name, depends_on: undefined });
      for (const attachment of Object.values<any>(service.networks)) expect(attachment.ipv4_address).toBeUndefined();
      expect({ name, endpoint_mode: service.deploy.endpoint_mode }).toEqual({ name, endpoint_mode: 'dnsrr' });
      expect({ name, ports: service.ports }).toEqual({ name, ports: undefined });
    }
    expect(stack.secrets['lab-key'].file).toBe(`../${TRUST.key}`);
  });

  test('managers, traffic managers and the database on manager nodes, workers on worker nodes, the database on one labelled node', () => {
    const on = (service: string) => stack.services[service].deploy.placement.constraints as string[];
    for (const n of [...managers(lab), ...trafficManagers(lab)])
      expect(on(n.name)).toEqual([`node.labels.${SWARM_LABELS.manager} == true`]);
    for (const n of workers(lab)) expect(on(n.name)).toEqual([`node.labels.${SWARM_LABELS.worker} == true`]);
    expect(on('db')).toEqual([`node.labels.${SWARM_LABELS.db} == true`]);
    expect(stack.services.db.volumes).toEqual([{ type: 'volume', source: 'db-data', target: '/var/lib/mysql' }]);
  });

  test("overlay networks with the compose lab's subnets; cluster internal; attachable for the access proxy and probes", () => {
    for (const n of lab.networks) {
      expect(stack.networks[n.name]).toEqual({
        driver: 'overlay',
        attachable: true,
        ...(n.internal ? { internal: true } : {}),
        ipam: { config: [{ subnet: n.subnet }] },
      });
    }
  });

  test('every config and secret is a file the lab folder has after generate, or one `up` makes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carbon-labs-stack-'));
    try {
      synthLab(lab, dir);
      const madeAtUp: string[] = [TRUST.cert, TRUST.key, TRUST.truststore, SWARM_DBSCRIPTS.shared, SWARM_DBSCRIPTS.apim];
      for (const ref of Object.values<any>({ ...stack.configs, ...stack.secrets })) {
        const path = normalize(join(SWARM_DIR, ref.file));
        expect({ path, there: existsSync(join(dir, path)) || madeAtUp.includes(path) }).toEqual({ path, there: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the swarm balancers name their nodes by token (no compose address), with the same connect timeout as compose', () => {
    for (const b of lab.balancers) {
      const conf = renderBalancerConf(lab, b, 'marker', 'swarm');
      const servers = conf.split('\n').filter((l) => /^\s+server \S+:\d+ /.test(l));
      expect(servers.length).toBe(b.upstreams.reduce((n, u) => n + u.servers.length, 0));
      for (const line of servers) expect(line).toMatch(/server \{\{addr:([a-z0-9-]+)\}\}:\d+ .*\{\{down:\1\}\}; # \1$/);
      expect(conf).not.toMatch(/10\.213\./);
      const timeouts = (c: string) => c.match(/proxy_connect_timeout \d+ms;/g);
      expect(timeouts(conf)).toEqual(timeouts(renderBalancerConf(lab, b, 'marker')));
      expect(timeouts(conf)?.length).toBe(b.listeners.length);
    }
  });

  test('the access proxy: every published port on 127.0.0.1, the manager listener only from the admin side', () => {
    const access = renderAccess(lab) as any;
    const published = [...lab.balancers, ...lab.nodes].flatMap((s) => s.published.map((p) => p.variable)).sort();
    const ports = Object.values<any>(access.services).flatMap((s) => s.ports);
    expect(ports.map((p: any) => p.published.replace(/^\$\{(.*)\}$/, '$1')).sort()).toEqual(published);
    for (const p of ports) expect(p.host_ip).toBe('127.0.0.1');
    const admin = accessRoutes(lab).filter((r) => r.side.admin);
    expect(admin.map((r) => r.port.variable)).toEqual(['ADMIN_HTTPS_PORT']);
    expect(access.services['access-public'].networks).toEqual(['public']);
    expect(access.services['access-admin'].networks).toEqual(['admin']);
  });

  test("deploy waves follow compose's depends_on: every service once, after what it depends on", () => {
    const waves = deployWaves(lab);
    const waveOf = new Map(waves.flatMap((w, i) => w.map((s) => [s, i] as const)));
    expect([...waveOf.keys()].sort()).toEqual(Object.keys(stack.services).sort());
    for (const [name, service] of Object.entries<any>(compose.services)) {
      for (const dep of Object.keys(service.depends_on ?? {})) {
        if (waveOf.has(dep) && waveOf.has(name))
          expect({ name, dep, before: waveOf.get(dep)! < waveOf.get(name)! }).toEqual({ name, dep, before: true });
      }
    }
  });
});

test('the generated stack files are YAML a stack deploy reads: no anchors or aliases', () => {
  const { lab } = ALL_LABS[0];
  for (const f of renderLab(lab).filter((x) => x.path.startsWith(`${SWARM_DIR}/`) && x.path.endsWith('.yml'))) {
    expect(f.content).not.toMatch(/[&*]a\d+\b/);
    expect(YAML.parse(f.content)).toBeTruthy();
  }
});

test("Swarm's name limits hold for the longest named lab with five workers: configs and secrets 64, services 63", () => {
  const lab = buildLab(3, { product: PRODUCTS['sim-apim-4.5.0'], named: { name: 'a'.repeat(20), slot: NAMED_SLOTS.last }, workers: 5 });
  const stack = renderStack(lab) as any;
  for (const name of [...Object.keys(stack.configs), ...Object.keys(stack.secrets)])
    expect(`${lab.project}_${name}`.length).toBeLessThanOrEqual(SWARM_NAME_MAX);
  for (const name of Object.keys(stack.services)) expect(`${lab.project}_${name}`.length).toBeLessThanOrEqual(63);
  expect(Object.keys(stack.configs)).toContain('toml-traffic-manager-2');
});

test('interpolate fills ${VAR:-default} as Docker does', () => {
  expect(interpolate('${A:-x}/${B:-y}/${C}', { A: 'a', B: '' })).toBe('a/y/');
});

describe('swarmRefusal: each refusal names its fix', () => {
  const node = (labels: Record<string, string>, name = 'n1'): SwarmNode => ({ name, labels, ready: true });
  const all = { [SWARM_LABELS.manager]: 'true', [SWARM_LABELS.worker]: 'true', [SWARM_LABELS.db]: 'true' };

  test('no swarm: docker swarm init, or make swarm', () => {
    const e = swarmRefusal({ LocalNodeState: 'inactive' }, [], 'vm');
    expect(e?.message).toMatch(
      /not part of a swarm.*Try: make swarm .*docker swarm init, then docker node update --label-add carbon-labs\.role\.manager=true --label-add carbon-labs\.role\.worker=true --label-add carbon-labs\.db=true vm/,
    );
  });
  test('a worker node cannot deploy', () => {
    expect(swarmRefusal({ LocalNodeState: 'active', ControlAvailable: false }, [node(all)])?.message).toMatch(/swarm worker/);
  });
  test('a role with no labelled node: the label command', () => {
    const e = swarmRefusal(
      { LocalNodeState: 'active', ControlAvailable: true },
      [node({ [SWARM_LABELS.manager]: 'true', [SWARM_LABELS.db]: 'true' })],
      'vm',
    );
    expect(e?.message).toMatch(/no ready swarm node is labelled carbon-labs\.role\.worker=true.*Try: docker node update --label-add/);
  });
  test('a labelled node that is drained does not count', () => {
    expect(swarmRefusal({ LocalNodeState: 'active', ControlAvailable: true }, [{ ...node(all), ready: false }])).toBeDefined();
  });
  test('two database nodes, or a database node off the manager side', () => {
    expect(swarmRefusal({ LocalNodeState: 'active', ControlAvailable: true }, [node(all), node(all, 'n2')])?.message).toMatch(
      /2 nodes are labelled carbon-labs\.db=true.*--label-rm carbon-labs\.db n2/,
    );
    expect(
      swarmRefusal({ LocalNodeState: 'active', ControlAvailable: true }, [node(all), node({ [SWARM_LABELS.db]: 'true' }, 'n2')])?.message,
    ).toMatch(/2 nodes/);
    // The database on a host of its own (make swarm HOSTS=3): accepted.
    expect(
      swarmRefusal({ LocalNodeState: 'active', ControlAvailable: true }, [
        node({ [SWARM_LABELS.manager]: 'true' }),
        node({ [SWARM_LABELS.worker]: 'true' }, 'n2'),
        node({ [SWARM_LABELS.db]: 'true' }, 'n3'),
      ]),
    ).toBeUndefined();
  });
  test('one node labelled for every role: accepted', () => {
    expect(swarmRefusal({ LocalNodeState: 'active', ControlAvailable: true }, [node(all)])).toBeUndefined();
  });
});

describe('reachedItself: a forbidden target counts as reached only when it answers as itself', () => {
  const answer = (exit: number, status = '200', digest = 'abc') => ({ exit, status, digest });
  test('no connection is not reached', () => expect(reachedItself(answer(7, '000', ''), answer(0))).toBe(false));
  test('the same answer as from inside is reached', () => expect(reachedItself(answer(0), answer(0))).toBe(true));
  test('another status (something else at that address) is not', () =>
    expect(reachedItself(answer(0, '404', 'def'), answer(0))).toBe(false));
  test('the same status with another body (a page that differs per request) is', () =>
    expect(reachedItself(answer(0, '200', 'def'), answer(0))).toBe(true));
  test('connected, with nothing to compare with, counts as reached', () => expect(reachedItself(answer(0), undefined)).toBe(true));
});

describe('nginx-start.sh under /bin/sh with a fake DNS, hostname and nginx', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carbon-labs-start-'));
  const bin = join(dir, 'bin');
  const dns = join(dir, 'dns');
  const calls = join(dir, 'nginx-calls');
  const out = join(dir, 'nginx.conf');
  const fake = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const until = async (what: () => boolean, ms = 8000) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) if (what()) return;
    throw new Error(`timed out: ${what.toString()}`);
  };

  test('fills addresses, marks a name with no task down, picks its own address by subnet prefix, reloads on a change, stops on TERM', async () => {
    mkdirSync(bin);
    fake('getent', `awk -v n="$2" '$1 == n { print $2 "   STREAM " n; found = 1 } END { exit found ? 0 : 2 }' ${dns}`);
    // A decoy first: 10.213.311.7 must not pass for an address in 10.213.31.0/24.
    fake('hostname', 'echo "10.213.311.7 10.213.31.8 172.18.0.3 "');
    // NGINX sets its own signal handlers, so it quits on SIGQUIT though started in the background
    // of a non-interactive shell (which leaves SIGQUIT ignored); a shell fake could not.
    writeFileSync(
      join(bin, 'nginx'),
      `#!${process.execPath}\nrequire('fs').appendFileSync(${JSON.stringify(calls)}, process.argv.slice(2).join(' ') + '\\n');\nif (process.argv.includes('-g')) { process.on('SIGQUIT', () => process.exit(0)); setInterval(() => undefined, 1000); }\n`,
    );
    chmodSync(join(bin, 'nginx'), 0o755);
    writeFileSync(dns, 'manager-1 10.0.0.5\n');
    const conf = join(dir, 'nginx.conf.in');
    writeFileSync(
      conf,
      [
        'server {{addr:manager-1}}:9443 max_fails=1 {{down:manager-1}}; # manager-1',
        'server {{addr:manager-2}}:9443 max_fails=0 backup {{down:manager-2}}; # manager-2',
        'listen {{ip:admin}}:9443 ssl;',
        '',
      ].join('\n'),
    );
    const script = join(dir, 'nginx-start.sh');
    writeFileSync(script, renderSwarmStart('marker'));
    child = spawn('/bin/sh', [script], {
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        CARBON_LABS_NGINX_IN: conf,
        CARBON_LABS_NGINX_OUT: out,
        CARBON_LABS_SUBNET_admin: '10.213.31.',
      },
      stdio: 'ignore',
    });

    await until(() => existsSync(out) && existsSync(calls));
    expect(readFileSync(out, 'utf8').split('\n')).toEqual([
      'server 10.0.0.5:9443 max_fails=1 ; # manager-1',
      'server 127.0.0.1:9443 max_fails=0 backup down; # manager-2',
      'listen 10.213.31.8:9443 ssl;',
      '',
    ]);
    expect(readFileSync(calls, 'utf8')).toBe(`-c ${out} -g daemon off;\n`);

    writeFileSync(dns, 'manager-1 10.0.0.5\nmanager-2 10.0.0.6\n');
    await until(() => readFileSync(calls, 'utf8').includes('-s reload'));
    expect(readFileSync(out, 'utf8')).toContain('server 10.0.0.6:9443 max_fails=0 backup ; # manager-2');
    expect(readFileSync(calls, 'utf8').split('\n').filter(Boolean)).toEqual([
      `-c ${out} -g daemon off;`,
      `-t -q -c ${out}`,
      `-c ${out} -s reload`,
    ]);

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 20_000);
});

describe("a stack's tasks on other nodes, as the states of its containers", () => {
  const project = 'carbon-labs-sim-p3';
  const services = [
    { ID: 's1', Spec: { Name: `${project}_worker-1` } },
    { ID: 's2', Spec: { Name: `${project}_db` } },
    { ID: 's3', Spec: { Name: `${project}_manager-1` } },
  ];
  const nodes: SwarmNode[] = ['host-1', 'host-2', 'host-3'].map((name, i) => ({ id: `n${i + 1}`, name, labels: {}, ready: true }));
  const task = (service: string, node: string, state: string, created: string, id = `${service}-${created}`) => ({
    ServiceID: service,
    NodeID: node,
    CreatedAt: created,
    Status: { State: state, ContainerStatus: { ContainerID: id } },
  });
  // As seen from host-1 (n1).
  const elsewhere = (tasks: Parameters<typeof tasksElsewhere>[2]) => tasksElsewhere(project, services, tasks, nodes, 'n1');

  test("running is healthy (Swarm holds a task with a health check in starting until its first healthy probe); this node's own are left to its engine", () => {
    const states = elsewhere([
      task('s1', 'n2', 'running', '2026-12-08T04:00:00Z'),
      task('s2', 'n3', 'starting', '2026-12-08T04:00:01Z'),
      task('s3', 'n1', 'running', 'x'),
    ]);
    expect(states).toEqual([
      { service: 'worker-1', state: 'running', health: 'healthy', id: 's1-2026-12-08T04:00:00Z', node: 'host-2' },
      { service: 'db', state: 'running', health: 'starting', id: 's2-2026-12-08T04:00:01Z', node: 'host-3' },
    ]);
  });

  test("the newest task of a service counts (a replaced one's is gone); a task with no container yet, or another stack's, is none", () => {
    const states = elsewhere([
      task('s1', 'n2', 'running', '2026-12-08T04:00:00Z'),
      task('s1', 'n3', 'preparing', '2026-12-08T04:01:00Z'),
      { ServiceID: 's2', NodeID: 'n3', CreatedAt: 'y', Status: { State: 'pending' } },
      task('other', 'n2', 'running', 'z'),
    ]);
    expect(states).toEqual([{ service: 'worker-1', state: 'preparing', health: undefined, id: 's1-2026-12-08T04:01:00Z', node: 'host-3' }]);
  });
});
