import type { Command } from 'commander';
import { startupBudgetSeconds } from '../model/start-order';
import { labUrls, resumeLab } from '../runtime/lab';
import { speak } from '../hints';
import { log, print } from './output';
import { LabOptions, runningCompose } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs start`. */
export function registerStart(program: Command): void {
  labCommand(
    program,
    'start',
    'start a stopped lab again (the same containers and data), wait until every node is healthy, print URLs',
  ).action(async (o: LabOptions) => {
    const { lab, dir } = await runningCompose(o, 'start');
    const started = Date.now();
    await resumeLab(lab, dir, { budgetSeconds: startupBudgetSeconds(lab), log });
    log(
      `${lab.project} (pattern ${lab.pattern}, ${lab.product.id}) is healthy ${((Date.now() - started) / 1000).toFixed(1)} s after start`,
    );
    for (const line of labUrls(lab, dir)) print(speak(line));
  });
}
