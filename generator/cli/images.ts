import type { Command } from 'commander';
import { resolveProduct } from '../products';
import { productImages } from '../products/product';
import { ensureImages } from '../runtime/images';
import { requireDocker } from '../runtime/docker';
import { log } from './output';
import { AUTO_PRODUCT, chooseProduct } from './lab-ref';
import { PRODUCT_CHOICES } from './options';

/** `carbon-labs images`. */
export function registerImages(program: Command): void {
  program
    .command('images')
    .description('build or choose every image a lab needs (stand-in, and offline NGINX/DB)')
    .option('--product <id>', `${PRODUCT_CHOICES}, or ${AUTO_PRODUCT} (the default, as for a lab)`, AUTO_PRODUCT)
    .option('--rebuild', 'rebuild the stand-in image')
    .action(async (o: { product: string; rebuild?: boolean }) => {
      await requireDocker();
      const product = resolveProduct(await chooseProduct(o.product, true));
      const env = await ensureImages(product, log, { rebuildSim: o.rebuild });
      log(`images ready: ${[...productImages(product), ...Object.values(env)].join(', ')}`);
    });
}
