import { spawn, spawnSync } from 'child_process';
import type { ChildProcess } from 'child_process';
import { describeWithTool } from '../support/tools';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { createServer, Server } from 'net';
import { join } from 'path';
import { NAMED_SLOTS } from '../../generator/model/lab';
import { resizeRefusal } from '../../generator/cli/lab-ref';
import { parsePatternList } from '../../generator/cli/options';
import { table } from '../../generator/table';
import { PROJECT_ROOT } from '../../generator/paths';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { assertPortsFree, readLabEnv, transientlyHeldPort } from '../../generator/runtime/lab';
import { readLabIdentity } from '../../generator/synth/lab-folder';
import { synthLab } from '../../generator/synth/writer';
import { tempDir } from '../support/labs';
import { CLI, runCli, spawnCli } from '../support/cli';
import { PRODUCTS } from '../../generator/products';

/** The CLI as make runs it (its fixes in make's words), or as a user runs it (`direct`: in the CLI's), in this process. */
const cli = runCli;

describe('a start tries again when Docker could not bind a host port for a moment', () => {
  test("the port of Docker 20.10's userland proxy error; nothing for other errors", async () => {
    const seen =
      'Error response from daemon: driver failed programming external connectivity on endpoint carbon-labs-t26-worker-1-1 (e2ec8b2c): Error starting userland proxy: listen tcp4 127.0.0.1:46314: bind: address already in use';
    expect(transientlyHeldPort(seen)).toBe(46314);
    expect(transientlyHeldPort('Error response from daemon: Conflict. The container name "/x" is already in use')).toBeUndefined();
    expect(transientlyHeldPort('dependency failed to start: container carbon-labs-t26-db-1 is unhealthy')).toBeUndefined();
  });
});

describe("conformance's --pattern: one, several or all, each parsed", () => {
  test.each([
    ['3', { ids: [3], all: false }],
    ['2,3', { ids: [2, 3], all: false }],
    [' 3, 2 ,3', { ids: [3, 2], all: false }],
    ['all', { ids: [1, 2, 3], all: true }],
  ])('%j', (value, parsed) => {
    expect(parsePatternList(value)).toEqual(parsed);
  });
  test.each([['4'], [','], ['1,two'], ['ALL']])('%j is refused, naming the rule', (value) => {
    expect(() => parsePatternList(value)).toThrow(/PATTERN must be 1, 2 or 3/);
  });
});

