import type { Command } from 'commander';
import { LabError } from '../errors';
import { cliLabArgs } from '../model/lab';
import { longRunningServices } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { existingDeployment } from '../runtime/deployment';
import { attachedDocker, LOGS_MS } from './output';
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
      const deployment = await existingDeployment(lab);
      // Piped (not a terminal): no colours and no line-clearing codes in the text.
      for (const { what, args } of deployment.logsArgs(dir, { service, follow: !!o.follow, tail: o.tail, plain: !process.stdout.isTTY })) {
        const code = attachedDocker(args, o.follow ? undefined : LOGS_MS);
        if (code !== 0) throw new LabError(`${what} exited ${code}`);
      }
    });
}
