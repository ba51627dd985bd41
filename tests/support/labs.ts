import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import type { LabSpec, PatternId } from '../../generator/model/lab';
import { PATTERN_IDS } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { PRODUCTS } from '../../generator/products';
import type { ProductSpec } from '../../generator/products/product';

export const ALL_LABS: { pattern: PatternId; product: ProductSpec; lab: LabSpec }[] = Object.values(PRODUCTS)
  .flatMap((product) => PATTERN_IDS.map((pattern) => ({ pattern, product, lab: buildLab(pattern, { product }) })));

export const tempDir = (prefix = 'carbon-labs-') => mkdtempSync(join(tmpdir(), prefix));
