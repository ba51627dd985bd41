import type { Command } from 'commander';
import { requireDocker } from '../runtime/docker';
import { existingDeployment } from '../runtime/deployment';
import { attachedDocker } from './output';
import { existingLab, LabOptions } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs exec`. */
export function registerExec(program: Command): void {
  labCommand(
    program,
    'exec',
    "run a command in a service of the lab (default: a shell); the lab's options come before the service, everything after it is the command's (as docker compose exec)",
  )
    .argument('<service>', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .argument('[command...]', 'the command and its arguments, options too (ls -la)', ['sh'])
    .passThroughOptions()
    .action(async (service: string, given: string[], o: LabOptions) => {
      // `exec manager-1 -- ls -la` (as the help once said) is `exec manager-1 ls -la`.
      const command = given[0] === '--' ? given.slice(1) : given;
      const { lab, dir } = await existingLab(o);
      await requireDocker();
      const deployment = await existingDeployment(lab);
      process.exitCode = attachedDocker(await deployment.execArgs(dir, service, command, !!process.stdin.isTTY), undefined);
    });
}
