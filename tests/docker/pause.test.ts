import { startTestLab } from '../support/labs';
import { sim } from '../../generator/products/sim';
import { EngineTimeout, inspectContainer } from '../../generator/runtime/engine';
import { HttpClient } from '../../harness/http';

import { describeDocker } from '../support/docker';

const CYCLES = 50;
const log = (line: string) => process.stdout.write(`  pause: ${line}\n`);

/**
 * The "hung node" fault cannot wedge the engine: a node whose health check runs every second is
 * frozen and thawed 50 times, at moments that fall among its health-check execs, and every engine
 * call answers in time (Docker 20.10's cgroup freezer wedged here: a health-check exec caught by the
 * freeze held the container's lock, and unpause, inspect and ps hung).
 */
describeDocker('freezing a node (SIGSTOP of its processes) never wedges the engine', () => {
  test(`${CYCLES} freeze/thaw cycles of a node with a 1 s health check: 0 hangs, frozen means silent, healthy after`, async () => {
    await using lab = await startTestLab(1, { product: sim }, { log });
    const node = 'worker-1';
    const id = await lab.container(node);
    const probe = new HttpClient(lab.workerServletUrl(node), 1500);
    let hangs = 0;
    let silentWhileFrozen = 0;
    const cycleMs: number[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const started = Date.now();
      try {
        await lab.pause(node);
        // A moment within the health check's 1 s interval, different each cycle.
        await new Promise((r) => setTimeout(r, 100 + ((i * 137) % 900)));
        await inspectContainer(id, 10_000);
        if (i % 10 === 0 && (await probe.request('GET', '/services/Version')).status === 0) silentWhileFrozen++;
        await lab.unpause(node);
        await inspectContainer(id, 10_000);
      } catch (err) {
        if (err instanceof EngineTimeout) hangs++;
        else throw err;
      }
      cycleMs.push(Date.now() - started);
    }
    await lab.waitHealthy();
    const served = await probe.request('GET', '/services/Version');
    log(
      `${CYCLES} cycles, ${hangs} hangs, slowest ${Math.max(...cycleMs)} ms, median ${[...cycleMs].sort((a, b) => a - b)[CYCLES >> 1]} ms`,
    );
    expect({ hangs, silentWhileFrozen, servedAfter: served.status, slowestUnder10s: Math.max(...cycleMs) < 10_000 }).toEqual({
      hangs: 0,
      silentWhileFrozen: CYCLES / 10,
      servedAfter: 200,
      slowestUnder10s: true,
    });
  });
});
