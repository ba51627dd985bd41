import type { Command } from 'commander';
import { startupBudgetSeconds } from '../model/start-order';
import { LabError } from '../errors';
import { makeArgs } from '../model/lab';
import { ensureImages } from '../runtime/images';
import { provideDrivers, refuseWithoutDriver, labUrls, upLab } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { parseTarget, stackExists, upStack } from '../runtime/swarm';
import { speak } from '../hints';
import { log, print } from './output';
import { LabOptions, refuseResizeWhileRunning, resolveLab, writeLab } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs up`. */
export function registerUp(program: Command): void {
  labCommand(program, 'up', 'generate the lab, start it, wait until every node is healthy, print URLs')
    .option('--force', 'overwrite generated files you edited')
    .option('--rebuild', 'rebuild the stand-in image first')
    .option('--target <target>', "compose (this engine, the default) or swarm (a stack on the engine's swarm: docs/swarm.md)", 'compose')
    .option(
      '--publish',
      "swarm only: the stack publishes its balancers' listeners itself, on every interface of the node each balancer runs on (no 127.0.0.1 access proxy then)",
    )
    .action(async (o: LabOptions & { rebuild?: boolean; publish?: boolean }) => {
      const target = parseTarget(o.target ?? 'compose');
      if (o.publish && target !== 'swarm')
        throw new LabError(
          '--publish is for --target swarm (a compose lab publishes on 127.0.0.1 only)',
          'make lab PATTERN=N TARGET=swarm PUBLISH=1',
        );
      const { lab, dir } = await resolveLab(o, { create: true, canPull: true });
      await refuseResizeWhileRunning(lab, dir);
      // Refused before anything is written, pulled or started (a stack carries it in its image).
      if (target === 'compose') refuseWithoutDriver(lab, dir);
      writeLab({ lab, dir }, o.force, o.out);
      if (target === 'compose') provideDrivers(lab, dir);
      await requireDocker();
      const imagesEnv = await ensureImages(lab.product, log, { rebuildSim: o.rebuild });
      // From `compose up` (images ready) to every node healthy: compose itself waits for the
      // database and the boot order, so its own time counts.
      const started = Date.now();
      const budgetSeconds = startupBudgetSeconds(lab);
      if (target === 'swarm') await upStack(lab, dir, { imagesEnv, budgetSeconds, log, publish: o.publish });
      else if (await stackExists(lab.project))
        throw new LabError(
          `${lab.project} runs as a swarm stack; its compose lab would take the same networks`,
          `make lab ${makeArgs(lab)} TARGET=swarm (it runs), or make down ${makeArgs(lab)} first`,
        );
      else await upLab(lab, dir, { imagesEnv, budgetSeconds, log });
      log(
        `${lab.project} (pattern ${lab.pattern}, ${lab.product.id}${target === 'swarm' ? ', swarm stack' : ''}) is healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
      );
      for (const line of labUrls(lab, dir, target)) print(speak(line));
    });
}
