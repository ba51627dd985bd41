import type { LabSpec, PatternId } from '../generator/model/lab';
import { sharedBalancer, slotOf } from '../generator/patterns/common';
import type { Check, CheckResult } from './check';
import { checkById } from './checks';
import { failoverCheck } from './checks/managers-fail-over';
import { sim, simApim260, simApim470 } from '../generator/products/sim';
import { PRODUCTS } from '../generator/products';
import type { ProductSpec } from '../generator/products/product';
import type { LabFault, LabTarget, StartOptions } from './lab-target';
import type { Target } from '../generator/model/lab';
import { readdirSync, readFileSync, writeFileSync } from 'fs';
import YAML from 'yaml';
import { join } from 'path';
import { managers, TRUST, workers } from '../generator/model/lab';
import { inspectContainer } from '../generator/runtime/engine';
import { BALANCER_CONF_TARGET, balancerConfigSource } from '../generator/render/stack';
import { buildLab } from '../generator/patterns';
import { faultDelta } from './shared-lab';

/** A deliberately broken lab and the check that must fail on it. */
export interface SeededFault {
  readonly id: string;
  readonly description: string;
  /**
   * The check that must fail. None for a lab that must never become healthy: then its own start
   * must fail, for {@link because} (the node's exit ends the wait, not the budget: {@link judgeStart}).
   */
  readonly check?: Check;
  /**
   * The failure the fault must cause, matched against the check's reason (or the start's error):
   * a check that fails for another reason (a setup time-out, another problem) has not caught it.
   */
  readonly because: RegExp;
  readonly pattern: PatternId;
  /** The stand-in product the broken lab runs (default `sim`, the 4.3.0 stand-in). */
  readonly product?: ProductSpec;
  readonly options: Pick<StartOptions, 'faults'>;
  /** What a user of the broken lab also sees, checked on the running lab after the check failed. */
  readonly symptom?: { readonly what: string; seen(lab: LabTarget): Promise<boolean> };
  /** Where the break can exist (default both): some live in one target's own files. */
  readonly targets?: readonly Target[];
  /**
   * Why the fault needs a lab of its own although its change stays inside services (see
   * {@link planSelftest}): a break that reaches other nodes only at their own start.
   */
  readonly ownLab?: string;
}

/** Whether a check's result caught a seeded fault, and why (or why not), as the self-test report says it. */
export function judgeCatch(
  fault: Pick<SeededFault, 'because' | 'symptom'>,
  result: Pick<CheckResult, 'status' | 'reason'>,
  symptomSeen?: boolean,
): { caught: boolean; why: string } {
  const symptom = fault.symptom ? `${fault.symptom.what}: ${symptomSeen ? 'seen' : 'NOT seen'}. ` : '';
  if (result.status !== 'failed') return { caught: false, why: `${symptom}the check ${result.status}, it did not fail` };
  const reason = result.reason ?? '';
  if (!fault.because.test(reason))
    return {
      caught: false,
      why: `${symptom}the check failed for another reason than ${fault.because} (a time-out or another problem): ${reason}`,
    };
  if (fault.symptom && !symptomSeen) return { caught: false, why: `${symptom}${reason}` };
  return { caught: true, why: `${symptom}failed as declared (${fault.because}): ${reason}` };
}

/**
 * Whether a lab that must never become healthy was refused for its reason: its start failed, its
 * error naming the cause in its first line. That line comes only from the start's exit path, which
 * ends the wait when the node exits; a wait that ran out its budget says "to become healthy: timed
 * out" first, and is no catch (its time is not judged: a start also waits for the machine).
 */
export function judgeStart(fault: Pick<SeededFault, 'because'>, error: Error | undefined): { caught: boolean; why: string } {
  if (!error) return { caught: false, why: 'the lab became healthy' };
  const first = error.message.split('\n')[0];
  if (!fault.because.test(error.message))
    return { caught: false, why: `the start failed for another reason than ${fault.because}: ${first}` };
  return { caught: true, why: `the start failed as declared (${fault.because}): ${first}` };
}

/**
 * How the self-test runs its faults: those of one product and pattern whose changes stay inside
 * services ({@link faultDelta}) take one running lab in turn (a {@link SharedLab}), the ones that
 * recreate a manager last (gateways reconnect to a recreated manager's event hub; nothing after
 * them depends on it); the rest each start a lab of their own, with why.
 */
export interface SelftestPlan {
  readonly shared: readonly (readonly SeededFault[])[];
  readonly alone: readonly { readonly fault: SeededFault; readonly why: string }[];
}

