import type { Command } from 'commander';
import { join } from 'path';
import { LabError } from '../errors';
import { cliLabArgs, makeArgs } from '../model/lab';
import { isClassic } from '../products/product';
import { parseTarget } from '../runtime/swarm';
import { log } from './output';
import { LabOptions, resolveLab, writeLab } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs generate`. */
export function registerGenerate(program: Command): void {
  labCommand(program, 'generate', 'write the lab folder, nothing else (both targets: docker-compose.yml and swarm/)')
    .option('--force', 'overwrite generated files you edited')
    .option('--target <target>', 'compose or swarm: which of the two the closing line points at (the folder holds both)', 'compose')
    .action(async (o: LabOptions) => {
      const target = parseTarget(o.target ?? 'compose');
      const made = await resolveLab(o, { create: true });
      if (target === 'swarm' && isClassic(made.lab.product))
        throw new LabError(
          `--target swarm: ${made.lab.product.id} runs on compose only (its workers' Synapse files come from a sync service over volumes)`,
          `carbon-labs generate ${cliLabArgs(made.lab)}`,
        );
      writeLab(made, o.force, o.out);
      if (target === 'swarm')
        log(
          `stack: ${join(made.dir, 'swarm', 'docker-stack.yml')} (make lab ${makeArgs(made.lab)} TARGET=swarm deploys it: docs/swarm.md)`,
        );
    });
}
