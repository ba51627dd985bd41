import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'smol-toml';
import { PROJECT_ROOT } from '../../generator/paths';
import { runtimeOf } from '../../generator/products/product';
import type { KeyCatalogue } from '../../generator/products/key-catalogue';
import { PRODUCTS, resolveProduct } from '../../generator/products';
import { isClassic } from '../../generator/products/product';
import type { Role } from '../../generator/model/lab';
import { catalogueFor, CATALOGUES, checkAgainstCatalogue, flattenToml, validateCatalogue } from '../../generator/products/key-catalogue';
import { renderLab } from '../../generator/render';
import { scaleArgs } from '../../generator/model/lab';
import { SCALED_LABS, TOML_LABS } from '../support/labs';

type Toml = Record<string, unknown>;

/** Every node's rendered deployment.toml, for both products and the three patterns, at their default and edge scales. */
const RENDERED = [...TOML_LABS, ...SCALED_LABS.map((l) => ({ ...l, product: l.lab.product }))].flatMap(({ lab, product, pattern }) =>
  lab.nodes.map((node) => ({
    product: product.id,
    pattern: `${pattern}${scaleArgs(lab.scale)
      .map((a) => ` ${a}`)
      .join('')}`,
    node: node.name,
    expectedRole: runtimeOf(product, node.role).serverRole,
    catalogue: catalogueFor(product, node.role),
    toml: parse(renderLab(lab).find((f) => f.path === `nodes/${node.name}/repository/conf/deployment.toml`)!.content) as Toml,
  })),
);

/** The deployment.toml files committed under labs/ (what `make lab` starts). */
function committedTomls(): { path: string; toml: Toml; catalogue: KeyCatalogue }[] {
  const labs = join(PROJECT_ROOT, 'labs');
  const roleOf = (node: string): Role =>
    node.startsWith('manager-') ? 'manager' : node.startsWith('worker-') ? 'worker' : 'traffic-manager';
  return readdirSync(labs)
    .filter((product) => product in PRODUCTS && !isClassic(resolveProduct(product)))
    .flatMap((product) =>
      readdirSync(join(labs, product)).flatMap((pattern) => {
        const nodes = join(labs, product, pattern, 'nodes');
        return readdirSync(nodes).map((node) => {
          const path = join('labs', product, pattern, 'nodes', node, 'repository/conf/deployment.toml');
          return {
            path,
            toml: parse(readFileSync(join(PROJECT_ROOT, path), 'utf8')) as Toml,
            catalogue: catalogueFor(resolveProduct(product), roleOf(node)),
          };
        });
      }),
    );
}

describe.each(CATALOGUES.map((c) => [c.product, c] as const))('the %s key catalogue', (_, catalogue) => {
  test('is well formed: known shapes, enums with values, every source cited with repo, path and ref', () => {
    expect(validateCatalogue(catalogue)).toEqual([]);
  });

  test('marks exactly the keys the lab writes as writtenByLab', () => {
    const rendered = new Set(
      RENDERED.filter((r) => r.catalogue.product === catalogue.product).flatMap(({ toml }) => flattenToml(toml).map((e) => e.key)),
    );
    expect(rendered.size).toBeGreaterThan(0);
    const marked = new Set(catalogue.keys.filter((k) => k.writtenByLab).map((k) => k.key));
    expect({
      writtenButNotMarked: [...rendered].filter((k) => !marked.has(k)),
      markedButNotWritten: [...marked].filter((k) => !rendered.has(k)),
    }).toEqual({ writtenButNotMarked: [], markedButNotWritten: [] });
  });
});

describe.each(RENDERED)('$product pattern $pattern $node deployment.toml', ({ toml, expectedRole, catalogue }) => {
  test(`has only keys ${catalogue.product} reads, each value of the shape the product reads`, () => {
    expect(checkAgainstCatalogue(toml, catalogue)).toEqual([]);
  });

  test('server_role is the profile the node starts with', () => {
    expect((toml.server as Toml).server_role).toBe(expectedRole);
  });
});

test('every committed lab deployment.toml passes the catalogue too', () => {
  const files = committedTomls();
  expect(files.length).toBeGreaterThan(0);
  expect(new Set(files.map((f) => f.catalogue.product)).size).toBe(CATALOGUES.length);
  expect(files.flatMap(({ path, toml, catalogue }) => checkAgainstCatalogue(toml, catalogue).map((p) => `${path}: ${p}`))).toEqual([]);
});

