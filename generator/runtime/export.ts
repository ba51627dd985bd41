import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join, relative, resolve } from 'path';
import type { LabSpec } from '../model/lab';
import { VERSION } from '../paths';
import { LabError } from '../errors';
import { containerLogs, inspectContainer } from './engine';
import { run } from './exec';
import { labContainers } from './lab';

/** The tarball a failed conformance run leaves beside its report. */
export const FAILURE_EXPORT = 'lab-export.tar.gz';

/** Lines of each container's log a bundle keeps (all a node writes in a long run). */
const LOG_LINES = 1_000_000;
/** Per engine call of an export (a container's whole log can be large). */
const EXPORT_CALL_MS = 60_000;

/**
 * What never leaves the lab folder in a bundle: the CA's private key and the balancers' TLS key (a
 * bundle is made to be attached to an issue).
 */
const PRIVATE = [/(^|\/)\.pki(\/|$)/, /\.key$/];

export interface ExportOptions {
  /** Where the tarball goes: a folder (named for the lab and the time) or a `.tar.gz` path. */
  readonly to: string;
  /** A folder of the lab's last reports, copied in as `results/` when it exists. */
  readonly reports?: string;
  readonly log?: (line: string) => void;
}

/**
 * Everything needed to see what a lab did, as one tarball (kind's `export logs`): every
 * container's log and `docker inspect`, the lab folder as generated (compose and stack files, each
 * node's configuration, without private keys) and, when given, its last reports. Works on a
 * running, stopped or removed lab (then without logs, saying so). The tarball's path.
 */
export async function exportLab(lab: LabSpec, dir: string, options: ExportOptions): Promise<string> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const name = `${lab.project}-${stamp}`;
  const file = resolve(options.to.endsWith('.tar.gz') ? options.to : join(options.to, `${name}.tar.gz`));
  const work = mkdtempSync(join(tmpdir(), 'carbon-labs-export-'));
  const root = join(work, name);
  try {
    mkdirSync(join(root, 'logs'), { recursive: true });
    mkdirSync(join(root, 'inspect'), { recursive: true });
    const containers = await labContainers(lab.project);
    for (const c of containers) {
      writeFileSync(join(root, 'logs', `${c.service}.log`), await containerLogs(c.id, LOG_LINES, EXPORT_CALL_MS));
      writeFileSync(
        join(root, 'inspect', `${c.service}.json`),
        `${JSON.stringify(await inspectContainer(c.id, EXPORT_CALL_MS), null, 2)}\n`,
      );
    }
    if (existsSync(dir)) {
      cpSync(dir, join(root, 'lab'), { recursive: true, filter: (src) => !PRIVATE.some((p) => p.test(relative(dir, src))) });
    }
    const withReports = options.reports && existsSync(options.reports) && readdirSync(options.reports).length > 0;
    // The last run's report; not the earlier runs kept under runs/, nor a failed run's own export.
    if (withReports)
      cpSync(options.reports!, join(root, 'results'), {
        recursive: true,
        filter: (src) => !src.endsWith('.tar.gz') && !/^runs(\/|$)/.test(relative(options.reports!, src)),
      });
    writeFileSync(
      join(root, 'README.txt'),
      [
        `${lab.project}: pattern ${lab.pattern}, ${lab.product.id}, exported ${new Date().toISOString()} by carbon-labs ${VERSION}`,
        `lab folder: ${dir}`,
        '',
        containers.length
          ? `logs/<service>.log      each container's whole log (${containers.map((c) => `${c.service} ${c.state}`).join(', ')})`
          : 'logs/                   none: the lab has no containers on this engine (removed, or never started)',
        containers.length ? 'inspect/<service>.json  docker inspect of each container' : 'inspect/                none, as logs/',
        existsSync(dir)
          ? "lab/                    the lab folder as generated and used (compose and stack files, each node's configuration); private keys (.pki/, *.key) left out"
          : 'lab/                    none: the lab folder is gone',
        withReports
          ? `results/                the lab's last reports (${options.reports})`
          : 'results/                none: no reports of this lab yet',
        '',
      ].join('\n'),
    );
    mkdirSync(resolve(file, '..'), { recursive: true });
    const tar = await run('tar', ['-czf', file, '-C', work, name], { timeoutMs: 120_000 });
    if (tar.code !== 0)
      throw new LabError(
        `tar could not write ${file}: ${(tar.stderr || tar.stdout).trim().split('\n').slice(-2).join(' ')}`,
        'export to another folder',
      );
    options.log?.(
      `exported ${lab.project} (${containers.length} containers' logs and inspect, the lab folder${withReports ? ', its last reports' : ''}) to ${file}`,
    );
    return file;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
