import type { Command } from 'commander';
import { startupBudgetSeconds } from '../model/start-order';
import { ensureImages } from '../runtime/images';
import { provideDrivers, refuseWithoutDriver } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { deploymentFor } from '../runtime/deployment';
import { speak } from '../hints';
import { log, print } from './output';
import { LabOptions, refuseResizeWhileRunning, resolveLab, writeLab } from './lab-ref';
import { labCommand, targetOption } from './options';

/** `carbon-labs up`. */
export function registerUp(program: Command): void {
  targetOption(
    labCommand(program, 'up', 'generate the lab, start it, wait until every node is healthy, print URLs'),
    "compose (this engine, the default) or swarm (a stack on the engine's swarm: docs/swarm.md)",
  )
    .option('--force', 'overwrite generated files you edited')
    .option('--rebuild', 'rebuild the stand-in image first')
    .option(
      '--publish',
      "swarm only: the stack publishes its balancers' listeners itself, on every interface of the node each balancer runs on (no 127.0.0.1 access proxy then)",
    )
    .action(async (o: LabOptions & { rebuild?: boolean; publish?: boolean }) => {
      const { lab, dir } = await resolveLab(o, { create: true, canPull: true });
      const deployment = deploymentFor(lab, o.target ?? 'compose');
      // Refused before anything is written, pulled or started.
      const refused = deployment.refusal({ publish: o.publish });
      if (refused) throw refused;
      await refuseResizeWhileRunning(lab, dir);
      if (deployment.mountsDrivers) refuseWithoutDriver(lab, dir);
      writeLab({ lab, dir }, o.force, o.out);
      if (deployment.mountsDrivers) provideDrivers(lab, dir);
      await requireDocker();
      const imagesEnv = await ensureImages(lab.product, log, { rebuildSim: o.rebuild });
      // From `compose up` (images ready) to every node healthy: compose itself waits for the
      // database and the boot order, so its own time counts.
      const started = Date.now();
      await deployment.up(dir, { imagesEnv, budgetSeconds: startupBudgetSeconds(lab), log, publish: o.publish });
      log(
        `${lab.project} (pattern ${lab.pattern}, ${lab.product.id}${deployment.described ? `, ${deployment.described}` : ''}) is healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
      );
      for (const line of deployment.urls(dir)) print(speak(line));
    });
}
