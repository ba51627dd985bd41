import { Check, CheckContext, CheckFailure, planOf, round } from '../check';
import { SUPPORT_SERVICES } from '../../generator/model/lab';
import { isClassic } from '../../generator/products/product';

const MB = 1024 * 1024;

/** The seed's fourth promise: a worker, with no admin webapps, needs less memory than a manager. */
export type MemoryFigures = { memoryMB: Record<string, number>; labTotalMB: number; heaviestWorkerMB: number; lightestManagerMB: number };

export const workersLighterThanManagers: Check<MemoryFigures> = {
  id: 'workers-lighter-than-managers',
  title: 'Every worker uses less memory than every manager (docker stats: usage less inactive file cache)',
  machine: 'share',
  classic: true,
  // The classic stand-in's manager runs none of the default profile's webapps yet (publisher,
  // store, key manager): weighing it against a worker would judge the stand-in, not the product.
  skipReason: (lab) => (isClassic(lab.product) && !lab.product.pulled ? `${lab.product.id}'s managers do not load the publisher, store and key manager yet: their memory would say nothing of the product's` : undefined),
  headline: (f) => `heaviest worker ${f.heaviestWorkerMB ?? '?'} MB < lightest manager ${f.lightestManagerMB ?? '?'} MB; lab ${f.labTotalMB ?? '?'} MB`,
  // A one-shot `docker stats` takes a sample interval (about 2 s) per container.
  plan: (lab) => {
    const containers = lab.nodes.length + lab.balancers.length + SUPPORT_SERVICES.length;
    return planOf({ floorMs: 0, workMs: containers * 2_000, requestTimeoutMs: lab.product.timing.requestTimeoutMs, why: `${containers} docker stats samples of about 2 s` });
  },
  async run(ctx: CheckContext<MemoryFigures>) {
    const { lab } = ctx;
    // Measured after the other checks loaded the lab, so it is not an idle-start figure.
    const memory: Record<string, number> = {};
    for (const n of [...lab.managers, ...lab.workers]) memory[n.name] = round((await lab.memory(n.name)) / MB);
    for (const extra of ['db', ...lab.lab.balancers.map((b) => b.name), 'backend']) memory[extra] = round((await lab.memory(extra)) / MB);
    ctx.figures.memoryMB = memory;
    ctx.figures.labTotalMB = round(Object.values(memory).reduce((a, b) => a + b, 0));
    const heaviestWorker = Math.max(...lab.workers.map((w) => memory[w.name]));
    const lightestManager = Math.min(...lab.managers.map((m) => memory[m.name]));
    ctx.figures.heaviestWorkerMB = heaviestWorker;
    ctx.figures.lightestManagerMB = lightestManager;
    const offenders = lab.workers.flatMap((w) => lab.managers.filter((m) => memory[w.name] >= memory[m.name]).map((m) => `${w.name} ${memory[w.name]} MB ≥ ${m.name} ${memory[m.name]} MB`));
    if (offenders.length) throw new CheckFailure(`a worker is not lighter than a manager: ${offenders.join('; ')}`, lab.workers.map((w) => w.name));
  },
};
