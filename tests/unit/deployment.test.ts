import { join } from 'path';
import { buildLab } from '../../generator/patterns';
import { sim, simApim260 } from '../../generator/products/sim';
import { deploymentFor } from '../../generator/runtime/deployment';
import { longRunningServices } from '../../generator/runtime/lab';

/**
 * A lab's deployment is chosen once, and what differs between a compose project and a swarm stack
 * is answered by it: the commands a user's `logs` and `exec` run, what each refuses, what a fault
 * leaves for the harness to start again. The CLI and the harness only ask.
 */
describe('a deployment answers for its platform', () => {
  const lab = buildLab(3, { product: sim });
  const compose = deploymentFor(lab, 'compose');
  const swarm = deploymentFor(lab, 'swarm');
  const dir = '/labs/p3';

  test("logs: compose's own command on the lab's file; a stack's service logs, one command per service", () => {
    expect(compose.logsArgs(dir, { service: 'manager-1', follow: true, tail: '50', plain: true })).toEqual([
      {
        what: 'docker compose logs',
        args: [
          'compose',
          '--project-directory',
          dir,
          '-f',
          join(dir, 'docker-compose.yml'),
          '--ansi',
          'never',
          'logs',
          '--tail',
          '50',
          '--follow',
          'manager-1',
        ],
      },
    ]);
    const all = swarm.logsArgs(dir, { follow: false, tail: 'all', plain: false });
    expect(all.map((c) => c.args.at(-1))).toEqual(longRunningServices(lab).map((s) => `${lab.project}_${s}`));
    expect(all[0].args.slice(0, 4)).toEqual(['service', 'logs', '--tail', 'all']);
  });

  test('logs -f of a whole stack is refused, naming one service to follow', () => {
    expect(() => swarm.logsArgs(dir, { follow: true, tail: '200', plain: false })).toThrow('logs -f of a swarm stack follows one service');
    expect(() => compose.logsArgs(dir, { follow: true, tail: '200', plain: false })).not.toThrow();
  });

  test("exec: compose's exec of the service, a shell when no command is given", async () => {
    expect(await compose.execArgs(dir, 'worker-1', [], true)).toEqual([
      'compose',
      '--project-directory',
      dir,
      '-f',
      join(dir, 'docker-compose.yml'),
      'exec',
      'worker-1',
      'sh',
    ]);
  });

  test('refusals: --publish is for a stack; the classic product runs on compose only', () => {
    expect(compose.refusal({ publish: true })?.message).toContain('--publish is for --target swarm');
    expect(compose.refusal({})).toBeUndefined();
    expect(swarm.refusal({ publish: true })).toBeUndefined();
    const classic = buildLab(2, { product: simApim260 });
    expect(deploymentFor(classic, 'swarm').refusal({})?.message).toContain('sim-apim-2.6.0 runs on compose only');
    expect(deploymentFor(classic, 'compose').refusal({})).toBeUndefined();
  });

  test('what differs: drivers from the folder, stopped labs kept, tasks replaced, the stack file named', () => {
    expect([compose.mountsDrivers, swarm.mountsDrivers]).toEqual([true, false]);
    expect([compose.keepsNoStoppedLab, swarm.keepsNoStoppedLab]).toEqual([undefined, 'Swarm keeps its tasks running']);
    expect([compose.replacesUnhealthy, swarm.replacesUnhealthy]).toEqual([false, true]);
    expect(compose.writtenNote(dir)).toBeUndefined();
    expect(swarm.writtenNote(dir)).toContain(join(dir, 'swarm', 'docker-stack.yml'));
  });
});
