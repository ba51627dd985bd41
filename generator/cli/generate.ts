import type { Command } from 'commander';
import { LabError } from '../errors';
import { PATTERN_IDS } from '../model/lab';
import { PRODUCTS } from '../products';
import { deploymentFor } from '../runtime/deployment';
import { log } from './output';
import { LabOptions, resolveLab, writeLab } from './lab-ref';
import { labCommand, targetOption } from './options';

/** `carbon-labs generate`: one lab's folder, or (`--all`) every committed one. */
export function registerGenerate(program: Command): void {
  targetOption(
    labCommand(program, 'generate', 'write the lab folder, nothing else (both targets: docker-compose.yml and swarm/)'),
    'compose or swarm: which of the two the closing line points at (the folder holds both)',
  )
    .option('--force', 'overwrite generated files you edited')
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
          for (const pattern of PATTERN_IDS) writeLab(await resolveLab({ pattern, product }, { create: true }), o.force);
        return;
      }
      const made = await resolveLab(o, { create: true });
      const deployment = deploymentFor(made.lab, o.target ?? 'compose');
      const refused = deployment.refusal({});
      if (refused) throw refused;
      writeLab(made, o.force, o.out);
      const note = deployment.writtenNote(made.dir);
      if (note) log(note);
    });
}
