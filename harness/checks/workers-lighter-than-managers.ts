import { Check, CheckContext, CheckFailure, planOf, round } from '../check';
import { SUPPORT_SERVICES } from '../../generator/model/lab';
import { isClassic } from '../../generator/products/product';

const MB = 1024 * 1024;

/** The seed's fourth promise: a worker, with no admin webapps, needs less memory than a manager. */
export type MemoryFigures = { memoryMB: Record<string, number>; labTotalMB: number; heaviestWorkerMB: number; lightestManagerMB: number };

export const workersLighterThanManagers: Check<MemoryFigures> = {
  id: 'workers-lighter-than-managers',
  title: 'Every worker uses less memory than every manager (docker stats: usage less inactive file cache)',
  classic: true,
  // The classic stand-in's manager serves a few REST v0.14 operations, not the default profile's
  // webapps (publisher, store, key manager as Jaggery and JAX-RS apps): weighing it against a
  // worker would judge the stand-in, not the product (measured: a worker after a load weighs more).
  skipReason: (lab) =>
    isClassic(lab.product) && !lab.product.pulled
      ? `${lab.product.id}'s managers serve a few REST v0.14 operations, not the default profile's webapps: their memory would say nothing of the product's`
      : undefined,
  headline: (f) =>
    `heaviest worker ${f.heaviestWorkerMB ?? '?'} MB < lightest manager ${f.lightestManagerMB ?? '?'} MB; lab ${f.labTotalMB ?? '?'} MB`,
  // A one-shot `docker stats` waits for the engine's next collection (about 1–2 s); the engine
  // collects every container at once, so the lab's samples are taken together.
  plan: (lab) => {
    const containers = lab.nodes.length + lab.balancers.length + SUPPORT_SERVICES.length;
    return planOf({
      floorMs: 0,
      workMs: 2_000,
      requestTimeoutMs: lab.product.timing.requestTimeoutMs,
      why: `${containers} docker stats samples, taken together (about 2 s)`,
    });
  },
  async run(ctx: CheckContext<MemoryFigures>) {
    const { lab } = ctx;
    // Measured after the other checks loaded the lab, so it is not an idle-start figure.
    const services = [
      ...lab.managers.map((n) => n.name),
      ...lab.workers.map((n) => n.name),
      'db',
      ...lab.lab.balancers.map((b) => b.name),
      'backend',
    ];
    const bytes = await Promise.all(services.map((s) => lab.memory(s)));
    const memory: Record<string, number> = Object.fromEntries(services.map((s, i) => [s, round(bytes[i] / MB)]));
    ctx.figures.memoryMB = memory;
    ctx.figures.labTotalMB = round(Object.values(memory).reduce((a, b) => a + b, 0));
    const heaviestWorker = Math.max(...lab.workers.map((w) => memory[w.name]));
    const lightestManager = Math.min(...lab.managers.map((m) => memory[m.name]));
    ctx.figures.heaviestWorkerMB = heaviestWorker;
    ctx.figures.lightestManagerMB = lightestManager;
    const offenders = lab.workers.flatMap((w) =>
      lab.managers
        .filter((m) => memory[w.name] >= memory[m.name])
        .map((m) => `${w.name} ${memory[w.name]} MB ≥ ${m.name} ${memory[m.name]} MB`),
    );
    if (offenders.length)
      throw new CheckFailure(
        `a worker is not lighter than a manager: ${offenders.join('; ')}`,
        lab.workers.map((w) => w.name),
      );
  },
};
