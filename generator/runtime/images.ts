import { createHash } from 'crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { join, relative } from 'path';
import { LabError } from '../errors';
import { PROJECT_ROOT } from '../paths';
import type { ProductSpec } from '../products/product';
import { isClassic, productImages, productRoles, runtimeOf } from '../products/product';
import { standInOf } from '../products';
import { IMAGE_VARIABLES, publicImage as publicImageOf, SYNC_IMAGE } from '../products/images';
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
/** The classic product's sync service: always built here (no public image is one), on Debian's rsync. */
const SYNC_IMAGE_DIR = 'images/rsync';

export type Log = (line: string) => void;

async function build(
  tag: string,
  context: string,
  base: string,
  log: Log,
  labels: Record<string, string> = {},
  args: Readonly<Record<string, string>> = {},
): Promise<void> {
  log(`building ${tag} (FROM ${base})`);
  const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
  const buildArgs = Object.entries({ BASE: base, ...args }).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  const result = await run('docker', ['build', '--quiet', ...buildArgs, ...labelArgs, '-t', tag, context], { timeoutMs: 900_000 });
  if (result.code !== 0) throw new LabError(`docker build of ${tag} failed:\n${result.stderr.trim().split('\n').slice(-8).join('\n')}`);
}

const BASE_SCRIPT = join(ROOT, 'images', 'base.sh');

/** The local base, made again when missing or made by another version of images/base.sh. */
async function ensureLocalBase(log: Log): Promise<string> {
  const digest = filesDigest([BASE_SCRIPT]);
  const label = await imageLabel(LOCAL_BASE);
  if (label === digest) return LOCAL_BASE;
  log(
    label === undefined
      ? `no registry: making ${LOCAL_BASE} with debootstrap (about a minute, once)`
      : `${LOCAL_BASE} was made by another version of images/base.sh: making it again with debootstrap (about a minute)`,
  );
  const result = await run('bash', [BASE_SCRIPT, LOCAL_BASE, `${SOURCE_LABEL}=${digest}`], { inherit: true, timeoutMs: 900_000 });
  if (result.code !== 0) throw new LabError(`could not make ${LOCAL_BASE}`, 'run as root on Debian: bash images/base.sh');
  return LOCAL_BASE;
}

/** Public image if present or pullable, else the locally built equivalent (rebuilt when stale). */
async function chooseSupportImage(kind: keyof typeof LOCAL_IMAGES, product: ProductSpec, log: Log): Promise<string> {
  const publicImage = publicImageOf(kind, product);
  const local = LOCAL_IMAGES[kind];
  const dir = join(ROOT, local.dir);
  // Its own files and the base's script: a new base (another package) makes it again.
  const digest = filesDigest([
    ...readdirSync(dir)
      .sort()
      .map((f) => join(dir, f)),
    BASE_SCRIPT,
  ]);
  if (await imagePresent(publicImage)) return publicImage;
  if ((await imageLabel(local.tag)) === digest) return local.tag;
  if (await tryPull(publicImage)) return publicImage;
  await build(local.tag, dir, await ensureLocalBase(log), log, { [SOURCE_LABEL]: digest });
  return local.tag;
}

/** The rsync image of the classic product's sync service, built from images/rsync when missing or stale. */
export async function ensureSyncImage(log: Log): Promise<string> {
  const dir = join(ROOT, SYNC_IMAGE_DIR);
  const digest = filesDigest([
    ...readdirSync(dir)
      .sort()
      .map((f) => join(dir, f)),
    BASE_SCRIPT,
  ]);
  if ((await imageLabel(SYNC_IMAGE)) === digest) return SYNC_IMAGE;
  const base = (await imagePresent(PUBLIC_DEBIAN)) || (await tryPull(PUBLIC_DEBIAN)) ? PUBLIC_DEBIAN : await ensureLocalBase(log);
  await build(SYNC_IMAGE, dir, base, log, { [SOURCE_LABEL]: digest });
  return SYNC_IMAGE;
}
const PUBLIC_DEBIAN = 'debian:bookworm-slim';

/** Base of the stand-in: the public Node image where a registry answers, else the local base. */
async function simBase(log: Log): Promise<string> {
  if (await imagePresent(PUBLIC_NODE_BASE)) return PUBLIC_NODE_BASE;
  if (await imagePresent(LOCAL_BASE)) return LOCAL_BASE;
  if (await tryPull(PUBLIC_NODE_BASE)) return PUBLIC_NODE_BASE;
  return ensureLocalBase(log);
}

const SIM_BUNDLE = join(ROOT, 'dist', 'sim', 'sim.js');
const SIM_IMAGE_DIR = join(ROOT, 'images', 'apim-sim');
const SOURCE_LABEL = 'carbon-labs.source-sha256';

function filesDigest(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex');
}

