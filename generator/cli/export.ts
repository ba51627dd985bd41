import type { Command } from 'commander';
import { exportLab } from '../runtime/export';
import { requireDocker } from '../runtime/docker';
import { existingDeployment } from '../runtime/deployment';
import { log, print } from './output';
import { existingLab, LabOptions, reportsOf } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs export`. */
export function registerExport(program: Command): void {
  labCommand(
    program,
    'export',
    "save everything about the lab in one tarball: every container's log and docker inspect, the lab folder (no private keys), its last reports",
  )
    .argument('[dir]', 'the folder the tarball goes in (default: this one), or its .tar.gz path')
    .action(async (to: string | undefined, o: LabOptions) => {
      const { lab, dir } = await existingLab(o);
      await requireDocker();
      const { target } = await existingDeployment(lab);
      const file = await exportLab(lab, dir, { to: to ?? process.cwd(), reports: reportsOf(lab, target), log });
      print(file);
    });
}
