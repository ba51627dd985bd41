import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { LabScale, LabSpec, PatternId } from '../../generator/model/lab';
import { PATTERN_IDS, scaleArgs } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { PRODUCTS } from '../../generator/products';
import type { ProductSpec } from '../../generator/products/product';

export const ALL_LABS: { pattern: PatternId; product: ProductSpec; lab: LabSpec }[] = Object.values(PRODUCTS)
  .flatMap((product) => PATTERN_IDS.map((pattern) => ({ pattern, product, lab: buildLab(pattern, { product }) })));

export const tempDir = (prefix = 'carbon-labs-') => mkdtempSync(join(tmpdir(), prefix));

/** Labs at the edges of their pattern's scale (`--workers`, `--managers`), labelled by their make variables. */
export const SCALED_LABS: { pattern: PatternId; scale: LabScale; label: string; lab: LabSpec }[] = ([
  [1, { workers: 1 }], [1, { workers: 5 }],
  [2, { workers: 1 }], [2, { workers: 5 }],
  [3, { workers: 1, managers: 1 }], [3, { workers: 5, managers: 1 }], [3, { workers: 5 }],
] as [PatternId, LabScale][]).map(([pattern, scale]) => {
  const lab = buildLab(pattern, { product: PRODUCTS['apim-4.3.0'], ...scale });
  return { pattern, scale, label: `PATTERN=${pattern} ${scaleArgs(scale).join(' ')}`, lab };
});