export function planSelftest(faults: readonly SeededFault[], target: Target): SelftestPlan {
  const alone: { fault: SeededFault; why: string }[] = [];
  const groups = new Map<string, { fault: SeededFault; managers: boolean }[]>();
  for (const fault of faults) {
    const product = fault.product ?? sim;
    if (target === 'swarm') {
      alone.push({ fault, why: 'a stack is deployed whole' });
      continue;
    }
    if (!fault.check) {
      alone.push({ fault, why: 'the lab itself must fail to start' });
      continue;
    }
    if (fault.ownLab) {
      alone.push({ fault, why: fault.ownLab });
      continue;
    }
    const spec = buildLab(fault.pattern, { product });
    const delta = faultDelta(spec, fault.options.faults ?? []);
    if ('apart' in delta) {
      alone.push({ fault, why: delta.apart });
      continue;
    }
    const key = `${product.id} p${fault.pattern}`;
    groups.set(key, [
      ...(groups.get(key) ?? []),
      { fault, managers: delta.services.some((s) => managers(spec).some((m) => m.name === s)) },
    ]);
  }
  const shared: SeededFault[][] = [];
  for (const [key, group] of groups) {
    if (group.length === 1) alone.push({ fault: group[0].fault, why: `the only fault of ${key} that can share a lab` });
    else shared.push([...group.filter((g) => !g.managers), ...group.filter((g) => g.managers)].map((g) => g.fault));
  }
  return { shared, alone };
}

/**
 * The plan's faults in `count` streams that run side by side (one per share of the machine), each
 * stream one fault after another: a shared lab's faults stay together in one stream (they take its
 * lab in turn), and the units (a shared lab's faults, or a fault with its own lab) go longest first
 * to the stream with the least work so far, by `costMs` (the self-test's: a lab's start and a
 * fixed turn per fault, measured). A stream ends its shared labs before its own-lab faults, as the plan orders them.
 */
export function selftestStreams(plan: SelftestPlan, count: number, costMs: (unit: readonly SeededFault[]) => number): SeededFault[][] {
  const units = [
    ...plan.shared.map((g) => ({ faults: g, shared: true })),
    ...plan.alone.map((a) => ({ faults: [a.fault], shared: false })),
  ].map((u, i) => ({ ...u, i, cost: costMs(u.faults) }));
  const streams = Array.from({ length: Math.max(1, count) }, () => ({ cost: 0, units: [] as typeof units }));
  for (const unit of [...units].sort((a, b) => b.cost - a.cost || a.i - b.i)) {
    const least = streams.reduce((min, s) => (s.cost < min.cost ? s : min));
    least.cost += unit.cost;
    least.units.push(unit);
  }
  return streams
    .map((s) => s.units.sort((a, b) => Number(b.shared) - Number(a.shared) || a.i - b.i).flatMap((u) => u.faults))
    .filter((s) => s.length > 0);
}

/** A classic node's api-manager.xml, under its lab folder's nodes/<node>/. */
const API_MANAGER_XML = join('repository', 'conf', 'api-manager.xml');

/** Edits a file of a lab folder; an edit that changes nothing is an error (`missing` says what was not found). */
function editLabFile(file: string, missing: string, edit: (text: string) => string): void {
  const text = readFileSync(file, 'utf8');
  const edited = edit(text);
  if (edited === text) throw new Error(`${file}: ${missing}`);
  writeFileSync(file, edited);
}

/** Edits a file of each node's configuration in a lab folder (see {@link editLabFile}). */
function editNodeFiles(dir: string, nodes: readonly string[], path: string, missing: string, edit: (text: string) => string): void {
  for (const node of nodes) editLabFile(join(dir, 'nodes', node, path), missing, edit);
}

/** Whether a seeded fault applies to a lab of that target. */
export const appliesTo = (fault: SeededFault, target: Target): boolean => (fault.targets ?? ['compose', 'swarm']).includes(target);

/**
 * The seeded faults a self-test run takes, as its environment names them: `faults` (`a,b`: only
 * those) and `products` (`p,q`: only the faults on those products; `!p`: every fault but those on
 * p: `make test` runs the classic product's faults in a leg of their own). A name that matches
 * nothing is refused, naming what there is.
 */
export function selectFaults(all: readonly SeededFault[], env: { readonly faults?: string; readonly products?: string }): SeededFault[] {
  // An empty value is no choice (as unset), not a choice of nothing.
  const list = (value?: string) => {
    const names = value
      ?.split(',')
      .map((x) => x.trim())
      .filter(Boolean);
    return names?.length ? names : undefined;
  };
  const only = list(env.faults);
  const unknown = only?.filter((id) => !all.some((f) => f.id === id)) ?? [];
  if (unknown.length)
    throw new Error(`CARBON_LABS_SELFTEST_FAULTS: no seeded fault ${unknown.join(', ')}; they are ${all.map((f) => f.id).join(', ')}`);
  const productOf = (f: SeededFault) => (f.product ?? sim).id;
  const raw = env.products?.trim();
  const but = raw?.startsWith('!') ?? false;
  const products = list(but ? raw!.slice(1) : raw);
  const known = [...new Set(all.map(productOf))];
  const strange = products?.filter((p) => !(known as string[]).includes(p)) ?? [];
  if (strange.length)
    throw new Error(`CARBON_LABS_SELFTEST_PRODUCTS: no seeded fault is on ${strange.join(', ')}; they are on ${known.join(', ')}`);
  return all.filter((f) => (!only || only.includes(f.id)) && (!products || products.includes(productOf(f)) !== but));
}

