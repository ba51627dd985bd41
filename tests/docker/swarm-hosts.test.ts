import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { SWARM_ENGINE_LABEL, SWARM_LABELS } from '../../generator/model/swarm';
import { describeDocker } from '../support/docker';
import { withShare } from '../support/tools';

// Every engine call bounded (a hung engine fails the test, it does not stall the leg).
const sh = (args: string[], env: NodeJS.ProcessEnv = {}, timeout = 300_000) =>
  spawnSync('bash', args, { encoding: 'utf8', timeout, env: { ...process.env, ...env } });
const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
const onHost = (n: number, ...args: string[]) => docker('-H', `unix:///run/carbon-labs/hosts/host-${n}/docker.sock`, ...args);
// Every carbon-labs image goes to each host (the stack below needs the stand-in's, NGINX's and the database's).
const IMAGE = 'carbon-labs/base:bookworm';

/** What the hosts leave on this machine: their containers, volumes, network, sockets and cgroups. */
function leftovers(): string[] {
  const lines = (r: { stdout: string }) => r.stdout.split('\n').filter(Boolean);
  const cgroups = existsSync('/sys/fs/cgroup')
    ? readdirSync('/sys/fs/cgroup').flatMap((c) =>
        existsSync(`/sys/fs/cgroup/${c}`) && !c.includes('.')
          ? readdirSync(`/sys/fs/cgroup/${c}`)
              .filter((d) => d.startsWith('carbon-labs-host-'))
              .map((d) => `cgroup ${c}/${d}`)
          : [],
      )
    : [];
  return [
    ...lines(docker('ps', '-a', '--filter', 'label=carbon-labs.host', '--format', 'container {{.Names}}')),
    ...lines(docker('volume', 'ls', '--filter', 'name=carbon-labs-host-', '--format', 'volume {{.Name}}')),
    ...lines(docker('network', 'ls', '--filter', 'name=carbon-labs-hosts', '--format', 'network {{.Name}}')),
    ...(existsSync('/run/carbon-labs/hosts') ? ['/run/carbon-labs/hosts'] : []),
    ...cgroups,
  ];
}

