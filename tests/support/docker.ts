import { spawnSync } from 'child_process';
/**
 * Docker suites run when an engine with Compose v2 answers. In CI a missing engine fails the run;
 * elsewhere the suites are skipped and the reason is printed.
 */
export const dockerPresent: boolean = (() => {
  const ok =
    spawnSync('docker', ['compose', 'version'], { timeout: 10000 }).status === 0 &&
    spawnSync('docker', ['info'], { timeout: 20000 }).status === 0;
  if (!ok && process.env.CI)
    throw new Error('CI must run the Docker suites, but no Docker engine with Compose v2 answers: bash scripts/provision-docker.sh');
  if (!ok) process.stdout.write('SKIPPED: Docker suites need a Docker engine with Compose v2 (bash scripts/provision-docker.sh)\n');
  return ok;
})();

export const describeDocker = dockerPresent ? describe : describe.skip;