/** The image's own truststore, without the lab CA: what a node has when the lab's is not given. */
const STOCK_TRUSTSTORE = `${sim.roles.manager.home}/repository/resources/security/client-truststore.jks`;

/** Past the stand-in's propagation bound, so a delayed pull is a late one. */
const ARTIFACTS_BOUND_FAULT_DELAY_MS = sim.timing.propagationBoundMs + 1500;

const env = (vars: Record<string, string>) => ({ environment: vars });
const compose = (services: Record<string, Record<string, unknown>>, unhealthy?: readonly string[]): LabFault => ({
  kind: 'compose',
  services,
  unhealthy,
});
const model = (mutate: (lab: LabSpec) => LabSpec): LabFault => ({ kind: 'model', mutate });
const files = (edit: (dir: string) => void): LabFault => ({ kind: 'files', edit });

/**
 * The managers as WSO2's own configurations leave them (product-apim's deployment.toml, helm's
 * chart default): no `oauth2_jwks_url`, so the Resident Key Manager's JWKS URL is built on
 * `[server] hostname` and `proxyPort`, `https://localhost:<manager listener port>/oauth2/jwks`,
 * where no worker reaches a manager (docs/real-product.md, "JWKS").
 */
export const STOCK_JWKS_URL: LabFault = files((dir) => {
  for (const manager of readdirSync(join(dir, 'nodes')).filter((node) => node.startsWith('manager-'))) {
    const file = join(dir, 'nodes', manager, 'repository', 'conf', 'deployment.toml');
    const text = readFileSync(file, 'utf8');
    const line = /^oauth2_jwks_url = "https:\/\/lb-manager:9443\/oauth2\/jwks"\n/m;
    if (!line.test(text)) throw new Error(`${file} has no oauth2_jwks_url to remove`);
    writeFileSync(file, text.replace(line, ''));
  }
});

function withBalancers(lab: LabSpec, balancers: LabSpec['balancers']): LabSpec {
  return { ...lab, balancers };
}

