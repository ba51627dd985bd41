import catalogueJson from './apim-4.3.0.keys.json';
import catalogue450Json from './apim-4.5.0.keys.json';
import catalogue470Json from './apim-4.7.0.keys.json';
import type { Role } from '../model/lab';
import type { ProductSpec } from './product';
import { runtimeOf } from './product';

/**
 * The value shapes a catalogued key can have. `url:<scheme>` is one URL with that scheme,
 * `url[]:<scheme>` a non-empty list of them; `enum` takes the entry's `values`.
 */
export const SHAPES = [
  'string',
  'boolean',
  'integer',
  'string[]',
  'string|string[]',
  'enum',
  'url:http',
  'url:https',
  'url:ws',
  'url:wss',
  'url:tcp',
  'url:ssl',
  'url:jdbc',
  'url[]:tcp',
  'url[]:ssl',
] as const;
export type Shape = (typeof SHAPES)[number];

/** Where a fact was read: a file of a public repository at a tag or commit. */
export interface CatalogueSource {
  readonly id: string;
  readonly repo: string;
  readonly path: string;
  readonly ref: string;
}

export interface CataloguedKey {
  /** Flattened: tables joined by `.`, arrays of tables as `[]`, non-bare keys single-quoted, `*` = any one key of an open map. */
  readonly key: string;
  readonly shape: Shape;
  /** The allowed values of an `enum`. */
  readonly values?: readonly string[];
  /** Id of the source that reads the key (a template of the product), or, failing that, writes it. */
  readonly source: string;
  /** Ids of WSO2's distributed 4.3 configs that write the key. */
  readonly seenIn?: readonly string[];
  /** `true` when carbon-labs' deployment.toml writes the key. */
  readonly writtenByLab: boolean;
  readonly note?: string;
}

export interface KeyCatalogue {
  /** Who reads the keys, as messages name it: `apim-4.3.0`, `apim-4.5.0 acp`. */
  readonly product: string;
  /** The catalogue's file, for messages. */
  readonly file?: string;
  readonly sources: readonly CatalogueSource[];
  readonly keys: readonly CataloguedKey[];
}

/** A product whose distributions read different keys: one key list per distribution. */
interface DistributionCatalogues {
  readonly product: string;
  readonly sources: readonly CatalogueSource[];
  readonly distributions: Readonly<Record<string, { readonly keys: readonly CataloguedKey[] }>>;
}

/** @see ./apim-4.3.0.keys.json */
export const APIM_430_KEYS: KeyCatalogue = { ...(catalogueJson as KeyCatalogue), file: 'generator/products/apim-4.3.0.keys.json' };

/** The catalogues of products of distributions (4.5+), by the real product's id: `generator/products/<id>.keys.json`. */
const DISTRIBUTED: Readonly<Record<string, DistributionCatalogues>> = {
  'apim-4.5.0': catalogue450Json as DistributionCatalogues,
  'apim-4.7.0': catalogue470Json as DistributionCatalogues,
};

/** @see ./apim-4.5.0.keys.json, ./apim-4.7.0.keys.json: the keys of one distribution of a product, as a catalogue of its own. */
export function distributionKeys(productId: string, distribution: string): KeyCatalogue {
  const catalogue = DISTRIBUTED[productId];
  if (!catalogue) throw new Error(`no key catalogue for ${productId}: add generator/products/${productId}.keys.json to key-catalogue.ts`);
  const file = `generator/products/${productId}.keys.json`;
  const entry = catalogue.distributions[distribution];
  if (!entry) throw new Error(`${file} has no distribution "${distribution}"`);
  return { product: `${catalogue.product} ${distribution}`, file, sources: catalogue.sources, keys: entry.keys };
}

/** Every catalogue, for whole-catalogue checks. */
export const CATALOGUES: readonly KeyCatalogue[] = [
  APIM_430_KEYS,
  ...Object.entries(DISTRIBUTED).flatMap(([id, c]) => Object.keys(c.distributions).map((d) => distributionKeys(id, d))),
];

/**
 * The catalogue a node of `role` of `product` is checked against: the product's (a stand-in's is
 * its real product's), and from 4.5 its distribution's list in it.
 */
export function catalogueFor(product: ProductSpec, role: Role): KeyCatalogue {
  if (product.keyCatalogue === APIM_430_KEYS.product) return APIM_430_KEYS;
  return distributionKeys(product.keyCatalogue, runtimeOf(product, role).distribution);
}