/** Every file under `root` (a file or a folder), sorted. */
function filesUnder(root: string): string[] {
  if (!statSync(root).isDirectory()) return [root];
  return readdirSync(root)
    .sort()
    .flatMap((name) => filesUnder(join(root, name)));
}

/** A digest of everything that goes into the stand-in images (names and contents), so a stale one is rebuilt. */
function simSourceDigest(): string {
  if (!existsSync(SIM_BUNDLE)) throw new LabError(`the stand-in bundle ${SIM_BUNDLE} is missing`, 'make images');
  const hash = createHash('sha256');
  for (const root of [
    SIM_BUNDLE,
    SIM_IMAGE_DIR,
    join(ROOT, 'sim', 'dbscripts'),
    join(ROOT, 'spec', 'apim-4.3.0'),
    join(ROOT, 'spec', 'apim-2.6.0'),
  ]) {
    for (const file of filesUnder(root)) hash.update(`${relative(ROOT, file)}\0`).update(readFileSync(file));
  }
  return hash.digest('hex');
}

/** The source digest an image of ours was built from, or undefined when absent. */
async function imageLabel(image: string): Promise<string | undefined> {
  const r = await run('docker', ['image', 'inspect', '--format', `{{index .Config.Labels "${SOURCE_LABEL}"}}`, image], {
    timeoutMs: 30_000,
  });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** One stand-in image: its tag and the build arguments that make it the product's image. */
export interface SimImage {
  readonly tag: string;
  readonly args: Readonly<Record<string, string>>;
}

/**
 * The stand-in images of a product, one per image of its roles: for a `profile` product one
 * all-in-one image, for a `distribution` product the ACP, Universal Gateway and Traffic Manager.
 * The image's home is the role's (`/home/wso2carbon/<name>-<version>`, read back into the
 * Dockerfile's WSO2_SERVER_NAME and WSO2_SERVER_VERSION), so `WSO2_SERVER_HOME` is `runtimeOf(product, role).home`.
 */
export function simImages(product: ProductSpec): SimImage[] {
  const images = new Map<string, SimImage>();
  for (const role of productRoles(product)) {
    const { image, home, distribution } = runtimeOf(product, role);
    const named = /^\/home\/wso2carbon\/(.+)-(\d+(?:\.\d+)+)$/.exec(home);
    if (!named)
      throw new Error(
        `${product.id} ${role}: home ${home} is not /home/wso2carbon/<name>-<version>, which the stand-in image is built for`,
      );
    const args = {
      WSO2_SERVER_NAME: named[1],
      WSO2_SERVER_VERSION: named[2],
      WSO2_DISTRIBUTION: distribution,
      WSO2_PRODUCT_VERSION: product.version,
      WSO2_STOP_ON_TERM: String(product.stopOnTerm),
    };
    const seen = images.get(image);
    if (seen && JSON.stringify(seen.args) !== JSON.stringify(args))
      throw new Error(
        `${product.id}: roles sharing ${image} need different stand-in images (${JSON.stringify(seen.args)}, ${JSON.stringify(args)})`,
      );
    images.set(image, { tag: image, args });
  }
  return [...images.values()];
}

/** The label an image built from these sources with these arguments carries. */
function imageDigest(sourceDigest: string, image: SimImage): string {
  return createHash('sha256')
    .update(`${sourceDigest}\n${JSON.stringify(image.args)}`)
    .digest('hex');
}

/** The stand-in images of `product` that are missing or were built from other sources or arguments. */
async function staleSimImages(product: ProductSpec): Promise<SimImage[]> {
  const digest = simSourceDigest();
  const stale: SimImage[] = [];
  for (const image of simImages(product)) if ((await imageLabel(image.tag)) !== imageDigest(digest, image)) stale.push(image);
  return stale;
}

/**
 * Builds the stand-in images of `product` (by default all of them) from one staged context: the
 * bundle (built by make) and the start script under `home/bin`, its dbscripts, the spec, the
 * Dockerfile and entrypoint. The Dockerfile copies `home/` into each image's own home.
 */
export async function buildSimImage(product: ProductSpec, log: Log, images: readonly SimImage[] = simImages(product)): Promise<void> {
  const digest = simSourceDigest();
  const context = join(ROOT, 'dist', 'images', 'apim-sim');
  const home = join(context, 'home');
  rmSync(context, { recursive: true, force: true });
  mkdirSync(join(home, 'bin'), { recursive: true });
  cpSync(join(SIM_IMAGE_DIR, 'Dockerfile'), join(context, 'Dockerfile'));
  cpSync(join(SIM_IMAGE_DIR, 'docker-entrypoint.sh'), join(context, 'docker-entrypoint.sh'));
  cpSync(join(SIM_IMAGE_DIR, 'bin'), join(home, 'bin'), { recursive: true });
  cpSync(SIM_BUNDLE, join(home, 'bin', 'sim.js'));
  cpSync(join(ROOT, 'sim', 'dbscripts'), join(home, 'dbscripts'), { recursive: true });
  cpSync(join(ROOT, 'spec', 'apim-4.3.0'), join(home, 'repository', 'resources', 'api-definitions'), { recursive: true });
  // The classic product's REST v0.14 definitions (in its webapps; a place of the stand-in's own here).
  cpSync(join(ROOT, 'spec', 'apim-2.6.0'), join(home, 'repository', 'resources', 'api-definitions', 'v0.14'), { recursive: true });
  const base = await simBase(log);
  for (const image of images) await build(image.tag, context, base, log, { [SOURCE_LABEL]: imageDigest(digest, image) }, image.args);
}

/** The stand-in at its own pace, whose images a paced one is built from. */
function unpaced(product: ProductSpec): ProductSpec {
  const pace = product.pace;
  if (!pace) return product;
  const roles = Object.fromEntries(productRoles(product).map((role) => [role, { ...runtimeOf(product, role), image: pace.from[role]! }]));
  return { ...product, roles: roles as unknown as ProductSpec['roles'], pace: undefined };
}

/**
 * The images of a stand-in at a JVM's pace: each its own image with the boot times in its
 * environment (the stand-in waits them out before it listens, at every start) and the product's
 * graceful stop (a few seconds where the entrypoint stops the server on SIGTERM). Nothing else differs.
 */
async function buildPacedImages(product: ProductSpec, log: Log): Promise<void> {
  const pace = product.pace!;
  const context = join(ROOT, 'dist', 'images', 'paced');
  mkdirSync(context, { recursive: true });
  const env = [
    `SIM_BOOT_SECONDS_MANAGER=${pace.bootSeconds.manager}`,
    `SIM_BOOT_SECONDS_WORKER=${pace.bootSeconds.worker}`,
    `SIM_BOOT_SECONDS_TRAFFIC_MANAGER=${pace.bootSeconds['traffic-manager']}`,
    `SIM_STOP_SECONDS=${PACED_STOP_SECONDS}`,
  ];
  writeFileSync(
    join(context, 'Dockerfile'),
    `# A carbon-labs stand-in at a JVM's pace (generator/runtime/images.ts).\nARG BASE\nFROM \${BASE}\nENV ${env.join(' ')}\n`,
  );
  for (const role of productRoles(product)) {
    const from = pace.from[role]!;
    const tag = runtimeOf(product, role).image;
    const base = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', from], { timeoutMs: 30_000 });
    const digest = createHash('sha256')
      .update(`${base.stdout.trim()}\n${env.join(' ')}`)
      .digest('hex');
    if ((await imageLabel(tag)) === digest) continue;
    await build(tag, context, from, log, { [SOURCE_LABEL]: digest });
  }
}

/**
 * Seconds a paced stand-in takes to stop on SIGTERM where its entrypoint passes it on (4.7):
 * Carbon's shutdown hook stops its transports and waits for requests in flight (idle, a few
 * seconds; docs/real-product.md). Where SIGTERM is ignored (4.3, 4.5) `docker stop` kills it anyway.
 */
const PACED_STOP_SECONDS = 3;

/**
 * Makes every image a lab of `product` needs available and returns the environment that points
 * the compose file at them. Never silent about what it chose.
 */
export async function ensureImages(
  product: ProductSpec,
  log: Log,
  options: { rebuildSim?: boolean } = {},
): Promise<Record<string, string>> {
  if (product.pulled) {
    for (const image of productImages(product)) {
      if ((await imagePresent(image)) || (await tryPull(image))) continue;
      const standIn = standInOf(product);
      throw new LabError(
        `${image} cannot be pulled (no container registry answers) and is not present locally${standIn ? '' : `; ${product.id} has no stand-in yet`}`,
        standIn
          ? `make lab PATTERN=3 PRODUCT=${standIn.id}  (the stand-in product, built locally)`
          : `docker load the image, or make lab PATTERN=3 PRODUCT=sim for a 4.3 stand-in lab`,
      );
    }
  } else {
    const own = unpaced(product);
    const images = options.rebuildSim ? simImages(own) : await staleSimImages(own);
    if (images.length) await buildSimImage(own, log, images);
    if (product.pace) await buildPacedImages(product, log);
  }
  const env: Record<string, string> = {};
  for (const kind of Object.keys(LOCAL_IMAGES) as (keyof typeof LOCAL_IMAGES)[]) {
    const image = await chooseSupportImage(kind, product, log);
    if (image !== publicImageOf(kind, product)) log(`using ${image} for ${kind} (${publicImageOf(kind, product)} cannot be pulled here)`);
    env[IMAGE_VARIABLES[kind].variable] = image;
  }
  if (isClassic(product)) env[IMAGE_VARIABLES.sync.variable] = await ensureSyncImage(log);
  return env;
}
