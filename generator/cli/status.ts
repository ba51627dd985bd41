import type { Command } from 'commander';
import { existsSync } from 'fs';
import { join } from 'path';
import { ChecksFailed } from '../errors';
import { makeArgs } from '../model/lab';
import { requireDocker } from '../runtime/docker';
import { existingDeployment } from '../runtime/deployment';
import { stackContainers } from '../runtime/swarm';
import { speak } from '../hints';
import { table } from '../table';
import { healthy, JSON_SCHEMA_VERSION, print, STATUS_MS } from './output';
import { existingLab, LabOptions, resolveLab } from './lab-ref';
import { labCommand } from './options';

/** `carbon-labs status`. */
export function registerStatus(program: Command): void {
  labCommand(program, 'status', 'show the state of each service of the lab; exit 1 unless every one is healthy')
    .option('--json', 'print the state as JSON (project, pattern, product, folder, services, healthy, urls)')
    .action(async (o: LabOptions & { json?: boolean }) => {
      // A folder named with --out must hold a lab (as for logs, exec, down); the default folder may not exist yet.
      const { lab, dir } = o.out ? await existingLab(o) : await resolveLab(o);
      await requireDocker();
      // A stack's tasks on every node of its swarm, each with its node (a compose lab's containers otherwise).
      const states = await stackContainers(lab.project, STATUS_MS);
      const nodes = states.some((s) => s.node);
      const ok = healthy(states);
      const deployment = ok && existsSync(join(dir, '.env')) ? await existingDeployment(lab, STATUS_MS) : undefined;
      const urls = deployment ? deployment.urls(dir).map((l) => speak(l)) : [];
      if (o.json) {
        const endpoints = deployment ? deployment.endpoints(dir) : [];
        print(
          JSON.stringify(
            {
              schemaVersion: JSON_SCHEMA_VERSION,
              project: lab.project,
              pattern: lab.pattern,
              product: lab.product.id,
              dir,
              healthy: ok,
              services: states.map(({ id: _, ...s }) => s),
              endpoints,
            },
            null,
            2,
          ),
        );
      } else if (!states.length) {
        throw new ChecksFailed(`${lab.project} is not running. Try: make lab ${makeArgs(lab)}`);
      } else {
        print(
          table(
            [
              ['SERVICE', 'STATE', 'HEALTH', 'EXIT', ...(nodes ? ['NODE'] : [])],
              ...states.map((s) => [
                s.service,
                s.state,
                s.health ?? '-',
                s.exitCode === undefined ? '-' : String(s.exitCode),
                ...(nodes ? [s.node ?? '-'] : []),
              ]),
            ],
            '  ',
          ),
        );
        for (const line of urls) print(line);
      }
      if (!ok) throw new ChecksFailed(`${lab.project} is ${states.length ? 'not healthy' : 'not running'}`);
    });
}