export interface FlatEntry {
  readonly key: string;
  readonly value: unknown;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

function keySegment(name: string): string {
  if (BARE_KEY.test(name)) return name;
  return name.includes("'") ? JSON.stringify(name) : `'${name}'`;
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * A parsed TOML document as dotted keys, the way the catalogue names them:
 * `[[apim.gateway.environment]] name` → `apim.gateway.environment[].name`,
 * `'header.X-WSO2-KEY-MANAGER'` under `[event_listener.properties]` keeps its quotes.
 */
export function flattenToml(table: Record<string, unknown>, prefix = ''): FlatEntry[] {
  return Object.entries(table).flatMap(([name, value]) => {
    const key = `${prefix}${keySegment(name)}`;
    if (isTable(value)) return flattenToml(value, `${key}.`);
    if (Array.isArray(value) && value.length > 0 && value.every(isTable)) {
      return value.flatMap((element) => flattenToml(element, `${key}[].`));
    }
    return [{ key, value }];
  });
}

const PLACEHOLDER = String.raw`\$\{[^}]+\}`;
const urlPattern = (scheme: string) =>
  new RegExp(String.raw`^${scheme}://(?:[A-Za-z0-9._-]+|${PLACEHOLDER})(?::(?:\d{1,5}|${PLACEHOLDER}))?(?:/\S*)?$`);
const URL_PATTERNS: Record<string, RegExp> = {
  http: urlPattern('http'),
  https: urlPattern('https'),
  ws: urlPattern('ws'),
  wss: urlPattern('wss'),
  tcp: urlPattern('tcp'),
  ssl: urlPattern('ssl'),
  jdbc: /^jdbc:[a-z0-9]+:\S+$/,
};

function describe(value: unknown): string {
  if (Array.isArray(value)) return `the list ${JSON.stringify(value)}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `the ${typeof value} ${JSON.stringify(value)}`;
}

const example = (scheme: string) => (scheme === 'jdbc' ? 'jdbc:mysql://host:3306/DB' : `${scheme}://host:port`);

interface ShapeProblem {
  readonly rule: string;
  readonly fix?: string;
}

/** What is wrong with `value` for `spec`, or undefined when it fits. */
function shapeProblem(spec: CataloguedKey, value: unknown): ShapeProblem | undefined {
  const isString = typeof value === 'string';
  const isStringList = Array.isArray(value) && value.every((v) => typeof v === 'string');
  switch (spec.shape) {
    case 'string':
      return isString ? undefined : { rule: 'must be a string', fix: 'quote the value' };
    case 'boolean':
      return typeof value === 'boolean' ? undefined : { rule: 'must be a boolean', fix: 'write true or false, unquoted' };
    case 'integer':
      return Number.isInteger(value) ? undefined : { rule: 'must be an integer', fix: 'write the number unquoted' };
    case 'string[]':
      return isStringList ? undefined : { rule: 'must be a list of strings', fix: `write [${isString ? JSON.stringify(value) : '"…"'}]` };
    case 'string|string[]':
      return isString || isStringList ? undefined : { rule: 'must be a string or a list of strings' };
    case 'enum': {
      const allowed = spec.values ?? [];
      return isString && allowed.includes(value)
        ? undefined
        : { rule: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, fix: 'use one of them' };
    }
    default: {
      const [kind, scheme] = spec.shape.split(':');
      const pattern = URL_PATTERNS[scheme];
      const fits = (v: unknown) => typeof v === 'string' && pattern.test(v);
      if (kind === 'url') return fits(value) ? undefined : { rule: `must be one ${scheme}:// URL`, fix: `write "${example(scheme)}"` };
      if (Array.isArray(value) && value.length > 0 && value.every(fits)) return undefined;
      return {
        rule: `must be a non-empty list of ${scheme}:// URLs`,
        fix: `write ${fits(value) ? `[${JSON.stringify(value)}]` : `["${example(scheme)}", …]`}`,
      };
    }
  }
}

function findSpec(catalogue: KeyCatalogue, key: string): CataloguedKey | undefined {
  const exact = catalogue.keys.find((k) => k.key === key);
  if (exact) return exact;
  return catalogue.keys.find((k) => {
    if (!k.key.endsWith('.*')) return false;
    const prefix = k.key.slice(0, -1);
    return key.startsWith(prefix) && /^(?:[A-Za-z0-9_-]+|'[^']*'|"[^"]*")$/.test(key.slice(prefix.length));
  });
}

/**
 * Problems of a parsed deployment.toml against the catalogue of keys the product (APIM 4.3.0 by default) reads: keys it does
 * not read, and values of the wrong shape (a string where the product loops over a list, an ssl://
 * URL where it opens a tcp:// connection, an unknown server_role). Empty when all is well.
 */
export function checkAgainstCatalogue(toml: Record<string, unknown>, catalogue: KeyCatalogue = APIM_430_KEYS): string[] {
  const sourceOf = new Map(catalogue.sources.map((s) => [s.id, s]));
  return flattenToml(toml).flatMap(({ key, value }) => {
    const spec = findSpec(catalogue, key);
    if (!spec) {
      return [
        `${key}: ${catalogue.product} reads no such key (not in ${catalogue.file ?? 'its catalogue'}) (got ${describe(value)}). Fix: remove it, or catalogue it with the template that reads it`,
      ];
    }
    const problem = shapeProblem(spec, value);
    if (!problem) return [];
    const source = sourceOf.get(spec.source);
    const readBy = source ? `; see ${source.repo}/${source.path}` : '';
    return [`${key}: ${problem.rule} (${spec.shape}${readBy}) (got ${describe(value)})${problem.fix ? `. Fix: ${problem.fix}` : ''}`];
  });
}

/** Whole-catalogue rules: known shapes, enums with values, known source ids, no duplicate keys. */
export function validateCatalogue(catalogue: KeyCatalogue): string[] {
  const ids = new Set(catalogue.sources.map((s) => s.id));
  const problems = catalogue.sources
    .filter((s) => !s.repo || !s.path || !s.ref)
    .map((s) => `sources/${s.id}: repo, path and ref are required (got ${JSON.stringify(s)})`);
  const seen = new Set<string>();
  for (const k of catalogue.keys) {
    const where = `keys/${k.key}`;
    if (seen.has(k.key)) problems.push(`${where}: listed twice. Fix: merge the entries`);
    seen.add(k.key);
    if (!(SHAPES as readonly string[]).includes(k.shape))
      problems.push(`${where}: unknown shape "${k.shape}". Fix: use one of ${SHAPES.join(', ')}`);
    if ((k.shape === 'enum') !== Boolean(k.values?.length))
      problems.push(`${where}: values go with shape "enum" and only with it (got shape "${k.shape}", values ${JSON.stringify(k.values)})`);
    for (const id of [k.source, ...(k.seenIn ?? [])]) {
      if (!ids.has(id)) problems.push(`${where}: source "${id}" is not in sources. Fix: add it or correct the id`);
    }
  }
  return problems;
}
