import { apim430 } from './apim-4.3.0';
import type { ProductSpec } from './product';

/**
 * The stand-in: an image that behaves like an APIM 4.3.0 node for everything a lab and the
 * harness touch (same mounts, PROFILE_NAME, ports, deployment.toml, REST contract, health).
 * Only `image` differs from the real product in a lab; see README.md, "The stand-in product".
 */
export const sim: ProductSpec = {
  ...apim430,
  id: 'sim',
  description: 'carbon-labs stand-in for WSO2 API Manager 4.3.0 (built locally by make images)',
  image: 'carbon-labs/apim-sim:4.3.0',
  pulled: false,
  timing: { startupBudgetSeconds: 120, rtoBoundMs: 3_000, stallMs: 1_000, propagationBoundMs: 2_000, requestTimeoutMs: 10_000 },
};
