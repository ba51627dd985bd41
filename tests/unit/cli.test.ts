import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { createServer, Server } from 'net';
import { join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { assertPortsFree, readLabEnv } from '../../generator/runtime/lab';
import { synthLab } from '../../generator/synth/writer';
import { tempDir } from '../support/labs';

const CLI = join(PROJECT_ROOT, 'dist', 'generator', 'cli.js');

function cli(args: string[], cwd: string) {
  const r = spawnSync('node', [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('carbon-labs CLI', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run make (the test target builds it)`);
  });

  test('generate writes the lab under labs/<product>/pattern-<n>', () => {
    const cwd = tempDir();
    const r = cli(['generate', '--pattern', '3', '--product', 'sim'], cwd);
    expect(r.code).toBe(0);
    expect(readdirSync(join(cwd, 'labs/sim/pattern-3'))).toEqual(expect.arrayContaining(['docker-compose.yml', 'nginx', 'nodes', '.env']));
  });

  test.each([
    [['generate', '--pattern', '7'], 'PATTERN must be 1, 2 or 3 (got "7"). Try: make lab PATTERN=3'],
    [['generate', '--pattern', 'x'], 'PATTERN must be 1, 2 or 3 (got "x")'],
    [['generate', '--pattern', '3', '--product', 'apim-9'], 'PRODUCT must be one of apim-4.3.0, sim (got "apim-9"). Try: make lab PATTERN=3 PRODUCT=sim'],
    [['generate', '--pattern', '3', '--colour', 'red'], "error: unknown option '--colour'"],
    [['up', '--pattern', '0', '--product', 'sim'], 'PATTERN must be 1, 2 or 3 (got "0")'],
  ])('%j fails with one line naming the rule and the fix, and writes no lab', (args, message) => {
    const cwd = tempDir();
    const r = cli(args, cwd);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')[0]).toContain(message.split('. Try')[0]);
    expect(existsSync(join(cwd, 'labs'))).toBe(false);
  });

  test.each([
    ['a pseudo file system (--out /proc/x)', ['generate', '--pattern', '1', '--product', 'sim', '--out', '/proc/x'], 'cannot write a lab to /proc/x (ENOENT', 2],
    ['a file as the lab folder', ['generate', '--pattern', '1', '--product', 'sim', '--out', '/etc/hostname'], '/etc/hostname is a file, not a folder. Try: choose another folder with --out DIR', 2],
    ['a folder under a file', ['generate', '--pattern', '1', '--product', 'sim', '--out', '/etc/hostname/lab'], 'cannot write a lab to /etc/hostname/lab (ENOTDIR', 2],
    ['down of a folder with no lab', ['down', '--pattern', '1', '--product', 'sim', '--out', 'nowhere'], 'no lab in', 2],
    ['logs of a folder with no lab', ['logs', '--pattern', '1', '--product', 'sim', '--out', 'nowhere', 'manager-1'], 'no lab in', 2],
    ['an extra argument', ['generate', '--pattern', '1', '--product', 'sim', 'extra'], "too many arguments for 'generate'", 2],
    ['a status of a named lab that does not exist', ['status', '--name', 'nosuchlab'], 'no lab named nosuchlab', 2],
    ['down with neither --pattern nor --all', ['down'], 'down needs --pattern N, --name NAME or --all. Try: make down PATTERN=3', 2],
    ['down --all with a pattern', ['down', '--all', '--pattern', '1'], '--all removes every lab; it takes no --pattern', 2],
  ] as [string, string[], string, number][])('%s: exit 2, one line on stderr, no stack trace', (_, args, message) => {
    const r = cli(args, tempDir());
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('--version prints the package version on stdout and exits 0', () => {
    const r = cli(['--version'], tempDir());
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version });
  });

  test('progress goes to stderr, so stdout stays data', () => {
    const r = cli(['generate', '--pattern', '1', '--product', 'sim'], tempDir());
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
    expect(r.stderr).toMatch(/labs\/sim\/pattern-1: \d+ written/);
  });

  test('the lab\'s .env is read as Compose reads it: quotes and inline comments', () => {
    const dir = join(tempDir(), 'lab');
    synthLab(buildLab(1, { product: sim }), dir);
    const file = join(dir, '.env');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ADMIN_HTTPS_PORT=.*$/m, 'ADMIN_HTTPS_PORT="25443"  # moved'));
    expect(readLabEnv(dir).ADMIN_HTTPS_PORT).toBe('25443');
  });

  test('a host port already in use is named with the variable and the file to change', async () => {
    const dir = join(tempDir(), 'lab');
    synthLab(buildLab(1, { product: sim }), dir);
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(23243, '127.0.0.1', r));
    try {
      await expect(assertPortsFree(dir)).rejects.toThrow(`host port 23243 (API_HTTPS_PORT in ${join(dir, '.env')}) is already in use. Try: change API_HTTPS_PORT in that .env`);
    } finally {
      server.close();
    }
    await expect(assertPortsFree(dir)).resolves.toBeUndefined();
  });
});
