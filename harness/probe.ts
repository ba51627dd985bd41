import { GenericContainer } from 'testcontainers';
import { listContainers, removeContainer } from '../generator/runtime/engine';
import { withDeadline } from '../generator/runtime/retry';

// Ryuk (testcontainers' reaper) is an image from a registry; probes are removed by the harness itself.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** How long a probe may take, from its start to its command's end. */
export const PROBE_MS = 60_000;
const PROBE_LABEL = 'carbon-labs.probe';

export interface ProbeSpec {
  readonly image: string;
  /** The Docker network it is started on. */
  readonly network: string;
  /** Its `carbon-labs.probe` label: the lab it probes. */
  readonly label: string;
  readonly command: readonly string[];
  /** `host:container[:ro]`. */
  readonly binds?: readonly string[];
  readonly user?: string;
}

/**
 * A command in a throw-away container (testcontainers' best use): started, run, removed, within
 * {@link PROBE_MS}; past that the probe is removed by its label and the error names it.
 */
export async function runProbe(spec: ProbeSpec): Promise<{ code: number; output: string }> {
  const marker = `${spec.label}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  try {
    return await withDeadline(`a probe (${spec.command.join(' ').slice(0, 60)}) on ${spec.network}`, PROBE_MS, async () => {
      let container = new GenericContainer(spec.image)
        .withEntrypoint(['sleep'])
        .withCommand(['600'])
        .withNetworkMode(spec.network)
        .withLabels({ [PROBE_LABEL]: marker })
        .withBindMounts(
          (spec.binds ?? []).map((b) => {
            const [source, target, mode] = b.split(':');
            return { source, target, mode: mode === 'ro' ? ('ro' as const) : ('rw' as const) };
          }),
        );
      if (spec.user) container = container.withUser(spec.user);
      const started = await container.start();
      try {
        const { exitCode, output } = await started.exec([...spec.command]);
        return { code: exitCode, output: output.trim() };
      } finally {
        await started.stop({ timeout: 0 });
      }
    });
  } catch (err) {
    // A probe that did not end is removed here, whatever testcontainers still waits for.
    for (const c of await listContainers([`${PROBE_LABEL}=${marker}`]).catch(() => [])) await removeContainer(c.Id).catch(() => undefined);
    throw err;
  }
}
