import type { Command } from 'commander';
import { LabError } from '../errors';
import { labInDir } from '../synth/lab-folder';
import { labProjects } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { existingDeployment, removeProject } from '../runtime/deployment';
import { log } from './output';
import { existingLab, LabOptions } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs down`. */
export function registerDown(program: Command): void {
  labCommand(program, 'down', 'stop and remove the lab (containers, networks, database volume)')
    .option('--all', 'every carbon-labs lab on this Docker engine')
    .action(async (o: LabOptions & { all?: boolean }) => {
      if (o.all) {
        if (o.pattern || o.name || o.workers || o.managers)
          throw new LabError('--all removes every lab; it takes no --pattern, --name, --workers or --managers', 'carbon-labs down --all');
        await requireDocker();
        const projects = await labProjects();
        if (!projects.length) log('no carbon-labs lab on this Docker engine');
        for (const project of projects) await removeProject(project, labInDir, log);
        return;
      }
      if (!o.pattern && !o.name) throw new LabError('down needs --pattern N, --name NAME or --all', 'make down PATTERN=3');
      const { lab, dir } = await existingLab(o);
      // Whichever runs: the stack, the compose lab (never both, `up` refuses that).
      await (await existingDeployment(lab)).down(dir, log);
    });
}
