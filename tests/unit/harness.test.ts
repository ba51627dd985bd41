import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { synthLab } from '../../generator/synth/writer';
import { Check, CheckFailure, percentile, runCheck } from '../../harness/check';
import { LabTarget } from '../../harness/lab-target';
import { headline } from '../../harness/report/write';
import { tempDir } from '../support/labs';

/** The pure parts of the harness: check outcomes, skips and percentiles, without Docker. */
describe('running a check', () => {
  const lab = buildLab(1, { product: sim });
  const dir = tempDir();
  synthLab(lab, dir, { force: true });
  const target = new LabTarget(lab, dir);

  test('a check that does not apply is skipped, not run, and says why', async () => {
    let ran = false;
    const check: Check = { id: 'x', title: 'x', headline: () => 'x', skipReason: (l) => (l.pattern === 1 ? 'pattern 1 has one manager' : undefined), async run() { ran = true; } };
    const result = await runCheck(check, target, () => undefined);
    expect({ status: result.status, reason: result.reason, ran }).toEqual({ status: 'skipped', reason: 'pattern 1 has one manager', ran: false });
    expect(headline(result)).toBe('skipped: pattern 1 has one manager');
  });

  test('a check that throws fails with its message and keeps its figures', async () => {
    const check: Check = { id: 'y', title: 'y', headline: (f) => `seen ${f.seen}`, async run(ctx) { ctx.figures.seen = 3; throw new CheckFailure('3 writes accepted', []); } };
    const result = await runCheck(check, target, () => undefined);
    expect({ status: result.status, reason: result.reason, figures: result.figures }).toEqual({ status: 'failed', reason: '3 writes accepted', figures: { seen: 3 } });
    expect(result.evidence[0]).toBe('FAILED: 3 writes accepted');
    expect(check.headline(result.figures)).toBe('seen 3');
  });

  test('a check that returns passes', async () => {
    const result = await runCheck({ id: 'z', title: 'z', headline: () => 'z', async run(ctx) { ctx.figures.ok = true; } }, target, () => undefined);
    expect(result.status).toBe('passed');
  });
});

describe('percentile (nearest rank)', () => {
  test.each([
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 10],
    [[10, 1, 5], 50, 5],
    [[7], 99, 7],
  ])('%j p%i = %i', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
  test('of nothing is NaN', () => expect(percentile([], 50)).toBeNaN());
});
