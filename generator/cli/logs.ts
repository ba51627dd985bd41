import type { Command } from 'commander';
import { LabError } from '../errors';
import { cliLabArgs } from '../model/lab';
import { longRunningServices } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { stackExists } from '../runtime/swarm';
import { attachedDocker, compose, LOGS_MS } from './output';
import { existingLab, LabOptions } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs logs`. */
export function registerLogs(program: Command): void {
  labCommand(program, 'logs', 'the logs of the lab, or of one service')
    .argument('[service]', 'a compose service: manager-1, worker-2, lb-manager, db, ...')
    .option('-f, --follow', 'keep printing new lines')
    .option('--tail <n>', 'lines per service to start from (a number, or all)', '200')
    .action(async (service: string | undefined, o: LabOptions & { follow?: boolean; tail: string }) => {
      const { lab, dir } = await existingLab(o);
      if (!/^(\d+|all)$/.test(o.tail))
        throw new LabError(
          `--tail must be a whole number of lines or all (got "${o.tail}")`,
          `carbon-labs logs ${cliLabArgs(lab)}${service ? ` ${service}` : ''} --tail 200`,
        );
      const services = longRunningServices(lab);
      if (service && !services.includes(service))
        throw new LabError(
          `${lab.project} has no service ${service}; its services are ${services.join(', ')}`,
          `carbon-labs logs ${cliLabArgs(lab)} ${services.find((s) => s.startsWith('manager')) ?? services[0]}`,
        );
      await requireDocker();
      if (await stackExists(lab.project)) {
        // A stack: Swarm's service logs (every task's), one service at a time; all of them without -f.
        if (!service && o.follow)
          throw new LabError(
            'logs -f of a swarm stack follows one service',
            `carbon-labs logs ${cliLabArgs(lab)} manager-1 -f  (or docker service logs -f ${lab.project}_<service>)`,
          );
        for (const s of service ? [service] : longRunningServices(lab)) {
          const code = attachedDocker(
            ['service', 'logs', '--tail', o.tail, ...(o.follow ? ['--follow'] : []), `${lab.project}_${s}`],
            o.follow ? undefined : LOGS_MS,
          );
          if (code !== 0) throw new LabError(`docker service logs ${lab.project}_${s} exited ${code}`);
        }
        return;
      }
      // Piped (not a terminal): no colours and no line-clearing codes in the text.
      const code = compose(
        dir,
        [
          ...(process.stdout.isTTY ? [] : ['--ansi', 'never']),
          'logs',
          '--tail',
          o.tail,
          ...(o.follow ? ['--follow'] : []),
          ...(service ? [service] : []),
        ],
        o.follow ? undefined : LOGS_MS,
      );
      if (code !== 0) throw new LabError(`docker compose logs exited ${code}`);
    });
}
