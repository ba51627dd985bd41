import type { Command } from 'commander';
import { join } from 'path';
import { LabError } from '../errors';
import { cliLabArgs, makeArgs, PATTERN_IDS } from '../model/lab';
import { PRODUCTS } from '../products';
import { isClassic } from '../products/product';
import { parseTarget } from '../runtime/swarm';
import { log } from './output';
import { LabOptions, resolveLab, writeLab } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs generate`: one lab's folder, or (`--all`) every committed one. */
export function registerGenerate(program: Command): void {
  labCommand(program, 'generate', 'write the lab folder, nothing else (both targets: docker-compose.yml and swarm/)')
    .option('--force', 'overwrite generated files you edited')
    .option('--target <target>', 'compose or swarm: which of the two the closing line points at (the folder holds both)', 'compose')
    .option('--all', 'every committed lab: each product, patterns 1-3, in its default folder (what make labs and make check-labs write)')
    .action(async (o: LabOptions & { all?: boolean }) => {
      if (o.all) {
        if (o.pattern || o.product || o.name || o.out || o.workers || o.managers || o.pace || o.bootSeconds)
          throw new LabError(
            "--all writes every product's patterns 1-3 at their default size and pace; it takes no other lab option",
            'carbon-labs generate --all',
          );
        // One process for all of them (a process each took 20 s of make check-labs).
        for (const product of Object.keys(PRODUCTS))
          for (const pattern of PATTERN_IDS) writeLab(await resolveLab({ pattern: String(pattern), product }, { create: true }), o.force);
        return;
      }
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
