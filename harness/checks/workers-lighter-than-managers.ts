import { Check, CheckContext, planOf, round } from '../check';
import { SUPPORT_SERVICES } from '../../generator/model/lab';
import { isClassic } from '../../generator/products/product';

const MB = 1024 * 1024;

/** The seed's fourth promise: a worker, with no admin webapps, needs less memory than a manager. */
export type MemoryFigures = {
  memoryMB: Record<string, number>;
  labTotalMB: number;
  heaviestWorkerMB: number;
  lightestManagerMB: number;
  /** Which of {@link memoryMB}'s containers are workers and which managers. */
  workers: string[];
  managers: string[];
};

export const workersLighterThanManagers: Check<MemoryFigures> = {
  id: 'workers-lighter-than-managers',
  title: 'Every worker uses less memory than every manager (docker stats: usage less inactive file cache)',
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
    ctx.figures.workers = lab.workers.map((w) => w.name);
    ctx.figures.managers = lab.managers.map((m) => m.name);
    ctx.figures.heaviestWorkerMB = Math.max(...ctx.figures.workers.map((w) => memory[w]));
    ctx.figures.lightestManagerMB = Math.min(...ctx.figures.managers.map((m) => memory[m]));
  },
  problems(f) {
    const offenders = f.workers.flatMap((w) =>
      f.managers.filter((m) => f.memoryMB[w] >= f.memoryMB[m]).map((m) => `${w} ${f.memoryMB[w]} MB ≥ ${m} ${f.memoryMB[m]} MB`),
    );
    return offenders.length ? [`a worker is not lighter than a manager: ${offenders.join('; ')}`] : [];
  },
  suspects: (f) => f.workers,
};
