import type { Command } from 'commander';
import { labContainers, labDirOf, labProjects, oneShot, readLabEnv } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { readLabIdentity } from '../synth/lab-folder';
import { table } from '../table';
import { healthy, JSON_SCHEMA_VERSION, log, print, STATUS_MS } from './output';

/** `carbon-labs list`. */
export function registerList(program: Command): void {
  program
    .command('list')
    .description('every carbon-labs lab on this Docker engine: name, pattern, product, state, manager URL')
    .option('--json', 'print the list as JSON')
    .action(async (o: { json?: boolean }) => {
      await requireDocker();
      const labs = [];
      for (const project of await labProjects(STATUS_MS)) {
        const dir = await labDirOf(project, STATUS_MS);
        const identity = (() => {
          try {
            return readLabIdentity(dir);
          } catch {
            return undefined;
          }
        })();
        const states = await labContainers(project, STATUS_MS);
        const env = (() => {
          try {
            return readLabEnv(dir);
          } catch {
            return {} as Record<string, string>;
          }
        })();
        // The services that keep running (the one-shots' exits are their success, not a node down).
        const nodes = states.filter((c) => !oneShot(c.service));
        labs.push({
          project,
          pattern: identity?.pattern ?? null,
          product: identity?.product ?? null,
          dir,
          state: healthy(states) ? 'healthy' : states.some((s) => s.state === 'running') ? 'degraded' : 'stopped',
          services: { running: nodes.filter((c) => c.state === 'running').length, total: nodes.length },
          admin: env.ADMIN_HTTPS_PORT ? `https://127.0.0.1:${env.ADMIN_HTTPS_PORT}` : null,
          api: env.API_HTTPS_PORT ? `https://127.0.0.1:${env.API_HTTPS_PORT}` : null,
        });
      }
      if (o.json) {
        print(JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, labs }, null, 2));
        return;
      }
      if (!labs.length) {
        log('no carbon-labs lab on this Docker engine. Start one: make lab PATTERN=3');
        return;
      }
      print(
        table([
          ['LAB', 'PATTERN', 'PRODUCT', 'STATE', 'RUNNING', 'ADMIN', 'FOLDER'],
          ...labs.map((l) => [
            l.project,
            String(l.pattern ?? '?'),
            String(l.product ?? '?'),
            l.state,
            `${l.services.running}/${l.services.total}`,
            l.admin ?? '-',
            l.dir,
          ]),
        ]),
      );
    });
}
