import { createHash } from 'crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'fs';
import { join } from 'path';
import { LabError } from '../errors';
import { PROJECT_ROOT } from '../paths';
import type { ProductSpec } from '../products/product';
import { IMAGE_VARIABLES } from '../render/compose';
import { imagePresent, tryPull } from './docker';
import { run } from './exec';

const ROOT = PROJECT_ROOT;
export const LOCAL_BASE = 'carbon-labs/base:bookworm';
const PUBLIC_NODE_BASE = 'node:20-bookworm-slim';

/** Images built here when no registry answers; same roles as the public ones. */
const LOCAL_IMAGES = {
  db: { tag: 'carbon-labs/mariadb:10.11-bookworm', dir: 'images/mariadb' },
  nginx: { tag: 'carbon-labs/nginx:1.22-bookworm', dir: 'images/nginx' },
} as const;

export type Log = (line: string) => void;

async function build(tag: string, context: string, base: string, log: Log, labels: Record<string, string> = {}): Promise<void> {
  log(`building ${tag} (FROM ${base})`);
  const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const result = await run('docker', ['build', '--quiet', '--build-arg', `BASE=${base}`, ...labelArgs, '-t', tag, context]);
  if (result.code !== 0) throw new LabError(`docker build of ${tag} failed:\n${result.stderr.trim().split('\n').slice(-8).join('\n')}`);
}

async function ensureLocalBase(log: Log): Promise<string> {
  if (await imagePresent(LOCAL_BASE)) return LOCAL_BASE;
  log(`no registry: making ${LOCAL_BASE} with debootstrap (about a minute, once)`);
  const result = await run('bash', [join(ROOT, 'images', 'base.sh'), LOCAL_BASE], { inherit: true });
  if (result.code !== 0) throw new LabError(`could not make ${LOCAL_BASE}`, 'run as root on Debian: bash images/base.sh');
  return LOCAL_BASE;
}

/** Public image if present or pullable, else the locally built equivalent (rebuilt when stale). */
async function chooseSupportImage(kind: keyof typeof LOCAL_IMAGES, log: Log): Promise<string> {
  const publicImage = IMAGE_VARIABLES[kind].public;
  const local = LOCAL_IMAGES[kind];
  const dir = join(ROOT, local.dir);
  const digest = filesDigest(readdirSync(dir).sort().map((f) => join(dir, f)));
  if (await imagePresent(publicImage)) return publicImage;
  if (await imageLabel(local.tag) === digest) return local.tag;
  if (await tryPull(publicImage)) return publicImage;
  await build(local.tag, dir, await ensureLocalBase(log), log, { [SOURCE_LABEL]: digest });
  return local.tag;
}

/** Base of the stand-in: the public Node image where a registry answers, else the local base. */
async function simBase(log: Log): Promise<string> {
  if (await imagePresent(PUBLIC_NODE_BASE)) return PUBLIC_NODE_BASE;
  if (await imagePresent(LOCAL_BASE)) return LOCAL_BASE;
  if (await tryPull(PUBLIC_NODE_BASE)) return PUBLIC_NODE_BASE;
  return ensureLocalBase(log);
}

const SIM_BUNDLE = join(ROOT, 'dist', 'sim', 'sim.js');
const SOURCE_LABEL = 'carbon-labs.source-sha256';

function filesDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** A digest of everything that goes into the stand-in image, so a stale image is rebuilt. */
function simSourceDigest(): string {
  if (!existsSync(SIM_BUNDLE)) throw new LabError(`the stand-in bundle ${SIM_BUNDLE} is missing`, 'make images');
  return filesDigest([SIM_BUNDLE, join(ROOT, 'images', 'apim-sim', 'Dockerfile'), join(ROOT, 'images', 'apim-sim', 'docker-entrypoint.sh'),
    join(ROOT, 'sim', 'dbscripts', 'mysql.sql'), join(ROOT, 'sim', 'dbscripts', 'apimgt', 'mysql.sql')]);
}

/** The source digest an image of ours was built from, or undefined when absent. */
async function imageLabel(image: string): Promise<string | undefined> {
  const r = await run('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${SOURCE_LABEL}"}}`, image]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function simImageCurrent(product: ProductSpec): Promise<boolean> {
  return await imageLabel(product.image) === simSourceDigest();
}

/** Stages the stand-in's build context: the bundle (built by make), its dbscripts, the spec. */
export async function buildSimImage(product: ProductSpec, log: Log): Promise<void> {
  const bundle = SIM_BUNDLE;
  const digest = simSourceDigest();
  const context = join(ROOT, 'dist', 'images', 'apim-sim');
  const home = join(context, 'home');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(join(home, 'wso2am-4.3.0', 'bin'), { recursive: true });
  cpSync(join(ROOT, 'images', 'apim-sim', 'Dockerfile'), join(context, 'Dockerfile'));
  cpSync(join(ROOT, 'images', 'apim-sim', 'docker-entrypoint.sh'), join(home, 'docker-entrypoint.sh'));
  cpSync(bundle, join(home, 'wso2am-4.3.0', 'bin', 'sim.js'));
  cpSync(join(ROOT, 'sim', 'dbscripts'), join(home, 'wso2am-4.3.0', 'dbscripts'), { recursive: true });
  cpSync(join(ROOT, 'spec', 'apim-4.3.0'), join(home, 'wso2am-4.3.0', 'repository', 'resources', 'api-definitions'), { recursive: true });
  await build(product.image, context, await simBase(log), log, { [SOURCE_LABEL]: digest });
}

/**
 * Makes every image a lab of `product` needs available and returns the environment that points
 * the compose file at them. Never silent about what it chose.
 */
export async function ensureImages(product: ProductSpec, log: Log, options: { rebuildSim?: boolean } = {}): Promise<Record<string, string>> {
  if (product.pulled) {
    if (!(await imagePresent(product.image)) && !(await tryPull(product.image))) {
      throw new LabError(
        `${product.image} cannot be pulled (no container registry answers) and is not present locally`,
        'make lab PATTERN=3 PRODUCT=sim  (the stand-in product, built locally)',
      );
    }
  } else if (options.rebuildSim || !(await simImageCurrent(product))) {
    await buildSimImage(product, log);
  }
  const env: Record<string, string> = {};
  for (const kind of Object.keys(LOCAL_IMAGES) as (keyof typeof LOCAL_IMAGES)[]) {
    const image = await chooseSupportImage(kind, log);
    if (image !== IMAGE_VARIABLES[kind].public) log(`using ${image} for ${kind} (${IMAGE_VARIABLES[kind].public} cannot be pulled here)`);
    env[IMAGE_VARIABLES[kind].variable] = image;
  }
  return env;
}
