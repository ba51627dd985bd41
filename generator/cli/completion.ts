import type { Command } from 'commander';
import { LabError } from '../errors';
import { PRODUCTS } from '../products';
import { completionScript } from '../completion';
import { AUTO_PRODUCT } from './lab-ref';

/** `carbon-labs completion`. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: eval "$(carbon-labs completion bash)" (or zsh)')
    .argument('<shell>', 'bash or zsh')
    .action((shell: string) => {
      if (shell !== 'bash' && shell !== 'zsh')
        throw new LabError(`completion is for bash or zsh (got "${shell}")`, 'eval "$(carbon-labs completion bash)"');
      process.stdout.write(
        completionScript(program, shell, {
          '--pattern': ['1', '2', '3', 'all'],
          '--product': [...Object.keys(PRODUCTS), AUTO_PRODUCT],
          '--target': ['compose', 'swarm'],
          '--pace': ['native', 'jvm'],
        }),
      );
    });
}
