import { LabError } from '../errors';
import { run } from './exec';

const INSTALL_HINT = 'install Docker with Compose v2 (on Debian 12 as root: bash scripts/provision-docker.sh)';

/** Fails with one line naming the fix when the engine or Compose v2 is missing. */
export async function requireDocker(): Promise<void> {
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 20_000 });
  if (info.code === 127) throw new LabError('the docker command is not installed', INSTALL_HINT);
  if (info.code !== 0)
    throw new LabError(
      `no Docker engine answers (docker info: ${info.stderr.trim().split('\n').pop()})`,
      `start dockerd, or ${INSTALL_HINT}`,
    );
  const compose = await run('docker', ['compose', 'version', '--short'], { timeoutMs: 20_000 });
  if (compose.code !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
    throw new LabError(`Docker Compose v2 is missing ("docker compose version" failed; v1 docker-compose is not enough)`, INSTALL_HINT);
  }
}

export async function dockerAvailable(): Promise<boolean> {
  return requireDocker().then(
    () => true,
    () => false,
  );
}

export async function imagePresent(image: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image], { timeoutMs: 30_000 })).code === 0;
}

/** Pulls an image; false (quickly, with no registry) when it cannot be had. */
export async function tryPull(image: string): Promise<boolean> {
  return (await run('docker', ['pull', '--quiet', image], { timeoutMs: 600_000 })).code === 0;
}