export const SEEDED_FAULTS: readonly SeededFault[] = [
  {
    id: 'worker-accepts-writes',
    because: /workers accepted admin writes: .*on worker-1 /,
    pattern: 3,
    check: checkById('workers-reject-admin-writes'),
    description: 'worker-1 accepts admin writes (SIM_FAULT_WORKER_ACCEPTS_WRITES)',
    options: { faults: [compose({ 'worker-1': env({ SIM_FAULT_WORKER_ACCEPTS_WRITES: 'true' }) })] },
  },
  {
    id: 'worker-not-in-worker-mode',
    because: /workers accepted admin writes: SOAP addUser on worker-1 servlet/,
    pattern: 3,
    check: checkById('workers-reject-admin-writes'),
    description: 'worker-1 without [system.parameter] workerNode = "true": its SOAP admin services take writes',
    options: {
      faults: [
        files((dir) => {
          const file = join(dir, 'nodes', 'worker-1', 'repository', 'conf', 'deployment.toml');
          const text = readFileSync(file, 'utf8');
          if (!text.includes('workerNode = "true"')) throw new Error(`${file} has no workerNode to remove`);
          writeFileSync(file, text.replace(/\[system\.parameter\]\nworkerNode = "true"\n/, ''));
        }),
      ],
    },
  },
  {
    id: 'worker-with-control-plane-profile',
    because: /workers accepted admin writes: .*on worker-1 servlet/,
    pattern: 3,
    check: checkById('workers-reject-admin-writes'),
    description: 'worker-1 started with PROFILE_NAME=control-plane (it keeps the admin webapps)',
    options: { faults: [compose({ 'worker-1': env({ PROFILE_NAME: 'control-plane' }) }, ['worker-1'])] },
    // It keeps worker-1 unhealthy: on a stack Swarm replaces such a task again and again, so the
    // check would fail on the restarts, not on the writes the worker takes.
    targets: ['compose'],
  },
  // For each stand-in whose image is its role (4.5+), found in PRODUCTS: pattern 3 for the first
  // (4.5.0), pattern 1 (fewest nodes) for the later ones, which share its layout.
  ...Object.values(PRODUCTS)
    .filter((p) => !p.pulled && p.roleSwitch === 'distribution')
    .map((product, i): SeededFault => ({
      id: i === 0 ? 'worker-from-control-plane-image' : `worker-from-control-plane-image-${product.id.replace(/^sim-apim-/, '')}`,
      pattern: i === 0 ? 3 : 1,
      product,
      check: checkById('workers-reject-admin-writes'),
      because: /workers accepted admin writes: .*on worker-1 servlet/,
      description: `${product.id}: worker-1 started from the API Control Plane image instead of the Universal Gateway's (since 4.5.0 there are no profiles: the image is the role)`,
      options: { faults: [compose({ 'worker-1': { image: product.roles.manager.image } }, ['worker-1'])] },
      // Unhealthy too (see above): compose only.
      targets: ['compose'],
    })),
  {
    // 4.7.0: the symmetric internal crypto provider is the default and needs a hex key of 64 (or 48)
    // characters; a passphrase of that length stops the provider with an ERROR, the node still starts.
    id: 'worker-encryption-key-not-hex',
    pattern: 1,
    product: simApim470,
    check: checkById('logs-clean'),
    because: /ERROR lines in the logs: worker-1 \(\d+\): ERROR \{[^}]*\} - \[encryption\] key: 64 characters but not hex/,
    description:
      "sim-apim-4.7.0: worker-1's [encryption] key is a 64-character passphrase, not hex (the symmetric crypto provider is not registered, and says so at ERROR)",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) => {
            const file = join(dir, 'nodes', 'worker-1', 'repository', 'conf', 'deployment.toml');
            const text = readFileSync(file, 'utf8');
            if (!/^key = "[0-9a-f]{64}"$/m.test(text)) throw new Error(`${file} has no 64-character hex [encryption] key`);
            writeFileSync(
              file,
              text.replace(/^key = "[0-9a-f]{64}"$/m, `key = "${'correct horse battery staple '.repeat(3).slice(0, 64)}"`),
            );
          },
        },
      ],
    },
  },
  // The classic product (pattern 1 of its stand-in: fewest nodes).
  {
    id: 'classic-worker-not-in-worker-mode',
    pattern: 1,
    product: simApim260,
    check: checkById('workers-reject-admin-writes'),
    because: /workers accepted admin writes: SOAP APIGatewayAdmin addApi on worker-1 servlet/,
    description: 'sim-apim-2.6.0: worker-1 started with -Dprofile=gateway-worker only, without -DworkerNode=true (it takes admin writes)',
    options: { faults: [compose({ 'worker-1': { command: ['-Dprofile=gateway-worker'] } })] },
    // The classic product runs on compose only.
    targets: ['compose'],
  },
  {
    id: 'classic-worker-node-without-profile',
    pattern: 1,
    product: simApim260,
    because: /^worker-1 of \S+ is exited 1: .*FATAL \{org\.wso2\.carbon\.server\.Main\} - OSGi runtime worker profile not found/,
    description:
      "sim-apim-2.6.0: worker-1 started with -DworkerNode=true only, without -Dprofile=gateway-worker (Carbon's launcher looks for a `worker` profile, which 2.6.0 does not have, and stops): the lab never becomes healthy, and its start says why at once",
    options: { faults: [compose({ 'worker-1': { command: ['-DworkerNode=true'] } })] },
    targets: ['compose'],
  },
  {
    id: 'classic-worker-in-another-domain',
    pattern: 1,
    product: simApim260,
    check: checkById('cluster-membership'),
    because: /worker-2 is in domain wso2\.am\.other\.domain, not wso2\.am\.domain/,
    description: "sim-apim-2.6.0: worker-2's axis2.xml names another clustering domain (it joins no one, and the others refuse it)",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) =>
            editNodeFiles(
              dir,
              ['worker-2'],
              join('repository', 'conf', 'axis2', 'axis2.xml'),
              'no clustering domain wso2.am.domain',
              (text) =>
                text.replace(
                  '<parameter name="domain">wso2.am.domain</parameter>',
                  '<parameter name="domain">wso2.am.other.domain</parameter>',
                ),
            ),
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-workers-ignore-cache-invalidation',
    pattern: 1,
    product: simApim260,
    check: checkById('revocation-reaches-workers'),
    because: /worker-\d still served the token revoked through the store's RevokeAPIURL \(\S+\) \d+ ms after its revocation/,
    description:
      "sim-apim-2.6.0: the workers drop their domain's cache invalidations (SIM_FAULT_IGNORE_CACHE_INVALIDATION): a token revoked through one worker's /revoke stays in the other's cache",
    options: {
      faults: [
        compose({
          'worker-1': env({ SIM_FAULT_IGNORE_CACHE_INVALIDATION: 'true' }),
          'worker-2': env({ SIM_FAULT_IGNORE_CACHE_INVALIDATION: 'true' }),
        }),
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-revoke-url-at-the-manager',
    pattern: 2,
    product: simApim260,
    check: checkById('revocation-reaches-workers'),
    because: /worker-1 still served the token revoked through the store's RevokeAPIURL \(https:\/\/localhost:8243\/revoke\)/,
    description:
      "sim-apim-2.6.0 pattern 2: the managers' RevokeAPIURL left at the stock https://localhost:${https.nio.port}/revoke, the manager's own gateway, whose cache invalidation reaches the managers' cluster only: the workers, a separate cluster, keep a revoked token until their cache expires",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) =>
            editNodeFiles(dir, ['manager-1', 'manager-2'], API_MANAGER_XML, 'no RevokeAPIURL to put back to the stock one', (text) =>
              text.replace(
                /<RevokeAPIURL>[^<]*<\/RevokeAPIURL>/,
                '<RevokeAPIURL>https://localhost:${https.nio.port}/revoke</RevokeAPIURL>',
              ),
            ),
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-workers-without-token-cache',
    pattern: 1,
    product: simApim260,
    check: checkById('manager-outage-without-ha'),
    because: /workers failed \d+ of \d+ requests while the manager was down/,
    description:
      "sim-apim-2.6.0 pattern 1: the workers' gateway token cache off (api-manager.xml EnableGatewayTokenCache false, a documented setting): every call is validated at the key manager, which is the only manager, so while it is down the workers serve nothing",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) =>
            editNodeFiles(dir, ['worker-1', 'worker-2'], API_MANAGER_XML, 'no EnableGatewayTokenCache to turn off', (text) =>
              text.replace(
                '<EnableGatewayTokenCache>true</EnableGatewayTokenCache>',
                '<EnableGatewayTokenCache>false</EnableGatewayTokenCache>',
              ),
            ),
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-worker-with-stock-token-cache-expiry',
    pattern: 1,
    product: simApim260,
    check: checkById('policies-propagate'),
    because: /worker-2 still served a BLOCKED subscription \d+ s after the block/,
    description:
      "sim-apim-2.6.0 pattern 1: worker-2's api-manager.xml keeps TokenCacheExpiry as WSO2's file has it (a comment: the caches' default of 15 minutes), so a subscription blocked at the manager is still served there to a token it had validated, long past the lab's bound (its 20 s expiry and Carbon's 30 s sweep)",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) =>
            editNodeFiles(dir, ['worker-2'], API_MANAGER_XML, 'no TokenCacheExpiry to put back as a comment', (text) =>
              text.replace(/<TokenCacheExpiry>\d+<\/TokenCacheExpiry>/, '<!--TokenCacheExpiry>900</TokenCacheExpiry-->'),
            ),
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-worker-hears-no-throttle-decisions',
    pattern: 1,
    product: simApim260,
    check: checkById('policies-propagate'),
    because: /worker-2 still served past the subscription's quota of \d+ requests an hour/,
    description:
      "sim-apim-2.6.0 pattern 1: worker-2's api-manager.xml keeps WSO2's JMS connection URL (brokerlist tcp://${carbon.local.ip}:${jms.port}: the worker's own, where a gateway worker runs no broker), so it hears no traffic manager's decision and serves an application past its subscription's quota",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) =>
            editNodeFiles(dir, ['worker-2'], API_MANAGER_XML, 'no JMS connection URL to put back to the stock one', (text) =>
              text.replace(
                /<connectionfactory\.TopicConnectionFactory>[^<]*<\/connectionfactory\.TopicConnectionFactory>/,
                "<connectionfactory.TopicConnectionFactory>amqp://${admin.username}:${admin.password}@clientid/carbon?brokerlist='tcp://${carbon.local.ip}:${jms.port}'</connectionfactory.TopicConnectionFactory>",
              ),
            ),
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-sync-leaves-out-a-worker',
    pattern: 1,
    product: simApim260,
    check: checkById('artifacts-propagate'),
    because: /never served by worker-2/,
    description:
      "sim-apim-2.6.0: the artifact sync copies the managers' synapse-configs to worker-1 only (worker-2 missing from its list of nodes, as a nodes file of WSO2's rsync script can leave one out)",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) => {
            const file = join(dir, 'docker-compose.yml');
            const text = readFileSync(file, 'utf8');
            const copy = / rsync [^;]* \/synapse\/worker-2\/ \|\| echo \\"carbon-labs sync: copy to worker-2 failed\\" >&2;/;
            if (!copy.test(text)) throw new Error(`${file}: the artifact sync has no copy to worker-2`);
            writeFileSync(file, text.replace(copy, ''));
          },
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'classic-passive-manager-unsynced',
    pattern: 2,
    product: simApim260,
    check: failoverCheck(['stop']),
    because: /times an acknowledged write never reached a worker/,
    description:
      "sim-apim-2.6.0 pattern 2: manager-2 keeps its synapse-configs in a volume of its own, which the sync does not copy (the lab's choice is one volume both managers write): what it publishes while manager-1 is down never reaches the workers",
    options: {
      faults: [
        {
          kind: 'files',
          edit: (dir) => {
            const file = join(dir, 'docker-compose.yml');
            const doc = YAML.parseDocument(readFileSync(file, 'utf8'));
            const mounts = doc.getIn(['services', 'manager-2', 'volumes']) as YAML.YAMLSeq<YAML.YAMLMap>;
            const shared = mounts?.items.find((m) => m.get('source') === 'synapse-configs-managers');
            if (!shared) throw new Error(`${file}: manager-2 does not mount synapse-configs-managers`);
            shared.set('source', 'synapse-configs-manager-2');
            doc.setIn(['volumes', 'synapse-configs-manager-2'], doc.createNode({}));
            writeFileSync(file, doc.toString());
          },
        },
      ],
    },
    targets: ['compose'],
  },
  {
    id: 'gateway-ignores-deploy-events',
    because: /never served by worker-1: .*never served by worker-2/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description: 'the gateways drop deploy events (SIM_FAULT_IGNORE_DEPLOY_EVENTS)',
    options: {
      faults: [
        compose({
          'worker-1': env({ SIM_FAULT_IGNORE_DEPLOY_EVENTS: 'true' }),
          'worker-2': env({ SIM_FAULT_IGNORE_DEPLOY_EVENTS: 'true' }),
        }),
      ],
    },
  },
  {
    id: 'slow-propagation',
    because: /propagation slower than the bound of \d+ ms: worker-2 took/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description: `worker-2 pulls a deployed API ${ARTIFACTS_BOUND_FAULT_DELAY_MS} ms late (SIM_FAULT_PROPAGATION_DELAY_MS), above the bound`,
    options: { faults: [compose({ 'worker-2': env({ SIM_FAULT_PROPAGATION_DELAY_MS: String(ARTIFACTS_BOUND_FAULT_DELAY_MS) }) })] },
  },
  {
    id: 'truststore-without-lab-ca',
    because: /never served by worker-/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description: "the nodes get the image's stock client-truststore.jks, without the lab CA (the truststore one-shot skips the import)",
    options: {
      faults: [
        compose(
          {
            truststore: {
              command: [`cp ${STOCK_TRUSTSTORE} /carbon-labs/${TRUST.truststore} && chmod 644 /carbon-labs/${TRUST.truststore}`],
            },
          },
          ['worker-1', 'worker-2'],
        ),
      ],
    },
    // A stack's truststore is made before it, from the compose file's own one-shot: no override reaches it.
    targets: ['compose'],
    symptom: {
      what: 'worker-1 stays unhealthy (startup health check 500) and its log names the PKIX error, the called URL and the truststore',
      async seen(lab) {
        const logs = await lab.logs('worker-1', 200);
        const health = (await inspectContainer(await lab.container('worker-1'))).State.Health;
        const probe = await lab.http(lab.workerServletUrl('worker-1')).request('GET', '/api/am/gateway/v2/server-startup-healthcheck');
        return (
          /PKIX path building failed.*https:\/\/lb-manager:9443\/.*client-truststore\.jks/.test(logs) &&
          health?.Status !== 'healthy' &&
          probe.status === 500
        );
      },
    },
  },
  {
    id: 'worker-ignores-subscription-events',
    because: /worker-1 still served a BLOCKED subscription/,
    pattern: 3,
    check: checkById('policies-propagate'),
    description:
      'worker-1 drops subscription events (SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS): a subscription blocked on the manager stays served there',
    options: { faults: [compose({ 'worker-1': env({ SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS: 'true' }) })] },
  },
  {
    id: 'worker-keeps-removed-subscriptions',
    because: /still served to an application \d+ s after its subscription was removed \(worker-1:/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description:
      'worker-1 drops subscription events (SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS): an application unsubscribed on the manager is still served there',
    options: { faults: [compose({ 'worker-1': env({ SIM_FAULT_IGNORE_SUBSCRIPTION_EVENTS: 'true' }) })] },
  },
  {
    id: 'worker-ignores-throttle-decisions',
    because: /worker-2 still served past the subscription's quota[\s\S]*worker-2 still served past the application's quota/,
    pattern: 3,
    check: checkById('policies-propagate'),
    description:
      "worker-2 drops the traffic managers' throttle decisions (SIM_FAULT_IGNORE_THROTTLE_DECISIONS), as a gateway cut off from their topic: it serves an application past its subscription's quota, and another past its application policy's",
    options: { faults: [compose({ 'worker-2': env({ SIM_FAULT_IGNORE_THROTTLE_DECISIONS: 'true' }) })] },
  },
  {
    id: 'worker-keeps-removed-apis',
    because: /still served \d+ s after its undeploy \(worker-2:/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description:
      'worker-2 drops REMOVE_API_FROM_GATEWAY events (SIM_FAULT_IGNORE_REMOVE_EVENTS): an API undeployed or deleted on the manager stays served there',
    options: { faults: [compose({ 'worker-2': env({ SIM_FAULT_IGNORE_REMOVE_EVENTS: 'true' }) })] },
  },
  {
    id: 'worker-keeps-old-default-version',
    because: /never reached version 2\.0\.0, the new default, on worker-1:/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description:
      'worker-1 keeps the first default version it served on an unversioned context (SIM_FAULT_KEEP_DEFAULT_VERSION): a new default version deployed on the manager is served there on its own context only',
    options: { faults: [compose({ 'worker-1': env({ SIM_FAULT_KEEP_DEFAULT_VERSION: 'true' }) })] },
  },
  {
    id: 'worker-ignores-revocations',
    because: /worker-2 still served a revoked token/,
    pattern: 3,
    check: checkById('policies-propagate'),
    description:
      'worker-2 drops token revocation events (SIM_FAULT_IGNORE_REVOCATION_EVENTS): a token revoked at the manager is still served there',
    options: { faults: [compose({ 'worker-2': env({ SIM_FAULT_IGNORE_REVOCATION_EVENTS: 'true' }) })] },
  },
  {
    id: 'manager-with-stock-jwks-url',
    because: /never served by worker-1: .*\b500\b.*900900/,
    pattern: 3,
    check: checkById('artifacts-propagate'),
    description:
      "the managers without [oauth.endpoints] oauth2_jwks_url, as WSO2's own files leave them: gateways get a JWKS URL on https://localhost:<proxyPort>, and every API call on a worker answers 500 900900",
    options: { faults: [STOCK_JWKS_URL] },
    ownLab:
      "gateways take the key manager's JWKS URL from the managers at their own start (/internal/data/v1/keymanagers): recreated managers alone would not break the workers",
  },
  {
    id: 'manager-state-in-memory',
    because: /acknowledged writes lost|never reached a worker/,
    pattern: 2,
    check: checkById('managers-fail-over'),
    description: 'the managers keep APIs in memory, not in the database (SIM_FAULT_STATE_IN_MEMORY)',
    options: {
      faults: [
        compose({ 'manager-1': env({ SIM_FAULT_STATE_IN_MEMORY: 'true' }), 'manager-2': env({ SIM_FAULT_STATE_IN_MEMORY: 'true' }) }),
      ],
    },
  },
  {
    id: 'no-backup-server',
    because: /(RTO \d+(\.\d+)? ms .* above the bound|no request succeeded|requests failed)/,
    pattern: 2,
    check: checkById('managers-fail-over'),
    description: 'the balancer lists manager-1 only: manager-2 is not its backup',
    options: {
      faults: [
        model((lab) =>
          withBalancers(
            lab,
            lab.balancers.map((b) => ({
              ...b,
              upstreams: b.upstreams.map((u) => (u.name === 'managers' ? { ...u, servers: u.servers.filter((s) => !s.backup) } : u)),
            })),
          ),
        ),
      ],
    },
  },
  {
    // A stopped or killed manager refuses at once (its balancer fails over without a timeout): the
    // variants where only a timeout tells the balancer, a frozen or cut-off one, are judged.
    id: 'nginx-default-timeouts',
    because: /RTO \d+(\.\d+)? ms .* above the bound/,
    pattern: 2,
    check: failoverCheck(['pause', 'partition']),
    description: "the balancer with NGINX's default timeouts (60 s to connect, 60 s to read): a frozen or cut-off manager stalls requests",
    options: {
      faults: [
        model((lab) => ({
          ...lab,
          timeouts: { ...lab.timeouts, connectMs: 60_000, managerConnectMs: 60_000, managerReadSeconds: 60, workerReadSeconds: 60 },
        })),
      ],
    },
  },
  {
    id: 'manager-gives-up-on-database',
    because: /db-partition run 1 of 1: .*requests failed/,
    pattern: 2,
    check: failoverCheck(['db-partition']),
    description:
      "the managers' JDBC URLs carry socketTimeout=500: cut off the database, the active one answers 500s at once, which the balancer passes on instead of failing over",
    options: {
      faults: [
        files((dir) => {
          for (const m of ['manager-1', 'manager-2']) {
            const file = join(dir, 'nodes', m, 'repository', 'conf', 'deployment.toml');
            const text = readFileSync(file, 'utf8');
            const edited = text.replace(/(url = "jdbc:mysql:[^"]*)"/g, '$1&amp;socketTimeout=500"');
            if (edited === text) throw new Error(`${file} has no JDBC URL to edit`);
            writeFileSync(file, edited);
          }
        }),
      ],
    },
  },
  {
    id: 'worker-balancer-routed-to-managers',
    because: /took no share of the worker listener's traffic/,
    pattern: 3,
    check: checkById('workers-survive-worker-loss'),
    description: 'lb-worker sends API traffic to the managers instead of the workers',
    options: {
      faults: [
        model((lab) =>
          withBalancers(
            lab,
            lab.balancers.map((b) =>
              b.name !== 'lb-worker'
                ? b
                : {
                    ...b,
                    upstreams: b.upstreams.map((u) => ({ ...u, servers: managers(lab).map((m) => ({ node: m.name, backup: false })) })),
                  },
            ),
          ),
        ),
      ],
    },
  },
  // Losing a worker costs nothing only because the balancer sends the request it could not deliver
  // to the other worker (NGINX's proxy_next_upstream): without that retry, spreading traffic over
  // every worker is not enough.
  {
    id: 'worker-balancer-without-retry',
    pattern: 3,
    check: checkById('workers-survive-worker-loss'),
    because: /^stop: \d+ of \d+ requests failed \(bound 0\)/,
    description:
      'lb-worker with `proxy_next_upstream off`: a request sent to the worker that just stopped is not tried on the other one, and fails',
    options: {
      faults: [
        files((dir) =>
          editLabFile(join(dir, 'nginx', 'lb-worker.conf'), 'no proxy_next_upstream error timeout', (text) =>
            text.replace(/proxy_next_upstream error timeout;/g, 'proxy_next_upstream off;'),
          ),
        ),
      ],
    },
    // A compose lab's bind-mounted file; a stack's balancers read theirs from Swarm configs.
    targets: ['compose'],
  },
  // Every worker counts: on each pattern, a worker balancer that leaves worker-2 out of its rotation.
  ...([1, 2, 3] as const).map((pattern): SeededFault => ({
    id: `worker-left-out-p${pattern}`,
    pattern,
    check: checkById('workers-survive-worker-loss'),
    because: /worker-2 took no share of the worker listener's traffic/,
    description: `the worker balancer of pattern ${pattern} sends API traffic to worker-1 only (worker-2 left out of its upstreams)`,
    options: {
      faults: [
        model((lab) =>
          withBalancers(
            lab,
            lab.balancers.map((b) => ({
              ...b,
              upstreams: b.upstreams.map((u) =>
                u.name === 'managers' ? u : { ...u, servers: u.servers.filter((x) => x.node !== 'worker-2') },
              ),
            })),
          ),
        ),
      ],
    },
  })),
  {
    id: 'ack-before-commit',
    because: /writes acknowledged around the restart are gone/,
    pattern: 3,
    check: checkById('database-restart'),
    description: 'the managers answer 201 for a new API before the database stored it (SIM_FAULT_ACK_BEFORE_COMMIT)',
    options: {
      faults: [
        compose({ 'manager-1': env({ SIM_FAULT_ACK_BEFORE_COMMIT: 'true' }), 'manager-2': env({ SIM_FAULT_ACK_BEFORE_COMMIT: 'true' }) }),
      ],
    },
  },
  {
    id: 'balancer-upstreams-by-name',
    because: /lb-worker restarted with .* its worker listener never served again/,
    pattern: 3,
    check: checkById('balancers-restart'),
    description:
      "lb-worker's upstream servers changed to names (worker-1:8243) on the running lab: NGINX will not start again while a worker is down",
    options: {
      faults: [
        {
          kind: 'live',
          apply: async (lab) => {
            const file = join(lab.dir, 'nginx', 'lb-worker.conf');
            const text = readFileSync(file, 'utf8');
            const named = text.replace(/server [\d.]+:(\d+) (.*?); # (\S+)/g, 'server $3:$1 $2; # $3');
            if (named === text) throw new Error(`${file} has no addressed upstream servers`);
            writeFileSync(file, named);
          },
        },
      ],
    },
    // A compose lab's bind-mounted file; a stack's balancers name their nodes by design (next fault).
    targets: ['compose'],
  },
  {
    id: 'balancer-without-re-resolution',
    because: /lb-worker restarted with .* its worker listener never served again/,
    pattern: 3,
    check: checkById('balancers-restart'),
    description:
      "lb-worker of the running stack given plain upstream names (worker-1:8243) instead of its start script's tokens: NGINX resolves them once and will not start again while a worker has no task",
    options: {
      faults: [
        {
          kind: 'live',
          apply: async (lab) => {
            // As a user would change a stack's file in place: a new config, swapped into the service.
            const text = readFileSync(join(lab.dir, 'swarm', 'nginx', 'lb-worker.conf'), 'utf8');
            const named = text.replace(/\{\{addr:([a-z0-9-]+)\}\}/g, '$1').replace(/ \{\{down:[a-z0-9-]+\}\}/g, '');
            if (named === text) throw new Error('swarm/nginx/lb-worker.conf has no tokens');
            await lab.replaceConfig('lb-worker', balancerConfigSource('lb-worker'), BALANCER_CONF_TARGET, named);
          },
        },
      ],
    },
    targets: ['swarm'],
  },
  {
    id: 'manager-on-public',
    because: /reachable from public: https:\/\/(manager-1|10\.[\d.]+):9443/,
    pattern: 3,
    check: checkById('managers-unreachable-from-public'),
    description: 'manager-1 is attached to the public network',
    options: {
      faults: [
        model((lab) => ({
          ...lab,
          nodes: lab.nodes.map((n) =>
            n.name === 'manager-1' ? { ...n, attachments: [...n.attachments, { network: 'public', host: 11 }] } : n,
          ),
        })),
      ],
    },
  },
  {
    id: 'heavy-worker',
    because: /a worker is not lighter than a manager: worker-1/,
    pattern: 3,
    check: checkById('workers-lighter-than-managers'),
    description: 'worker-1 holds 256 MB it does not need (SIM_FAULT_MEMORY_BALLAST_MB)',
    options: { faults: [compose({ 'worker-1': env({ SIM_FAULT_MEMORY_BALLAST_MB: '256' }) })] },
  },
  {
    id: 'shared-balancer-in-pattern-3',
    because: /worker requests failed while lb was saturated|p99 .* while lb was saturated, above the bound/,
    pattern: 3,
    check: checkById('admin-load-isolation'),
    description: 'pattern 3 with one balancer for both sub-domains (admin and API traffic share it)',
    options: {
      faults: [
        model((lab) =>
          withBalancers(lab, [
            sharedBalancer(
              managers(lab).map((n) => n.name),
              workers(lab).map((n) => n.name),
              slotOf({ product: lab.product, named: lab.named }, 3),
            ),
          ]),
        ),
      ],
    },
  },
];
