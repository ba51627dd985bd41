import { LabError } from '../errors';
import { apim430 } from './apim-4.3.0';
import type { ProductId, ProductSpec } from './product';
import { sim } from './sim';

export const PRODUCTS: Readonly<Record<ProductId, ProductSpec>> = { 'apim-4.3.0': apim430, sim };
export const DEFAULT_PRODUCT: ProductId = 'apim-4.3.0';

export function resolveProduct(id: string): ProductSpec {
  const product = (PRODUCTS as Record<string, ProductSpec | undefined>)[id];
  if (!product) {
    throw new LabError(
      `PRODUCT must be one of ${Object.keys(PRODUCTS).join(', ')} (got "${id}")`,
      'make lab PATTERN=3 PRODUCT=sim',
    );
  }
  return product;
}