describe('carbon-labs CLI', () => {
  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run make (the test target builds it)`);
  });

  test("generate --all writes every product's patterns 1-3 in their default folders, as the committed labs/; it takes no other lab option", async () => {
    const cwd = tempDir();
    const r = await cli(['generate', '--all'], cwd);
    expect(r.code).toBe(0);
    const written = Object.keys(PRODUCTS).flatMap((id) => [1, 2, 3].map((p) => `labs/${id}/pattern-${p}`));
    expect(written.filter((d) => !existsSync(join(cwd, d, 'docker-compose.yml')))).toEqual([]);
    expect(readFileSync(join(cwd, 'labs/sim/pattern-3/docker-compose.yml'), 'utf8')).toBe(
      readFileSync(join(PROJECT_ROOT, 'labs/sim/pattern-3/docker-compose.yml'), 'utf8'),
    );
    const refused = await cli(['generate', '--all', '--pattern', '2'], cwd);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({
      code: 2,
      stderr: expect.stringContaining('it takes no other lab option'),
    });
  });

  test("completion bash completes commands, each command's own options, option values and named labs, in a real bash", async () => {
    const cwd = tempDir();
    mkdirSync(join(cwd, 'labs', 'local', 'alpha'), { recursive: true });
    const script = await cli(['completion', 'bash'], cwd);
    expect(script.code).toBe(0);
    writeFileSync(join(cwd, 'completion.bash'), script.stdout);
    const complete = (...words: string[]) =>
      spawnSync(
        'bash',
        [
          '-c',
          `source completion.bash; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _carbon_labs; echo "\${COMPREPLY[*]}"`,
        ],
        { cwd, encoding: 'utf8' },
      ).stdout.trim();
    expect(complete('carbon-labs', 'st')).toBe('stop start status');
    expect(complete('carbon-labs', 'up', '--product', 'sim-apim-4')).toBe('sim-apim-4.5.0 sim-apim-4.7.0');
    expect(complete('carbon-labs', 'logs', '--f')).toBe('--follow');
    expect(complete('carbon-labs', 'list', '--')).toBe('--json --help');
    expect(complete('carbon-labs', 'down', '--name', 'a')).toBe('alpha');
    expect(await cli(['completion', 'fish'], cwd)).toEqual(
      expect.objectContaining({ code: 2, stderr: expect.stringContaining('completion is for bash or zsh (got "fish")') }),
    );
  });

  test.each(['generate', 'up', 'down', 'stop', 'start', 'export', 'status', 'logs', 'exec', 'conformance', 'results'])(
    '%s --help ends with examples of that command',
    async (command) => {
      const r = await cli([command, '--help'], tempDir());
      expect(r.code).toBe(0);
      const examples = r.stdout.slice(r.stdout.indexOf('Examples:'));
      expect(r.stdout).toContain('Examples:');
      expect(
        examples
          .split('\n')
          .slice(1)
          .filter(Boolean)
          .every((l) => l.startsWith(`  carbon-labs ${command} `)),
      ).toBe(true);
    },
  );

  test("results reads a lab's reports under the working folder, as the lab is under its labs/", async () => {
    const cwd = tempDir();
    const r = await cli(['results', '--pattern', '3', '--product', 'sim'], cwd);
    expect({
      code: r.code,
      said: r.stderr.includes(
        `no conformance run of carbon-labs-sim-p3 yet (no ${join(cwd, 'reports', 'sim', 'pattern-3', 'results.json')})`,
      ),
    }).toEqual({ code: 2, said: true });
  });

  test('two named labs written outside labs/local/ get slots of their own (a claim each); a claim whose folder is gone frees its slot', async () => {
    const cwd = tempDir();
    const slotOf = (dir: string) => readLabIdentity(join(cwd, dir)).named?.slot;
    expect((await cli(['generate', '--pattern', '1', '--product', 'sim', '--name', 'a', '--out', 'x'], cwd)).code).toBe(0);
    expect((await cli(['generate', '--pattern', '1', '--product', 'sim', '--name', 'b', '--out', 'y'], cwd)).code).toBe(0);
    expect(slotOf('x')).not.toBe(slotOf('y'));
    expect(JSON.parse(readFileSync(join(cwd, 'labs', 'local', '.claims', 'a.json'), 'utf8'))).toEqual({
      slot: slotOf('x'),
      dir: join(cwd, 'x'),
    });
    const freed = slotOf('x');
    rmSync(join(cwd, 'x'), { recursive: true });
    expect((await cli(['generate', '--pattern', '1', '--product', 'sim', '--name', 'c', '--out', 'z'], cwd)).code).toBe(0);
    expect(slotOf('z')).toBe(freed);
  });

  test('generate writes the lab under labs/<product>/pattern-<n>', async () => {
    const cwd = tempDir();
    const r = await cli(['generate', '--pattern', '3', '--product', 'sim'], cwd);
    expect(r.code).toBe(0);
    expect(readdirSync(join(cwd, 'labs/sim/pattern-3'))).toEqual(expect.arrayContaining(['docker-compose.yml', 'nginx', 'nodes', '.env']));
  });

  test.each([
    [['generate', '--prodct', 'sim'], "carbon-labs: unknown option '--prodct' (did you mean --product?). Try: carbon-labs generate --help"],
    [['exec', '--pattern', '1'], "carbon-labs: missing required argument 'service'. Try: carbon-labs exec --help"],
    [['generat'], "carbon-labs: unknown command 'generat' (did you mean generate?). Try: carbon-labs --help"],
  ])("commander's own error for %j is one line in the house style, naming where to look", async (args, line) => {
    const r = await cli(args, tempDir());
    expect([r.code, r.stderr]).toEqual([2, `${line}\n`]);
  });

  test('--out: the files and manifest name the folder in their regenerate command; the folder does not silently become another lab', async () => {
    const cwd = tempDir();
    const out = join(cwd, 'mine');
    expect((await cli(['generate', '--pattern', '3', '--product', 'sim', '--out', out], cwd)).code).toBe(0);
    expect(readFileSync(join(out, 'docker-compose.yml'), 'utf8').split('\n')[0]).toContain(
      `carbon-labs generate --pattern 3 --product sim --out ${out}`,
    );
    expect(JSON.parse(readFileSync(join(out, '.carbon-labs-manifest.json'), 'utf8')).command).toBe(
      `carbon-labs generate --pattern 3 --product sim --out ${out}`,
    );
    const other = await cli(['generate', '--pattern', '1', '--product', 'sim', '--out', out], cwd, true);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`${out} holds the pattern 3 lab of sim; writing pattern 1 of sim there would make it another lab`);
    expect(other.stderr).toContain(`Try: carbon-labs down --pattern 3 --product sim --out ${out} and remove the folder first`);
    expect((await cli(['generate', '--pattern', '3', '--product', 'sim', '--out', out], cwd)).code).toBe(0);
  });

  test('exec hands the command its own options (exec manager-1 ls -la), as docker compose exec does: the next error is the missing lab, not an unknown option', async () => {
    const r = await cli(
      ['exec', '--pattern', '1', '--product', 'sim', '--out', join(tempDir(), 'none'), 'manager-1', 'ls', '-la'],
      tempDir(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no lab in');
    expect(r.stderr).not.toContain('unknown option');
  });

  test('tables align every column on its widest cell, names in the header; the last column is not padded', async () => {
    expect(
      table([
        ['LAB', 'STATE', 'FOLDER'],
        ['carbon-labs-simapim470-p3', 'healthy', '/a'],
        ['carbon-labs-t1', 'degraded', '/b'],
      ]).split('\n'),
    ).toEqual([
      'LAB                        STATE     FOLDER',
      'carbon-labs-simapim470-p3  healthy   /a',
      'carbon-labs-t1             degraded  /b',
    ]);
  });

  test('no command at all prints the help on stdout and exits 0 (as kind and docker compose do)', async () => {
    const r = await cli([], tempDir());
    expect([r.code, r.stderr, r.stdout.split('\n')[0]]).toEqual([0, '', 'Usage: carbon-labs [options] [command]']);
  });

  test('logs refuses a --tail that is no number of lines, and a service the lab does not have (naming its services), before it asks Docker', async () => {
    const cwd = tempDir();
    expect((await cli(['generate', '--pattern', '1', '--product', 'sim'], cwd)).code).toBe(0);
    const tail = await cli(['logs', '--pattern', '1', '--product', 'sim', '--tail', 'abc'], cwd);
    expect([tail.code, tail.stderr.trim()]).toEqual([
      2,
      'carbon-labs: --tail must be a whole number of lines or all (got "abc"). Try: carbon-labs logs --pattern 1 --product sim --tail 200',
    ]);
    const unknown = await cli(['logs', '--pattern', '1', '--product', 'sim', 'managr-1'], cwd);
    expect([unknown.code, unknown.stderr.trim()]).toEqual([
      2,
      'carbon-labs: carbon-labs-sim-p1 has no service managr-1; its services are db, backend, lb, manager-1, worker-1, worker-2. Try: carbon-labs logs --pattern 1 --product sim manager-1',
    ]);
  });

  test("a lab at a JVM's pace is written beside the committed one, never over it, and differs from the real product's by image, name and slot", async () => {
    const cwd = tempDir();
    expect((await cli(['generate', '--pattern', '3', '--product', 'sim'], cwd)).code).toBe(0);
    const committed = readFileSync(join(cwd, 'labs/sim/pattern-3/docker-compose.yml'), 'utf8');
    const paced = await cli(['generate', '--pattern', '3', '--product', 'sim', '--pace', 'jvm'], cwd);
    expect(paced.code).toBe(0);
    expect(readFileSync(join(cwd, 'labs/sim/pattern-3/docker-compose.yml'), 'utf8')).toBe(committed);
    const compose = readFileSync(join(cwd, 'labs/sim/pattern-3-jvm/docker-compose.yml'), 'utf8');
    expect(compose).toContain('image: ${CARBON_LABS_PRODUCT_IMAGE:-carbon-labs/apim-sim:4.3.0-jvm}');
    expect(JSON.parse(readFileSync(join(cwd, 'labs/sim/pattern-3-jvm/.carbon-labs-manifest.json'), 'utf8'))).toMatchObject({
      product: 'sim',
      pace: 'jvm',
    });
    // The manager balancer's timeouts are the real product's (10 s reads), not the stand-in's 2 s.
    expect(readFileSync(join(cwd, 'labs/sim/pattern-3-jvm/nginx/lb-manager.conf'), 'utf8')).toContain('proxy_read_timeout 10s;');
    expect(committed).not.toContain('4.3.0-jvm');
    expect((await cli(['generate', '--pattern', '1', '--product', 'sim', '--pace', 'jvm', '--boot-seconds', '20'], cwd)).code).toBe(0);
    expect(existsSync(join(cwd, 'labs/sim/pattern-1-boot-20s/docker-compose.yml'))).toBe(true);
    expect(existsSync(join(cwd, 'labs/sim/pattern-1'))).toBe(false);
  });

  test.each([
    [['generate', '--pattern', '1', '--product', 'sim', '--pace', 'slow'], 'PACE must be native or jvm (got "slow")'],
    [
      ['generate', '--pattern', '1', '--product', 'sim', '--pace', 'jvm', '--boot-seconds', '2'],
      'BOOT_S must be a whole number of seconds from 5 to 450 (got "2")',
    ],
    [['generate', '--pattern', '1', '--product', 'sim', '--pace', 'native', '--boot-seconds', '20'], 'BOOT_S is a boot time for PACE=jvm'],
    [
      ['generate', '--pattern', '1', '--product', 'apim-4.3.0', '--pace', 'jvm'],
      'PACE is for a stand-in: apim-4.3.0 runs at its own pace. Try: leave PACE out, or make lab PRODUCT=sim PACE=jvm',
    ],
  ])('%j is refused in one line', async (args, said) => {
    const cwd = tempDir();
    const r = await cli(args, cwd);
    expect({ code: r.code, said: r.stderr.trim().split('\n').length === 1 && r.stderr.includes(said) }).toEqual({ code: 2, said: true });
    expect(existsSync(join(cwd, 'labs'))).toBe(false);
  });

  test.each([
    [['generate', '--pattern', '7'], 'PATTERN must be 1, 2 or 3 (got "7"). Try: make lab PATTERN=3'],
    [['generate', '--pattern', 'x'], 'PATTERN must be 1, 2 or 3 (got "x")'],
    [
      ['generate', '--pattern', '3', '--product', 'apim-9'],
      'PRODUCT must be one of apim-4.3.0, sim (also sim-apim-4.3.0), apim-4.5.0, sim-apim-4.5.0, apim-4.7.0, sim-apim-4.7.0, apim-2.6.0, sim-apim-2.6.0, or auto (got "apim-9"). Try: make lab PATTERN=3 PRODUCT=sim',
    ],
    [['generate', '--pattern', '3', '--colour', 'red'], "carbon-labs: unknown option '--colour'. Try: carbon-labs generate --help"],
    [['up', '--pattern', '0', '--product', 'sim'], 'PATTERN must be 1, 2 or 3 (got "0")'],
    [
      ['up', '--pattern', '3', '--product', 'sim', '--target', 'k8s'],
      '--target must be compose or swarm, not "k8s". Try: make lab PATTERN=3 TARGET=swarm',
    ],
    [['generate', '--pattern', '3', '--product', 'sim', '--target', 'kubernetes'], '--target must be compose or swarm, not "kubernetes"'],
    // Parsed at the edge: refused before the command needs Docker or a lab.
    [['conformance', '--pattern', '2,x', '--product', 'sim'], 'PATTERN must be 1, 2 or 3 (got "x")'],
    [
      ['conformance', '--pattern', 'all', '--product', 'sim', '--parallel', '0'],
      'PARALLEL must be a whole number ≥ 1 (got "0"). Try: make conformance PATTERN=all PARALLEL=2',
    ],
    [['results', '--pattern', '3', '--product', 'sim', '--target', 'k8s'], '--target must be compose or swarm, not "k8s"'],
    [['down', '--name', 'Bad_Name'], 'NAME must be 1–20 lower-case letters, digits or dashes, starting with a letter (got "Bad_Name")'],
    [['up', '--pattern', '3', '--product', 'sim', '--publish'], '--publish is for --target swarm'],
  ])('%j fails with one line naming the rule and the fix, and writes no lab', async (args, message) => {
    const cwd = tempDir();
    const r = await cli(args, cwd);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')[0]).toContain(message.split('. Try')[0]);
    expect(existsSync(join(cwd, 'labs'))).toBe(false);
  });

  test("run directly (not by make), a fix is in the CLI's words, and names the command asked: generate is not told to start containers", async () => {
    const cwd = tempDir();
    const r = await cli(['generate', '--pattern', '7'], cwd, true);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('carbon-labs: PATTERN must be 1, 2 or 3 (got "7"). Try: carbon-labs generate --pattern 3');
    const up = await cli(['up', '--pattern', '3', '--product', 'sim', '--target', 'k8s'], cwd, true);
    expect(up.stderr.trim()).toBe(
      'carbon-labs: --target must be compose or swarm, not "k8s". Try: carbon-labs up --pattern 3 --target swarm',
    );
  });

  test.each([
    [
      'a pseudo file system (--out /proc/x)',
      ['generate', '--pattern', '1', '--product', 'sim', '--out', '/proc/x'],
      'cannot write a lab to /proc/x (ENOENT',
      2,
    ],
    [
      'a file as the lab folder',
      ['generate', '--pattern', '1', '--product', 'sim', '--out', '/etc/hostname'],
      '/etc/hostname is a file, not a folder. Try: choose another folder with --out DIR',
      2,
    ],
    [
      'a folder under a file',
      ['generate', '--pattern', '1', '--product', 'sim', '--out', '/etc/hostname/lab'],
      'cannot write a lab to /etc/hostname/lab (ENOTDIR',
      2,
    ],
    ['down of a folder with no lab', ['down', '--pattern', '1', '--product', 'sim', '--out', 'nowhere'], 'no lab in', 2],
    ['logs of a folder with no lab', ['logs', '--pattern', '1', '--product', 'sim', '--out', 'nowhere', 'manager-1'], 'no lab in', 2],
    ['status of a folder with no lab', ['status', '--pattern', '1', '--product', 'sim', '--out', 'nowhere'], 'no lab in', 2],
    ['stop of a folder with no lab', ['stop', '--pattern', '1', '--product', 'sim', '--out', 'nowhere'], 'no lab in', 2],
    ['start of a folder with no lab', ['start', '--pattern', '1', '--product', 'sim', '--out', 'nowhere'], 'no lab in', 2],
    ['an extra argument', ['generate', '--pattern', '1', '--product', 'sim', 'extra'], "too many arguments for 'generate'", 2],
    ['a status of a named lab that does not exist', ['status', '--name', 'nosuchlab'], 'no lab named nosuchlab', 2],
    ['down with neither --pattern nor --all', ['down'], 'down needs --pattern N, --name NAME or --all. Try: make down PATTERN=3', 2],
    ['down --all with a pattern', ['down', '--all', '--pattern', '1'], '--all removes every lab; it takes no --pattern', 2],
  ] as [string, string[], string, number][])('%s: exit 2, one line on stderr, no stack trace', async (_, args, message) => {
    const r = await cli(args, tempDir());
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test.each([
    [
      ['generate', '--pattern', '1', '--product', 'sim', '--managers', '2'],
      'pattern 1 has one manager (no HA) (got MANAGERS=2). Try: make lab PATTERN=2, or PATTERN=3, for two managers active/passive',
    ],
    [
      ['up', '--pattern', '2', '--product', 'sim', '--managers', '1'],
      'pattern 2 has two managers active/passive (got MANAGERS=1). Try: make lab PATTERN=1, or PATTERN=3 MANAGERS=1, for one manager',
    ],
    [
      ['generate', '--pattern', '3', '--product', 'sim', '--managers', '3'],
      'MANAGERS must be 1 or 2 (got "3"). Try: make lab PATTERN=3 MANAGERS=1',
    ],
    [
      ['generate', '--pattern', '3', '--product', 'sim', '--workers', '6'],
      'WORKERS must be a whole number from 1 to 5 (got "6"). Try: make lab PATTERN=3 WORKERS=5',
    ],
    [['generate', '--pattern', '1', '--product', 'sim', '--workers', '0'], 'WORKERS must be a whole number from 1 to 5 (got "0")'],
    [['up', '--pattern', '3', '--product', 'sim', '--workers', 'many'], 'WORKERS must be a whole number from 1 to 5 (got "many")'],
    [['status', '--pattern', '3', '--product', 'sim', '--workers', '9'], 'WORKERS must be a whole number from 1 to 5 (got "9")'],
  ])("%j: a scale outside the pattern's rule is one line naming the rule and the fix, exit 2, no lab", async (args, message) => {
    const cwd = tempDir();
    const r = await cli(args, cwd);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: '' });
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`carbon-labs: ${message}`)]);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(cwd, 'labs'))).toBe(false);
  });

  test("--workers 5 writes five workers and records the size, so the lab's other commands find the same model", async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'labs/sim/pattern-3');
    expect((await cli(['generate', '--pattern', '3', '--product', 'sim', '--workers', '5'], cwd)).code).toBe(0);
    expect(readdirSync(join(dir, 'nodes')).sort()).toEqual([
      'manager-1',
      'manager-2',
      'worker-1',
      'worker-2',
      'worker-3',
      'worker-4',
      'worker-5',
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, '.carbon-labs-manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      command: 'carbon-labs generate --pattern 3 --product sim --workers 5',
      pattern: 3,
      product: 'sim',
      scale: { workers: 5 },
    });
    expect(readFileSync(join(dir, 'docker-compose.yml'), 'utf8').split('\n')[0]).toContain(
      'Regenerate: carbon-labs generate --pattern 3 --product sim --workers 5',
    );

    // Acting on the lab with another size is an error, not a silent second model.
    const down = await cli(['down', '--pattern', '3', '--product', 'sim', '--workers', '2'], cwd);
    expect({ code: down.code, stdout: down.stdout }).toEqual({ code: 2, stdout: '' });
    expect(down.stderr.trim()).toBe(
      `carbon-labs: carbon-labs-sim-p3 (${dir}) has 5 workers and 2 managers, not 2 workers and 2 managers. Try: leave WORKERS and MANAGERS out (a lab remembers its size), or resize it: make down PATTERN=3 PRODUCT=sim WORKERS=5, then make lab PATTERN=3 PRODUCT=sim`,
    );
    const logs = await cli(['logs', '--pattern', '3', '--product', 'sim', '--managers', '1', 'worker-5'], cwd);
    expect(logs.code).toBe(2);
    expect(logs.stderr).toContain('has 5 workers and 2 managers, not 5 workers and 1 manager. Try: leave WORKERS and MANAGERS out');

    // An unnamed lab is what its options say: without --workers, the pattern's default size.
    const back = await cli(['generate', '--pattern', '3', '--product', 'sim'], cwd);
    expect(back.code).toBe(0);
    expect(back.stderr).toContain(`${dir}: resized from WORKERS=5 to the pattern's default size`);
    expect(back.stderr).toContain('3 removed');
    expect(readdirSync(join(dir, 'nodes')).sort()).toEqual(['manager-1', 'manager-2', 'worker-1', 'worker-2']);
    expect(JSON.parse(readFileSync(join(dir, '.carbon-labs-manifest.json'), 'utf8')).scale).toBeUndefined();
  });

  test('a named lab remembers its size: generate --name alone keeps it, --workers resizes it, other commands check it', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'labs/local/a');
    synthLab(buildLab(3, { product: sim, named: { name: 'a', slot: NAMED_SLOTS.first }, workers: 4, managers: 1 }), dir);
    const again = await cli(['generate', '--name', 'a'], cwd);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('resized');
    expect(readdirSync(join(dir, 'nodes')).sort()).toEqual(['manager-1', 'worker-1', 'worker-2', 'worker-3', 'worker-4']);

    const resized = await cli(['generate', '--name', 'a', '--workers', '5'], cwd);
    expect(resized.stderr).toContain(`${dir}: resized from WORKERS=4 MANAGERS=1 to WORKERS=5 MANAGERS=1`);
    expect(readdirSync(join(dir, 'nodes')).sort()).toEqual(['manager-1', 'worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-5']);
    expect(JSON.parse(readFileSync(join(dir, '.carbon-labs-manifest.json'), 'utf8'))).toMatchObject({
      named: { name: 'a', slot: NAMED_SLOTS.first },
      scale: { workers: 5, managers: 1 },
    });

    const status = await cli(['status', '--name', 'a', '--managers', '2'], cwd);
    expect({ code: status.code, stdout: status.stdout }).toEqual({ code: 2, stdout: '' });
    expect(status.stderr.trim()).toBe(
      `carbon-labs: carbon-labs-a (${dir}) has 5 workers and 1 manager, not 5 workers and 2 managers. Try: leave WORKERS and MANAGERS out (a lab remembers its size), or resize it: make down PATTERN=3 PRODUCT=sim WORKERS=5 MANAGERS=1 NAME=a, then make lab PATTERN=3 PRODUCT=sim WORKERS=5 NAME=a`,
    );
  });

  test('a named lab made at a slot the unnamed labs of a product added since now take is refused by generate, naming the fix; status still reads it', async () => {
    const cwd = tempDir();
    const dir = join(cwd, 'labs/local/old');
    const slot = NAMED_SLOTS.first - 1;
    synthLab(buildLab(1, { product: sim, named: { name: 'old', slot } }), dir);
    const again = await cli(['generate', '--name', 'old'], cwd);
    expect({ code: again.code, lines: again.stderr.trim().split('\n').length }).toEqual({ code: 2, lines: 1 });
    expect(again.stderr).toContain(
      `lab old was made at slot ${slot}, whose subnets and host ports the unnamed labs of a product added since now take. Try: make down NAME=old, remove ${dir}, then make lab PATTERN=1 PRODUCT=sim NAME=old`,
    );
    expect((await cli(['status', '--name', 'old'], cwd)).stderr).not.toContain('was made at slot');
  });

  test('up refuses to resize a running lab (its balancer would keep its old upstreams), naming both ways on', async () => {
    const running = [
      'backend',
      'db',
      'dbscripts',
      'lb-manager',
      'lb-worker',
      'manager-1',
      'manager-2',
      'truststore',
      'worker-1',
      'worker-2',
    ];
    expect(resizeRefusal(buildLab(3, { product: sim }), running)).toBeUndefined();
    expect(resizeRefusal(buildLab(3, { product: sim, workers: 5 }), running)?.message).toBe(
      'carbon-labs-sim-p3 is running with 2 workers and 2 managers; it can have 5 workers and 2 managers only after it is down. ' +
        'Try: make down PATTERN=3 PRODUCT=sim, then make lab PATTERN=3 PRODUCT=sim WORKERS=5; or keep its size: make lab PATTERN=3 PRODUCT=sim',
    );
    const scaled = [...running.filter((s) => s !== 'manager-2'), 'worker-3'];
    expect(resizeRefusal(buildLab(3, { product: sim, workers: 3, managers: 1 }), scaled)).toBeUndefined();
    expect(resizeRefusal(buildLab(3, { product: sim }), scaled)?.message).toContain(
      'or keep its size: make lab PATTERN=3 PRODUCT=sim WORKERS=3 MANAGERS=1',
    );
  });

  test('generate --target swarm writes both targets and names the stack file', async () => {
    const cwd = tempDir();
    const r = await cli(['generate', '--pattern', '2', '--product', 'sim', '--target', 'swarm'], cwd);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`stack: ${join(cwd, 'labs/sim/pattern-2/swarm/docker-stack.yml')}`);
    for (const f of ['docker-compose.yml', 'swarm/docker-stack.yml', 'swarm/access.yml', 'swarm/nginx/lb.conf'])
      expect(existsSync(join(cwd, 'labs/sim/pattern-2', f))).toBe(true);
  });

  test('--version prints the package version on stdout and exits 0', async () => {
    // A real process: the built bin, its exit code.
    const r = spawnCli(['--version'], { cwd: tempDir() });
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({
      code: 0,
      stdout: JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).version,
    });
  });

  test('progress goes to stderr, so stdout stays data', async () => {
    const r = await cli(['generate', '--pattern', '1', '--product', 'sim'], tempDir());
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
    expect(r.stderr).toMatch(/labs\/sim\/pattern-1: \d+ written/);
  });

  test("the lab's .env is read as Compose reads it: quotes and inline comments", async () => {
    const dir = join(tempDir(), 'lab');
    synthLab(buildLab(1, { product: sim }), dir);
    const file = join(dir, '.env');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ADMIN_HTTPS_PORT=.*$/m, 'ADMIN_HTTPS_PORT="25443"  # moved'));
    expect(readLabEnv(dir).ADMIN_HTTPS_PORT).toBe('25443');
  });

  test('up of a real product without a JDBC driver stops at once, naming where the jar goes and which one; with one it goes on', async () => {
    const cwd = tempDir();
    const refused = await cli(['up', '--pattern', '3', '--product', 'apim-4.7.0'], cwd);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringContaining(
        `apim-4.7.0's nodes cannot reach MySQL without a JDBC driver, and no WSO2 image ships one: ${join(cwd, 'labs/apim-4.7.0/pattern-3/drivers')} has no mysql-connector*.jar. Try: put a mysql-connector-j 9.x jar there (docker-apim v4.7.0.1 uses com.mysql:mysql-connector-j 9.7.0, from Maven Central)`,
      ),
    ]);
    expect(existsSync(join(cwd, 'labs'))).toBe(false);
    const jars = join(cwd, 'jars');
    mkdirSync(jars);
    writeFileSync(join(jars, 'mysql-connector-j-9.7.0.jar'), 'not a real jar');
    const r = spawnCli(['up', '--pattern', '3', '--product', 'apim-4.7.0'], { cwd, env: { ...process.env, CARBON_LABS_DRIVERS: jars } });
    // Past the driver: it stops at the images (no registry here) or the engine, not the driver.
    expect(r.stderr).not.toContain('without a JDBC driver');
    expect(existsSync(join(cwd, 'labs/apim-4.7.0/pattern-3/drivers/mysql-connector-j-9.7.0.jar'))).toBe(true);
  });

  test('a host port already in use is named with the variable and the file to change', async () => {
    const dir = join(tempDir(), 'lab');
    // The last named slot: no lab of this machine is likely to hold its ports.
    const lab = buildLab(1, { product: sim, named: { name: 'porttest', slot: NAMED_SLOTS.last } });
    synthLab(lab, dir);
    const port = Number(readLabEnv(dir).API_HTTPS_PORT);
    const server: Server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    try {
      await expect(assertPortsFree(dir)).rejects.toThrow(
        `host port ${port} (API_HTTPS_PORT in ${join(dir, '.env')}) is already in use. Try: change API_HTTPS_PORT in that .env`,
      );
    } finally {
      server.close();
    }
    await expect(assertPortsFree(dir)).resolves.toBeUndefined();
  });
});

