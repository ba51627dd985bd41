import { apim430 } from './apim-4.3.0';
import { apim450 } from './apim-4.5.0';
import { apim470 } from './apim-4.7.0';
import { apim260, blockBoundMs, DEPLOYMENT_TICK_SECONDS, SYNC_INTERVAL_SECONDS } from './apim-2.6.0';
import type { ProductSpec, RoleRuntime } from './product';
import { SIM_TIMING } from './timing';

/** The stand-in image of a product role: built locally from images/apim-sim, everything else as the product's. */
export const simRole = (real: RoleRuntime, image: string): RoleRuntime => ({ ...real, image });

/**
 * The stand-in: an image that behaves like an APIM 4.3.0 node for everything a lab and the
 * harness touch (same mounts, PROFILE_NAME, ports, deployment.toml, REST contract, health).
 * Only the image differs from the real product in a lab; see README.md, "The stand-in product".
 */
export const sim: ProductSpec = {
  ...apim430,
  id: 'sim',
  description: 'carbon-labs stand-in for WSO2 API Manager 4.3.0 (built locally by make images)',
  roles: {
    manager: simRole(apim430.roles.manager, 'carbon-labs/apim-sim:4.3.0'),
    worker: simRole(apim430.roles.worker, 'carbon-labs/apim-sim:4.3.0'),
  },
  pulled: false,
  timing: SIM_TIMING,
};

/**
 * The stand-in for a product of distributions (4.5+): one image per distribution, with its home
 * and start script, named `carbon-labs/apim-sim-<distribution>:<version>`.
 */
function simDistributions(real: ProductSpec, version: string): ProductSpec {
  const image = (role: 'manager' | 'worker' | 'traffic-manager') => {
    const runtime = real.roles[role]!;
    return simRole(runtime, `carbon-labs/apim-sim-${runtime.distribution}:${version}`);
  };
  return {
    ...real,
    id: `sim-${real.id}` as ProductSpec['id'],
    description: `carbon-labs stand-in for the WSO2 API Manager ${version} distributions (built locally by make images)`,
    roles: { manager: image('manager'), worker: image('worker'), 'traffic-manager': image('traffic-manager') },
    pulled: false,
    timing: SIM_TIMING,
  };
}

export const simApim450: ProductSpec = simDistributions(apim450, '4.5.0');
export const simApim470: ProductSpec = simDistributions(apim470, '4.7.0');

/**
 * The stand-in for the classic product (APIM 2.6.0): one image, `carbon-labs/apim-sim:2.6.0`, whose
 * `bin/wso2server.sh` runs a classic Carbon node (sim/src/classic/). At its own pace, but a deploy
 * still reaches a worker through the product's sync interval and deployment tick.
 */
export const simApim260: ProductSpec = {
  ...apim260,
  id: 'sim-apim-2.6.0',
  description: 'carbon-labs stand-in for WSO2 API Manager 2.6.0, classic Carbon 4.4 (built locally by make images)',
  roles: {
    manager: simRole(apim260.roles.manager, 'carbon-labs/apim-sim:2.6.0'),
    worker: simRole(apim260.roles.worker, 'carbon-labs/apim-sim:2.6.0'),
  },
  pulled: false,
  timing: {
    ...SIM_TIMING,
    propagationBoundMs: SIM_TIMING.propagationBoundMs + (SYNC_INTERVAL_SECONDS + DEPLOYMENT_TICK_SECONDS) * 1000,
    blockBoundMs: blockBoundMs(SIM_TIMING.propagationBoundMs),
    decisionBoundMs: SIM_TIMING.propagationBoundMs,
  },
};
