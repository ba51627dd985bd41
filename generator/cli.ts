#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { PROJECT_ROOT } from './paths';
import { ChecksFailed, LabError } from './errors';
import type { LabSpec } from './model/lab';
import { buildLab, parsePattern } from './patterns';
import { DEFAULT_PRODUCT, resolveProduct } from './products';
import { ensureImages } from './runtime/images';
import { ContainerState, downLab, labContainers, labDirOf, labProjects, labUrls, readLabEnv, upLab } from './runtime/lab';
import { dockerAvailable, imagePresent, requireDocker, tryPull } from './runtime/docker';
import { readLabIdentity, synthLab } from './synth/writer';

const AUTO_PRODUCT = 'auto';
/** Diagnostics and progress go to stderr; data (URLs, states, JSON) to stdout. */
const log = (line: string) => process.stderr.write(`carbon-labs: ${line}\n`);
const print = (line: string) => process.stdout.write(`${line}\n`);
const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface LabOptions { pattern: string; product: string; out?: string; force?: boolean }

export function labDir(lab: LabSpec, out?: string): string {
  return resolve(out ?? `labs/${lab.product.id}/pattern-${lab.pattern}`);
}

/**
 * `auto` (the Makefile's default): the real product where its image is here or can be pulled,
 * otherwise the stand-in, said in one line.
 */
async function chooseProduct(id: string, canPull: boolean): Promise<string> {
  if (id !== AUTO_PRODUCT) return id;
  const real = resolveProduct(DEFAULT_PRODUCT);
  if (await dockerAvailable() && (await imagePresent(real.image) || (canPull && await tryPull(real.image)))) return real.id;
  log(`${real.image} is not available here (no registry): using the stand-in product "sim". Set PRODUCT=${real.id} to insist.`);
  return 'sim';
}

function labFrom(options: LabOptions): { lab: LabSpec; dir: string } {
  const lab = buildLab(parsePattern(options.pattern), { product: resolveProduct(options.product) });
  return { lab, dir: labDir(lab, options.out) };
}

/** A lab that must already be on disk (down, status, logs, exec act on one). */
function existingLab(options: LabOptions): { lab: LabSpec; dir: string } {
  const found = labFrom(options);
  if (!existsSync(join(found.dir, 'docker-compose.yml'))) {
    throw new LabError(`no lab in ${found.dir}`, `make lab PATTERN=${found.lab.pattern} PRODUCT=${found.lab.product.id}, or give the lab's folder with --out DIR`);
  }
  return found;
}

const healthy = (states: readonly ContainerState[]) => states.length > 0 && states.every((s) => (s.state === 'running' && (s.health === undefined || s.health === 'healthy')) || s.exitCode === 0);

