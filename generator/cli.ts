#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { spawnSync } from 'child_process';
import { resolve } from 'path';
import { PROJECT_ROOT } from './paths';
import { LabError } from './errors';
import type { LabSpec } from './model/lab';
import { buildLab, parsePattern } from './patterns';
import { DEFAULT_PRODUCT, resolveProduct } from './products';
import { ensureImages } from './runtime/images';
import { downLab, labContainers, labUrls, upLab } from './runtime/lab';
import { dockerAvailable, imagePresent, requireDocker, tryPull } from './runtime/docker';
import { synthLab } from './synth/writer';

const AUTO_PRODUCT = 'auto';
const log = (line: string) => process.stdout.write(`carbon-labs: ${line}\n`);

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
    .showSuggestionAfterError()
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
      for (const line of labUrls(lab, dir)) process.stdout.write(`${line}\n`);
    });

  labCommand(program, 'down', 'stop and remove the lab (containers, networks, database volume)')
    .action(async (o: LabOptions) => { const { lab, dir } = labFrom({ ...o, product: await chooseProduct(o.product, false) }); await downLab(lab, dir, log); });

  labCommand(program, 'status', 'show the state of each service of the lab')
    .action(async (o: LabOptions) => {
      const { lab, dir } = labFrom({ ...o, product: await chooseProduct(o.product, false) });
      await requireDocker();
      const states = await labContainers(lab.project);
      if (!states.length) { log(`${lab.project} is not running. Start it: make lab PATTERN=${lab.pattern} PRODUCT=${lab.product.id}`); return; }
      for (const s of states) process.stdout.write(`  ${s.service.padEnd(11)} ${s.state}${s.health ? ` (${s.health})` : ''}${s.exitCode !== undefined ? ` exit ${s.exitCode}` : ''}\n`);
      if (states.every((s) => s.state === 'running' || s.exitCode === 0)) for (const line of labUrls(lab, dir)) process.stdout.write(`${line}\n`);
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
      if (jest.status !== 0) throw new LabError(`conformance of ${product} pattern ${pattern} FAILED (see ${reports}/report.md)`);
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

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await cli().parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      return err.exitCode || 2; // commander already printed the message and the suggestion
    }
    if (err instanceof LabError) {
      process.stderr.write(`carbon-labs: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