const python = spawnSync('python3', ['--version']).status === 0;
describeWithTool(
  python,
  "the held-port test (python3 holds a port as a connection's local end, without SO_REUSEADDR, as a kernel-chosen ephemeral port is held)",
  'apt-get install python3',
)('a lab port held by a connection, not a listener', () => {
  /** A connection from 127.0.0.1:`local` to a listener of its own, held until stdin closes; resolves once connected. */
  const hold = (local: number) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const script = `import socket,sys\nsrv=socket.socket(); srv.bind(('127.0.0.1',0)); srv.listen()\nc=socket.socket(); c.bind(('127.0.0.1',${local})); c.connect(srv.getsockname())\nprint('held', flush=True); sys.stdin.read()`;
      const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.stdout.once('data', () => resolve(child));
      child.once('exit', (code) => reject(new Error(`python3 exited ${code}`)));
    });

  test('is waited for, said once, then taken; held too long, it is named with the fix (the ephemeral range)', async () => {
    const dir = join(tempDir(), 'lab');
    const lab = buildLab(1, { product: sim, named: { name: 'porttest', slot: NAMED_SLOTS.last } });
    synthLab(lab, dir);
    const env = readLabEnv(dir);
    const port = Number(env.API_HTTPS_PORT);
    const held = await hold(port);
    const said: string[] = [];
    setTimeout(() => held.stdin?.end(), 1500);
    await expect(assertPortsFree(dir, (line) => said.push(line), 10_000)).resolves.toBeUndefined();
    expect(said).toEqual([expect.stringContaining(`host port ${port} (API_HTTPS_PORT) is the local end of a connection`)]);
    const second = Number(env.API_HTTP_PORT);
    const stuck = await hold(second);
    try {
      await expect(assertPortsFree(dir, () => undefined, 1_000)).rejects.toThrow(
        new RegExp(
          `host port ${second} \\(API_HTTP_PORT .*\\) stayed the local end of a connection for 1 s \\(nothing listens on it\\)\\. Try: .*make reserve-ports`,
        ),
      );
    } finally {
      stuck.stdin?.end();
    }
  });
});
