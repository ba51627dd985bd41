import type { LabSpec, Role } from '../model/lab';
import type { ProductSpec } from './product';
import { runtimeOf } from './product';

/**
 * Images that are not the product. Each is a variable with the public image as its default, so
 * the committed compose file names real public images; on a machine with no registry the CLI sets
 * the variable to the image `make images` built (see runtime/images.ts).
 */
export const IMAGE_VARIABLES = {
  db: { variable: 'CARBON_LABS_DB_IMAGE' },
  nginx: { variable: 'CARBON_LABS_NGINX_IMAGE' },
  sync: { variable: 'CARBON_LABS_SYNC_IMAGE' },
} as const;
export type SupportImage = keyof typeof IMAGE_VARIABLES;

/** The public image of a support service: the database is the product version's own (its WSO2 compose's). */
export const publicImage = (kind: SupportImage, product: ProductSpec): string =>
  kind === 'db' ? product.database.image : kind === 'sync' ? SYNC_IMAGE : NGINX_PUBLIC;

/** `${CARBON_LABS_DB_IMAGE:-mysql:8.0.36}`: the public image unless the CLI names the one it built. */
export function imageRef(kind: 'db', product: ProductSpec): string;
export function imageRef(kind: 'nginx' | 'sync'): string;
export function imageRef(kind: SupportImage, product?: ProductSpec): string {
  return `\${${IMAGE_VARIABLES[kind].variable}:-${publicImage(kind, product!)}}`;
}
const NGINX_PUBLIC = 'nginx:1.27';
/**
 * The classic product's sync service: Debian's rsync, built here by `make images` (no public image
 * is WSO2's; the product image has no rsync).
 */
export const SYNC_IMAGE = 'carbon-labs/rsync:bookworm';

/**
 * The product image of every node and one-shot: the product's own unless a variable names another
 * (a private registry's copy, a WSO2 update image): `CARBON_LABS_PRODUCT_IMAGE` for a product of
 * one image (4.3), one variable per role for a product of distributions (4.5+).
 */
export const PRODUCT_IMAGE_VARIABLE = 'CARBON_LABS_PRODUCT_IMAGE';
export function productImageVariable(product: ProductSpec, role: Role): string {
  return product.roleSwitch !== 'distribution' ? PRODUCT_IMAGE_VARIABLE : `CARBON_LABS_${role.toUpperCase().replace(/-/g, '_')}_IMAGE`;
}
export const productImage = (lab: LabSpec, role: Role) =>
  `\${${productImageVariable(lab.product, role)}:-${runtimeOf(lab.product, role).image}}`;