/** `docker compose` on a lab, attached to this terminal; its exit code. */
function compose(dir: string, args: readonly string[]): number {
  const r = spawnSync('docker', ['compose', '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), ...args], { stdio: 'inherit' });
  if (r.error) throw new LabError(`docker compose could not run: ${r.error.message}`, 'install Docker with Compose v2 (on Debian as root: bash scripts/provision-docker.sh)');
  return r.status ?? 1;
}

function generate(options: LabOptions): { lab: LabSpec; dir: string } {
  const { lab, dir } = labFrom(options);
  const result = synthLab(lab, dir, { force: options.force });
  log(`${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged${result.removed.length ? `, ${result.removed.length} removed` : ''}`);
  return { lab, dir };
}

function labCommand(program: Command, name: string, description: string): Command {
  return program.command(name).description(description)
    .requiredOption('--pattern <n>', 'clustering pattern: 1, 2 or 3')
    .option('--product <id>', `apim-4.3.0 (real image), sim (stand-in) or ${AUTO_PRODUCT} (real when its image can be had)`, DEFAULT_PRODUCT)
    .option('--out <dir>', 'lab folder (default labs/<product>/pattern-<n>)');
}

export function cli(): Command {
  const program = new Command('carbon-labs')
    .description('Docker Compose labs and a conformance harness for WSO2 API Manager worker/manager clusters')
    .version(VERSION, '--version', 'print the carbon-labs version')
    .showSuggestionAfterError()
    .allowExcessArguments(false)
    .exitOverride();

  labCommand(program, 'generate', 'write the lab folder, nothing else')
    .option('--force', 'overwrite generated files you edited')
    .action(async (o: LabOptions) => { generate({ ...o, product: await chooseProduct(o.product, false) }); });

  labCommand(program, 'up', 'generate the lab, start it, wait until every node is healthy, print URLs')
    .option('--force', 'overwrite generated files you edited')
    .option('--rebuild', 'rebuild the stand-in image first')
    .action(async (o: LabOptions & { rebuild?: boolean }) => {
      parsePattern(o.pattern);
      const { lab, dir } = generate({ ...o, product: await chooseProduct(o.product, true) });
      await requireDocker();
      const imagesEnv = await ensureImages(lab.product, log, { rebuildSim: o.rebuild });
      const seconds = await upLab(lab, dir, { imagesEnv, budgetSeconds: lab.product.timing.startupBudgetSeconds, log });
      log(`${lab.project} (pattern ${lab.pattern}, ${lab.product.id}) is healthy after ${seconds.toFixed(1)} s`);
      for (const line of labUrls(lab, dir)) print(line);
    });

  program.command('down').description('stop and remove the lab (containers, networks, database volume)')
    .option('--pattern <n>', 'clustering pattern: 1, 2 or 3')
    .option('--product <id>', `apim-4.3.0, sim or ${AUTO_PRODUCT}`, DEFAULT_PRODUCT)
    .option('--out <dir>', 'lab folder (default labs/<product>/pattern-<n>)')
    .option('--all', 'every carbon-labs lab on this Docker engine')
    .action(async (o: LabOptions & { all?: boolean }) => {
      if (o.all) {
        if (o.pattern) throw new LabError('--all removes every lab; it takes no --pattern', 'carbon-labs down --all');
        await requireDocker();
        const projects = await labProjects();
        if (!projects.length) log('no carbon-labs lab on this Docker engine');
        for (const project of projects) {
          log(`removing ${project} (containers, networks and its database volume)`);
          const r = spawnSync('docker', ['compose', '-p', project, 'down', '--volumes', '--remove-orphans', '--timeout', '5'], { stdio: ['ignore', 'ignore', 'inherit'] });
          if (r.status !== 0) throw new LabError(`docker compose down failed for ${project}`);
        }
        return;
      }
      if (!o.pattern) throw new LabError('down needs --pattern N (or --all)', 'make down PATTERN=3');
      const { lab, dir } = existingLab({ ...o, product: await chooseProduct(o.product, false) });
      await downLab(lab, dir, log);
    });

  labCommand(program, 'status', 'show the state of each service of the lab; exit 1 unless every one is healthy')
    .option('--json', 'print the state as JSON (project, pattern, product, folder, services, healthy, urls)')
    .action(async (o: LabOptions & { json?: boolean }) => {
      const { lab, dir } = labFrom({ ...o, product: await chooseProduct(o.product, false) });
      await requireDocker();
      const states = await labContainers(lab.project);
      const ok = healthy(states);
      const urls = ok && existsSync(join(dir, '.env')) ? labUrls(lab, dir) : [];
      if (o.json) {
        print(JSON.stringify({ project: lab.project, pattern: lab.pattern, product: lab.product.id, dir, healthy: ok, services: states.map(({ id: _, ...s }) => s), urls: urls.map((u) => u.trim()) }, null, 2));
      } else if (!states.length) {
        log(`${lab.project} is not running. Start it: make lab PATTERN=${lab.pattern} PRODUCT=${lab.product.id}`);
      } else {
        for (const s of states) print(`  ${s.service.padEnd(11)} ${s.state}${s.health ? ` (${s.health})` : ''}${s.exitCode !== undefined ? ` exit ${s.exitCode}` : ''}`);
        for (const line of urls) print(line);
      }
      if (!ok) throw new ChecksFailed(`${lab.project} is ${states.length ? 'not healthy' : 'not running'}`);
    });

  program.command('list').description('every carbon-labs lab on this Docker engine: name, pattern, product, state, manager URL')
    .option('--json', 'print the list as JSON')
    .action(async (o: { json?: boolean }) => {
      await requireDocker();
      const labs = [];
      for (const project of await labProjects()) {
        const dir = await labDirOf(project);
        const identity = (() => { try { return readLabIdentity(dir); } catch { return undefined; } })();
        const states = await labContainers(project);
        const env = (() => { try { return readLabEnv(dir); } catch { return {} as Record<string, string>; } })();
        labs.push({
          project, pattern: identity?.pattern ?? null, product: identity?.product ?? null, dir,
          state: healthy(states) ? 'healthy' : states.some((s) => s.state === 'running') ? 'degraded' : 'stopped',
          services: `${states.filter((s) => s.state === 'running').length}/${states.length} running`,
          admin: env.ADMIN_HTTPS_PORT ? `https://127.0.0.1:${env.ADMIN_HTTPS_PORT}` : null,
          api: env.API_HTTPS_PORT ? `https://127.0.0.1:${env.API_HTTPS_PORT}` : null,
        });
      }
      if (o.json) { print(JSON.stringify(labs, null, 2)); return; }
      if (!labs.length) { log('no carbon-labs lab on this Docker engine. Start one: make lab PATTERN=3'); return; }
      for (const l of labs) print(`${l.project.padEnd(26)} pattern ${l.pattern ?? '?'}  ${String(l.product ?? '?').padEnd(10)} ${l.state.padEnd(8)} ${l.services.padEnd(14)} ${l.admin ?? ''}  ${l.dir}`);
    });

  labCommand(program, 'logs', 'the logs of the lab, or of one service')
    .argument('[service]', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'lines per service to start from', '200')
    .action(async (service: string | undefined, o: LabOptions & { follow?: boolean; tail: string }) => {
      const { dir } = existingLab({ ...o, product: await chooseProduct(o.product, false) });
      await requireDocker();
      const code = compose(dir, ['logs', '--tail', o.tail, ...(o.follow ? ['--follow'] : []), ...(service ? [service] : [])]);
      if (code !== 0) throw new LabError(`docker compose logs exited ${code}`);
    });

  labCommand(program, 'exec', 'run a command in a service of the lab (default: a shell)')
    .argument('<service>', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .argument('[command...]', 'the command and its arguments (after --)', ['sh'])
    .action(async (service: string, command: string[], o: LabOptions) => {
      const { dir } = existingLab({ ...o, product: await chooseProduct(o.product, false) });
      await requireDocker();
      process.exitCode = compose(dir, ['exec', service, ...(command.length ? command : ['sh'])]);
    });

  labCommand(program, 'conformance', 'run the conformance checks with Jest on the lab (attaches to a running one), write reports/<product>/pattern-<n>/')
    .action(async (o: LabOptions) => {
      const pattern = parsePattern(o.pattern);
      const product = await chooseProduct(o.product, false);
      resolveProduct(product);
      await requireDocker();
      const reports = resolve(PROJECT_ROOT, 'reports', product, `pattern-${pattern}`);
      const jest = spawnSync(process.execPath, [resolve(PROJECT_ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--selectProjects', 'conformance', '--runInBand'], {
        cwd: PROJECT_ROOT,
        stdio: 'inherit',
        env: { ...process.env, CARBON_LABS_PATTERN: String(pattern), CARBON_LABS_PRODUCT: product, JEST_JUNIT_OUTPUT_DIR: reports, JEST_JUNIT_OUTPUT_NAME: 'junit.xml' },
      });
      log(`reports: ${reports}/report.md, report.html, results.json, junit.xml`);
      if (jest.status !== 0) throw new ChecksFailed(`conformance of ${product} pattern ${pattern} FAILED (see ${reports}/report.md)`);
    });

  program.command('images').description('build or choose every image a lab needs (stand-in, and offline NGINX/DB)')
    .option('--product <id>', 'apim-4.3.0 or sim', 'sim')
    .option('--rebuild', 'rebuild the stand-in image')
    .action(async (o: { product: string; rebuild?: boolean }) => {
      await requireDocker();
      const env = await ensureImages(resolveProduct(o.product), log, { rebuildSim: o.rebuild });
      log(`images ready: ${resolveProduct(o.product).image}, ${Object.values(env).join(', ')}`);
    });

  return program;
}

/**
 * Exit codes: 0 ok; 1 checks failed (conformance) or a lab that is not healthy (status);
 * 2 a usage or environment error. Every user error is one line on stderr, never a stack trace.
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await cli().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return 2; // commander already printed the message and the suggestion
    }
    if (err instanceof LabError) {
      process.stderr.write(`carbon-labs: ${err.message}\n`);
      return err instanceof ChecksFailed ? 1 : 2;
    }
    const system = err as NodeJS.ErrnoException;
    if (system.code && system.path) {
      process.stderr.write(`carbon-labs: cannot use ${system.path} (${system.code}: ${system.message.split(',')[0].replace(`${system.code}: `, '')}). Try: a folder you can write, with --out DIR\n`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
