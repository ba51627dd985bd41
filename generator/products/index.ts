import { LabError } from '../errors';
import { apim430 } from './apim-4.3.0';
import { apim450 } from './apim-4.5.0';
import { apim470 } from './apim-4.7.0';
import { apim260 } from './apim-2.6.0';
import type { ProductId, ProductSpec } from './product';
import { sim, simApim260, simApim450, simApim470 } from './sim';

/** In lab-index order: a new product goes last, so the host ports of existing labs do not move. */
export const PRODUCTS: Readonly<Record<ProductId, ProductSpec>> = {
  'apim-4.3.0': apim430,
  sim,
  'apim-4.5.0': apim450,
  'sim-apim-4.5.0': simApim450,
  'apim-4.7.0': apim470,
  'sim-apim-4.7.0': simApim470,
  'apim-2.6.0': apim260,
  'sim-apim-2.6.0': simApim260,
};
export const DEFAULT_PRODUCT: ProductId = 'apim-4.3.0';

/** `sim-apim-4.3.0` is another name of `sim` (the stand-in of each product is `sim-<product>`). */
const ALIASES: Readonly<Record<string, ProductId>> = { 'sim-apim-4.3.0': 'sim' };

export function resolveProduct(id: string): ProductSpec {
  const product = (PRODUCTS as Record<string, ProductSpec | undefined>)[ALIASES[id] ?? id];
  if (!product) {
    const names = Object.keys(PRODUCTS).map((p) => {
      const alias = Object.keys(ALIASES).find((a) => ALIASES[a] === p);
      return alias ? `${p} (also ${alias})` : p;
    });
    throw new LabError(`PRODUCT must be one of ${names.join(', ')}, or auto (got "${id}")`, 'make lab PATTERN=3 PRODUCT=sim');
  }
  return product;
}

/** The stand-in of a real product (`sim-<id>`; 4.3.0's is `sim`), or undefined for a stand-in. */
export function standInOf(product: ProductSpec): ProductSpec | undefined {
  if (!product.pulled) return undefined;
  return product.id === 'apim-4.3.0' ? sim : (PRODUCTS as Record<string, ProductSpec | undefined>)[`sim-${product.id}`];
}
