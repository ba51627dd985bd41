import type { Command } from 'commander';
import { LabError } from '../errors';
import { labContainers } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { stackExists } from '../runtime/swarm';
import { attachedDocker, compose } from './output';
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
      if (await stackExists(lab.project)) {
        // A stack: the service's running task on this node.
        const task = (await labContainers(lab.project)).find((c) => c.service === service && c.state === 'running');
        if (!task) throw new LabError(`${lab.project} has no running task of ${service} on this node`, `docker stack ps ${lab.project}`);
        process.exitCode = attachedDocker(
          ['exec', ...(process.stdin.isTTY ? ['-it'] : ['-i']), task.id, ...(command.length ? command : ['sh'])],
          undefined,
        );
        return;
      }
      process.exitCode = compose(dir, ['exec', service, ...(command.length ? command : ['sh'])], undefined);
    });
}
