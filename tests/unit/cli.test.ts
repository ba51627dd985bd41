import { spawnSync } from 'child_process';
import { existsSync, readdirSync } from 'fs';
import { createServer, Server } from 'net';
import { join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { assertPortsFree } from '../../generator/runtime/lab';
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