describeDocker('make swarm HOSTS=3: three engines on this machine, one swarm, roles on three nodes; swarm-down leaves nothing', () => {
  afterAll(() => sh(['scripts/swarm-hosts.sh', 'down']));

  test('three managers, labelled apart, the image on each, an overlay between two hosts, a stack placed by role and checked on them; again changes nothing; down removes it all', async () => {
    expect(leftovers()).toEqual([]);
    // Three engines starting and an image written into each: a share of the machine (beside make test's checks).
    const up = await withShare('make swarm HOSTS=3', async () => sh(['scripts/swarm-hosts.sh', 'up', '3']));
    expect({ code: up.status, err: up.status ? up.stderr.slice(-1500) : '' }).toEqual({ code: 0, err: '' });
    expect(up.stderr).toMatch(/host-3: loaded in \d+ s/);

    // Every node ready and a manager (three keep a quorum when one host is lost), each with its role.
    const nodes = onHost(1, 'node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}')
      .stdout.split('\n')
      .filter(Boolean)
      .sort();
    expect(nodes).toEqual(['host-1 Ready Leader', 'host-2 Ready Reachable', 'host-3 Ready Reachable']);
    const labels = (host: string) => JSON.parse(onHost(1, 'node', 'inspect', '--format', '{{json .Spec.Labels}}', host).stdout) as object;
    // Each its role, and how the harness reaches its engine (a stack's tasks there are acted on).
    const engine = (n: number) => ({ [SWARM_ENGINE_LABEL]: `unix:///run/carbon-labs/hosts/host-${n}/docker.sock` });
    expect([labels('host-1'), labels('host-2'), labels('host-3')]).toEqual([
      { [SWARM_LABELS.manager]: 'true', ...engine(1) },
      { [SWARM_LABELS.worker]: 'true', ...engine(2) },
      { [SWARM_LABELS.db]: 'true', ...engine(3) },
    ]);
    const id = docker('image', 'inspect', '--format', '{{.Id}}', IMAGE).stdout.trim();
    for (const n of [1, 2, 3]) expect(onHost(n, 'image', 'inspect', '--format', '{{.Id}}', IMAGE).stdout.trim()).toBe(id);

    // A task on the workers' host reaches one on the database's host by name, over an overlay (VXLAN between engines).
    expect(onHost(1, 'network', 'create', '-d', 'overlay', '--attachable', 'hosts-test').status).toBe(0);
    const create = (name: string, label: string, command: string) =>
      onHost(
        1,
        'service',
        'create',
        '--quiet',
        '--name',
        name,
        '--network',
        'hosts-test',
        '--endpoint-mode',
        'dnsrr',
        '--constraint',
        `node.labels.${label} == true`,
        '--restart-condition',
        'none',
        IMAGE,
        'sh',
        '-c',
        command,
      );
    expect(create('listener', SWARM_LABELS.db, 'echo over-the-overlay | nc -l -p 7777 -q 1; sleep 30').status).toBe(0);
    expect(create('caller', SWARM_LABELS.worker, 'sleep 60').status).toBe(0);
    const caller = onHost(2, 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=caller').stdout.trim();
    expect(onHost(3, 'ps', '-q', '--filter', 'label=com.docker.swarm.service.name=listener').stdout.trim()).not.toBe('');
    const heard = onHost(2, 'exec', caller, 'sh', '-c', 'getent ahostsv4 listener | head -1; nc -w 5 listener 7777 </dev/null');
    expect(heard.stdout).toMatch(/^10\.\d+\.\d+\.\d+ +STREAM listener\nover-the-overlay\n$/);

    // A stack on it, the CLI on host-1 (make lab … HOSTS=3): placed by role on three nodes, and the
    // harness acting on tasks of every node (a worker on host-2 stopped and killed, each balancer restarted).
    const cli = (...args: string[]) =>
      sh(['scripts/swarm-hosts.sh', 'run', ...args], { CARBON_LABS_SLOTS: process.env.CARBON_LABS_SLOTS ?? '32-33' });
    await withShare('a stack on three engines', async () => {
      const lab = cli('up', '--pattern', '1', '--product', 'sim', '--name', 'hosts', '--target', 'swarm');
      expect({ code: lab.status, err: lab.status ? lab.stderr.slice(-1500) : '' }).toEqual({ code: 0, err: '' });
      const status = cli('status', '--name', 'hosts', '--json');
      const placed = Object.fromEntries(
        (JSON.parse(status.stdout) as { services: { service: string; node?: string }[] }).services.map((s) => [s.service, s.node]),
      );
      expect(placed).toEqual({
        backend: 'host-2',
        db: 'host-3',
        lb: 'host-1',
        'manager-1': 'host-1',
        'worker-1': 'host-2',
        'worker-2': 'host-2',
      });
      const checked = cli('conformance', '--name', 'hosts', '--check', 'workers-survive-worker-loss,balancers-restart');
      expect({ code: checked.status, err: checked.status ? checked.stderr.slice(-2500) : '' }).toEqual({ code: 0, err: '' });
      expect(readFileSync(join('reports', 'local', 'hosts', 'report.md'), 'utf8')).toContain(
        'Placement on 3 swarm nodes: host-1: lb, manager-1; host-2: backend, worker-1, worker-2; host-3: db.',
      );
      expect(cli('down', '--name', 'hosts').status).toBe(0);
    });

    // Again: nothing to start, join or load.
    const again = sh(['scripts/swarm-hosts.sh', 'up', '3']);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toMatch(/starting host|joins|loading/);

    const down = sh(['scripts/swarm-hosts.sh', 'down']);
    expect(down.status).toBe(0);
    expect(leftovers()).toEqual([]);
  });
});
