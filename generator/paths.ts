import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

/** The project's root, found from this file both under ts-jest (sources) and node (dist/). */
function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'carbon-labs') return dir;
  }
  throw new Error(`carbon-labs: no package.json of carbon-labs above ${start}`);
}

export const PROJECT_ROOT = findRoot(__dirname);

/** The carbon-labs version (package.json's), as the CLI and the reports say it. */
export const VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The folder of a report folder's past runs, one per run, named by when the run started (the harness keeps them, the CLI finds them). */
export const RUNS = 'runs';
