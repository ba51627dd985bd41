import type { Command } from 'commander';
import { makeArgs } from '../model/lab';
import { stopLab } from '../runtime/lab';
import { speak } from '../hints';
import { log } from './output';
import { LabOptions, runningCompose } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs stop`. */
export function registerStop(program: Command): void {
  labCommand(program, 'stop', 'stop the lab and keep it: containers, networks and the database volume stay (start brings it back)').action(
    async (o: LabOptions) => {
      const { lab, dir } = await runningCompose(o, 'stop');
      await stopLab(lab, dir, log);
      log(speak(`${lab.project} stopped; its APIs, users and keys are kept. Start it again: make start ${makeArgs(lab)}`));
    },
  );
}
