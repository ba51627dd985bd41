import { mkdtempSync } from 'fs';
import { PROJECT_ROOT } from '../../generator/paths';
import { allocateSlots, NoFreeSlot, slotRange } from '../../generator/runtime/slots';
import { pause } from '../../generator/runtime/retry';
import type { PatternProps } from '../../generator/patterns';
import { NAMED_SLOTS } from '../../generator/model/lab';
import type { LabFault, LabTarget, StartedLab, StartOptions } from '../../harness/lab-target';
import { SharedLab } from '../../harness/shared-lab';
import { startLab } from '../../harness/lab-target';
import { tmpdir } from 'os';
import { join } from 'path';
import type { LabScale, LabSpec, PatternId } from '../../generator/model/lab';
import { PATTERN_IDS, scaleArgs } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { PRODUCTS } from '../../generator/products';
import type { ProductSpec } from '../../generator/products/product';
import { isClassic } from '../../generator/products/product';

export const ALL_LABS: { pattern: PatternId; product: ProductSpec; lab: LabSpec }[] = Object.values(PRODUCTS).flatMap((product) =>
  PATTERN_IDS.map((pattern) => ({ pattern, product, lab: buildLab(pattern, { product }) })),
);
/** The labs of the 4.x products (a deployment.toml per node, a stack each); the classic product's are {@link CLASSIC_LABS}. */
export const TOML_LABS = ALL_LABS.filter((l) => !isClassic(l.product));
/** The classic Carbon product's labs (XML configuration, compose only). */
export const CLASSIC_LABS = ALL_LABS.filter((l) => isClassic(l.product));

export const tempDir = (prefix = 'carbon-labs-') => mkdtempSync(join(tmpdir(), prefix));

/** Labs at the edges of their pattern's scale (`--workers`, `--managers`), labelled by their make variables. */
export const SCALED_LABS: { pattern: PatternId; scale: LabScale; label: string; lab: LabSpec }[] = (
  [
    [1, { workers: 1 }],
    [1, { workers: 5 }],
    [2, { workers: 1 }],
    [2, { workers: 5 }],
    [3, { workers: 1, managers: 1 }],
    [3, { workers: 5, managers: 1 }],
    [3, { workers: 5 }],
  ] as [PatternId, LabScale][]
).map(([pattern, scale]) => {
  const lab = buildLab(pattern, { product: PRODUCTS['apim-4.3.0'], ...scale });
  return { pattern, scale, label: `PATTERN=${pattern} ${scaleArgs(scale).join(' ')}`, lab };
});

/**
 * The Docker tests take their labs from `CARBON_LABS_SLOTS` (a leg's own range in `make test`),
 * by default the upper named slots, 26–44, so suites run beside each other and beside labs the CLI
 * makes (which take the lowest free slot) without sharing a project, subnets or ports.
 */
const testSlots = () => slotRange(process.env, { first: 26, last: NAMED_SLOTS.last });

const held = new Set<number>();

/**
 * How long a test waits for a slot of its leg's range while every one is held (labs of this
 * process not yet down): a range sized for what a leg runs at once, not for its every lab.
 */
const SLOT_WAIT_MS = 10 * 60_000;

/** A free slot of this process's range, waiting (bounded) while all are held. */
async function freeTestSlot(): Promise<number> {
  const deadline = Date.now() + SLOT_WAIT_MS;
  for (;;) {
    try {
      const [slot] = await allocateSlots(join(PROJECT_ROOT, 'labs', 'local'), 1, testSlots(), held);
      return slot;
    } catch (err) {
      if (!(err instanceof NoFreeSlot) || Date.now() >= deadline) throw err;
      await pause(2_000);
    }
  }
}
let claims: Promise<unknown> = Promise.resolve();

/**
 * A lab of its own for a test: a named lab in a free test slot, held until `release`. Claims are
 * made one at a time in this process (a slot is free until its lab makes its networks).
 */
export function claimTestLab(pattern: PatternId, props: Omit<PatternProps, 'named'>): Promise<{ lab: LabSpec; release: () => void }> {
  const claim = claims.then(async () => {
    const slot = await freeTestSlot();
    held.add(slot);
    return {
      lab: buildLab(pattern, { ...props, named: { name: `t${slot}`, slot } }),
      release: () => {
        held.delete(slot);
      },
    };
  });
  claims = claim.catch(() => undefined);
  return claim;
}

/** {@link startLab} of a lab of its own ({@link claimTestLab}); its slot is given back when it is down. */
export async function startTestLab(
  pattern: PatternId,
  props: Omit<PatternProps, 'named'>,
  options: StartOptions = {},
): Promise<StartedLab> {
  const { lab, release } = await claimTestLab(pattern, props);
  try {
    const started = await startLab(lab, options);
    const down = started.down.bind(started);
    started.down = async () => {
      try {
        await down();
      } finally {
        release();
      }
    };
    return started;
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * One lab that several tests take in turn, each in the state its faults make (a {@link SharedLab}):
 * started with the first test's faults, then brought from one state to the next by recreating only
 * the services that differ. Tests of one file run one after another, so turns need no queue.
 */
export class SharedTestLab {
  private shared?: SharedLab;

  constructor(
    private readonly pattern: PatternId,
    private readonly props: Omit<PatternProps, 'named'>,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** The lab with `faults` in force (and no other test's). */
  async take(faults: readonly LabFault[] = []): Promise<LabTarget> {
    if (this.shared) return this.shared.become(faults, this.log);
    const started = await startTestLab(this.pattern, this.props, { faults, log: this.log });
    this.shared = new SharedLab(started, buildLab(this.pattern, { ...this.props, named: started.lab.named }));
    return started;
  }

  async down(): Promise<void> {
    await this.shared?.started.down();
    this.shared = undefined;
  }
}