test('a 4.5 or 4.7 node takes server_role "default" only: its distribution\'s infer.json maps no other value (api-manager#5095)', () => {
  const distributed = CATALOGUES.filter((c) => c.product !== 'apim-4.3.0');
  expect(distributed.map((c) => c.product)).toEqual([
    'apim-4.5.0 acp',
    'apim-4.5.0 universal-gw',
    'apim-4.5.0 tm',
    'apim-4.7.0 acp',
    'apim-4.7.0 universal-gw',
    'apim-4.7.0 tm',
  ]);
  for (const catalogue of distributed) {
    for (const helmRole of ['gateway-worker', 'traffic-manager', 'control-plane']) {
      expect(checkAgainstCatalogue({ server: { server_role: helmRole } }, catalogue)).toEqual([
        expect.stringMatching(new RegExp(`^server\\.server_role: must be one of "default" .*got the string "${helmRole}"`)),
      ]);
    }
    expect(checkAgainstCatalogue({ server: { server_role: 'default' } }, catalogue)).toEqual([]);
  }
});

describe('the checker fails on what the product would not read', () => {
  const check = (text: string) => checkAgainstCatalogue(parse(text) as Toml);

  test('flattens arrays of tables and keeps quoted keys quoted', () => {
    const keys = flattenToml(
      parse(`
[[event_listener]]
id = "token_revocation"
[event_listener.properties]
'header.X-WSO2-KEY-MANAGER' = "default"
`) as Toml,
    ).map((e) => e.key);
    expect(keys).toEqual(['event_listener[].id', "event_listener[].properties.'header.X-WSO2-KEY-MANAGER'"]);
    expect(
      check(`
[[event_listener]]
order = 1
[event_listener.properties]
'header.X-WSO2-KEY-MANAGER' = "default"
`),
    ).toEqual([]);
  });

  test('an unknown key', () => {
    expect(check('[apim.throttling]\nthrottle_decision_endpoint = ["tcp://cp:5672"]\n')).toEqual([
      expect.stringMatching(/^apim\.throttling\.throttle_decision_endpoint: apim-4\.3\.0 reads no such key .*Fix: remove it/),
    ]);
  });

  test('a table where the product expects an array of tables', () => {
    expect(check('[apim.gateway.environment]\nname = "Default"\n')).toEqual([
      expect.stringMatching(/^apim\.gateway\.environment\.name: apim-4\.3\.0 reads no such key/),
    ]);
  });

  test('throttle_decision_endpoints as a string, not a list', () => {
    expect(check('[apim.throttling]\nthrottle_decision_endpoints = "tcp://x:5672"\n')).toEqual([
      'apim.throttling.throttle_decision_endpoints: must be a non-empty list of tcp:// URLs (url[]:tcp; see wso2/carbon-apimgt/' +
        'features/apimgt/org.wso2.carbon.apimgt.core.feature/src/main/resources/conf_templates/templates/repository/conf/api-manager.xml.j2) ' +
        '(got the string "tcp://x:5672"). Fix: write ["tcp://x:5672"]',
    ]);
  });

  test('an ssl:// URL where the product opens a tcp:// connection, and the reverse', () => {
    const problems = check(`
[[apim.throttling.url_group]]
traffic_manager_urls = ["ssl://cp:9711"]
traffic_manager_auth_urls = ["tcp://cp:9611"]
`);
    expect(problems).toEqual([
      expect.stringMatching(
        /^apim\.throttling\.url_group\[\]\.traffic_manager_urls: must be a non-empty list of tcp:\/\/ URLs .*got the list \["ssl:\/\/cp:9711"\]/,
      ),
      expect.stringMatching(/^apim\.throttling\.url_group\[\]\.traffic_manager_auth_urls: must be a non-empty list of ssl:\/\/ URLs/),
    ]);
  });

  test('a server_role no profile has, and a quoted boolean', () => {
    expect(check('[server]\nserver_role = "gateway"\n[apim.event_hub]\nenable = "true"\n')).toEqual([
      expect.stringMatching(
        /^server\.server_role: must be one of "default", "control-plane", "gateway-worker", .*got the string "gateway"/,
      ),
      expect.stringMatching(/^apim\.event_hub\.enable: must be a boolean .*Fix: write true or false, unquoted/),
    ]);
  });

  test('an open map takes any key, a known key keeps its own shape', () => {
    expect(check('[database.shared_db.pool_options]\nmaxActive = "100"\n[transport.https.properties]\nproxyPort = "443"\n')).toEqual([
      expect.stringMatching(/^transport\.https\.properties\.proxyPort: must be an integer/),
    ]);
  });
});
