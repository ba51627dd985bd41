import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import { join } from 'path';
import { SWARM_LABELS } from '../../generator/model/swarm';
import { labContainers } from '../../generator/runtime/lab';
import { describeDocker } from '../support/docker';
import { tempDir } from '../support/labs';
import { spawnCli } from '../support/cli';

/** The built CLI in a process of its own, in the test's environment (a start may take minutes). */
const cli = (args: string[], cwd: string) => spawnCli(args, { cwd, env: process.env, timeout: 300_000 });
// Every engine call bounded, as the CLI's own are (a hung engine fails the test, it does not stall the leg).
const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });

/** `make swarm` has made this engine a one-node swarm (make test does it first). */
const swarmActive = docker('info', '--format', '{{.Swarm.LocalNodeState}}').stdout?.trim() === 'active';
const describeSwarm = swarmActive || process.env.CI ? describeDocker : describe.skip;
if (!swarmActive && !process.env.CI) process.stdout.write('SKIPPED: the swarm suite needs a swarm: make swarm\n');

describeSwarm('a lab as a swarm stack: up, refusals, and down removing the stack only', () => {
  const cwd = tempDir();
  const name = `s${Date.now().toString(36)}`;
  const project = `carbon-labs-${name}`;
  const node = docker('info', '--format', '{{.Swarm.NodeID}}').stdout.trim();
  afterAll(() => {
    docker('node', 'update', '--label-add', `${SWARM_LABELS.db}=true`, node);
    cli(['down', '--name', name], cwd);
    docker('service', 'rm', `${project}-bystander`);
  });

  test('no node labelled for the database: refused in one line naming the label command, nothing deployed', () => {
    expect(docker('node', 'update', '--label-rm', SWARM_LABELS.db, node).status).toBe(0);
    try {
      const up = cli(['up', '--pattern', '1', '--product', 'sim', '--name', name, '--target', 'swarm'], cwd);
      expect({ code: up.code, said: up.stderr.trim().split('\n').pop() }).toEqual({
        code: 2,
        said: expect.stringMatching(
          /no ready swarm node is labelled carbon-labs\.db=true.*Try: docker node update .*--label-add carbon-labs\.db=true/,
        ) as unknown as string,
      });
      expect(docker('stack', 'ls', '--format', '{{.Name}}').stdout.split('\n')).not.toContain(project);
    } finally {
      expect(docker('node', 'update', '--label-add', `${SWARM_LABELS.db}=true`, node).status).toBe(0);
    }
  });

  test('up reaches healthy and prints 127.0.0.1 URLs; a re-run changes nothing; a compose up of it is refused; down removes it and nothing else', async () => {
    // Something of the user's on the same swarm, named like the lab: down must leave it.
    expect(
      docker('service', 'create', '--detach', '--name', `${project}-bystander`, '--replicas', '0', 'carbon-labs/nginx:1.22-bookworm')
        .status,
    ).toBe(0);

    const up = cli(['up', '--pattern', '1', '--product', 'sim', '--name', name, '--target', 'swarm'], cwd);
    expect({ code: up.code, err: up.code ? up.stderr.slice(-800) : '' }).toEqual({ code: 0, err: '' });
    expect(up.stdout).toMatch(/API traffic +https:\/\/127\.0\.0\.1:\d+/);
    const admin = /REST +https:\/\/127\.0\.0\.1:(\d+)/.exec(up.stdout)![1];
    const version = spawnSync(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '--cacert',
        join(cwd, 'labs', 'local', name, 'certs', 'ca.crt'),
        `https://localhost:${admin}/services/Version`,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    expect(version.stdout).toBe('200');

    const tasks = async () => (await labContainers(project)).map((c) => `${c.service}:${c.id}`).sort();
    const before = await tasks();
    const again = cli(['up', '--name', name, '--target', 'swarm'], cwd);
    expect(again.code).toBe(0);
    expect(await tasks()).toEqual(before);

    const compose = cli(['up', '--name', name], cwd);
    expect({ code: compose.code, said: /runs as a swarm stack/.test(compose.stderr) }).toEqual({ code: 2, said: true });

    const status = cli(['status', '--name', name, '--json'], cwd);
    expect({ code: status.code, healthy: JSON.parse(status.stdout).healthy }).toEqual({ code: 0, healthy: true });

    expect(cli(['down', '--name', name], cwd).code).toBe(0);
    expect(await labContainers(project)).toEqual([]);
    expect(await labContainers(`${project}-access`)).toEqual([]);
    expect(docker('volume', 'inspect', `${project}_db-data`).status).not.toBe(0);
    expect(
      docker('network', 'ls', '--format', '{{.Name}}')
        .stdout.split('\n')
        .filter((n) => n.startsWith(`${project}_`)),
    ).toEqual([]);
    expect(docker('service', 'inspect', `${project}-bystander`).status).toBe(0);
    expect(existsSync(join(cwd, 'labs', 'local', name, 'swarm', 'docker-stack.yml'))).toBe(true);
  });
});
