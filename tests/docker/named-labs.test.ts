import { join } from 'path';
import { describeDocker } from '../support/docker';
import { tempDir } from '../support/labs';
import { spawnCli } from '../support/cli';

/** The built CLI in a process of its own, in the test's environment (a start may take minutes). */
const cli = (args: string[], cwd: string) => spawnCli(args, { cwd, env: process.env, timeout: 300_000 });

interface Listed {
  project: string;
  pattern: number;
  product: string;
  state: string;
  admin: string;
  dir: string;
  services: { running: number; total: number };
}

describeDocker('named labs run side by side, and every command finds them by name', () => {
  const cwd = tempDir();
  const names = [`t${Date.now().toString(36)}a`, `t${Date.now().toString(36)}b`];
  afterAll(() => {
    for (const name of names) cli(['down', '--name', name], cwd);
  });

  test('two pattern-1 labs by name: both healthy at once on their own ports, listed, status by name alone, down by name', () => {
    for (const name of names) {
      const up = cli(['up', '--pattern', '1', '--product', 'sim', '--name', name], cwd);
      expect({ code: up.code, err: up.code ? up.stderr.slice(-800) : '' }).toEqual({ code: 0, err: '' });
      expect(up.stdout).toContain('Publisher');
    }
    const printed = JSON.parse(cli(['list', '--json'], cwd).stdout) as { schemaVersion: number; labs: Listed[] };
    expect(printed.schemaVersion).toBe(1);
    const listed = printed.labs.filter((l) => names.some((n) => l.project === `carbon-labs-${n}`));
    // Running nodes as numbers, the one-shots (done) not counted: pattern 1 has db, backend, lb and 3 nodes.
    expect(listed.map((l) => l.services)).toEqual(names.map(() => ({ running: 6, total: 6 })));
    expect(listed.map((l) => [l.project, l.pattern, l.product, l.state])).toEqual(
      names.map((n) => [`carbon-labs-${n}`, 1, 'sim', 'healthy']),
    );
    expect(new Set(listed.map((l) => l.admin)).size).toBe(2);
    expect(listed.map((l) => l.dir)).toEqual(names.map((n) => join(cwd, 'labs', 'local', n)));

    const status = cli(['status', '--name', names[0], '--json'], cwd);
    const state = JSON.parse(status.stdout) as { healthy: boolean; schemaVersion: number; endpoints: { name: string; url: string }[] };
    expect({ code: status.code, healthy: state.healthy, schemaVersion: state.schemaVersion }).toEqual({
      code: 0,
      healthy: true,
      schemaVersion: 1,
    });
    // Addresses as data, not display lines.
    expect(state.endpoints.find((e) => e.name === 'REST')?.url).toBe(`${listed[0].admin}/api/am/publisher/v4`);
    const table = cli(['status', '--name', names[0]], cwd).stdout.split('\n');
    expect(table[0].trim().split(/\s+/)).toEqual(['SERVICE', 'STATE', 'HEALTH', 'EXIT']);

    // A second folder of the same lab is the same compose project: its up would take the first's containers over.
    const copy = cli(['up', '--pattern', '1', '--product', 'sim', '--name', names[0], '--out', join(cwd, 'copy')], cwd);
    expect({
      code: copy.code,
      said: copy.stderr.includes(`carbon-labs-${names[0]} already exists from ${join(cwd, 'labs', 'local', names[0])}`),
    }).toEqual({ code: 2, said: true });
    expect(cli(['status', '--name', names[0]], cwd).code).toBe(0);

    // stop keeps the lab (its database volume too), start brings the same one back healthy.
    const mark = ['exec', '--name', names[1], 'db', 'mysql', '-uroot', '-proot', '-e'];
    expect(cli([...mark, 'CREATE DATABASE carbonlabs_kept'], cwd).code).toBe(0);
    const stopped = cli(['stop', '--name', names[1]], cwd);
    expect({ code: stopped.code, err: stopped.code ? stopped.stderr.slice(-800) : '' }).toEqual({ code: 0, err: '' });
    const whileStopped = JSON.parse(cli(['list', '--json'], cwd).stdout) as { labs: Listed[] };
    expect(whileStopped.labs.filter((l) => l.project === `carbon-labs-${names[1]}`).map((l) => [l.state, l.services.running])).toEqual([
      ['stopped', 0],
    ]);
    expect(cli(['status', '--name', names[1]], cwd).code).toBe(1);
    expect(cli(['status', '--name', names[0]], cwd).code).toBe(0);
    const restarted = cli(['start', '--name', names[1]], cwd);
    expect({ code: restarted.code, err: restarted.code ? restarted.stderr.slice(-800) : '' }).toEqual({ code: 0, err: '' });
    expect(restarted.stdout).toContain(listed[1].admin.replace('127.0.0.1', 'localhost'));
    expect(cli(['status', '--name', names[1]], cwd).code).toBe(0);
    expect(cli([...mark, 'SHOW DATABASES'], cwd).stdout).toContain('carbonlabs_kept');

    expect(cli(['down', '--name', names[0]], cwd).code).toBe(0);
    const after = cli(['status', '--name', names[0]], cwd);
    expect({ code: after.code, said: after.stderr.includes('is not running') }).toEqual({ code: 1, said: true });
    expect(cli(['status', '--name', names[1]], cwd).code).toBe(0);
  });
});
