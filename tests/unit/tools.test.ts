import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { spawnSync } from 'child_process';
import { existsSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { parse } from 'dotenv';
import YAML from 'yaml';
import { addressOf } from '../../generator/model/lab';
import { PROJECT_ROOT } from '../../generator/paths';
import { renderLab } from '../../generator/render';
import { synthLab } from '../../generator/synth/writer';
import { ALL_LABS, SCALED_LABS, tempDir } from '../support/labs';
import type { LabSpec } from '../../generator/model/lab';
import { SWARM_DIR } from '../../generator/model/swarm';
import { isClassic } from '../../generator/products/product';
import { interpolate } from '../../generator/runtime/swarm';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { timeout: 20000 }).status === 0;
const dockerCompose = has('docker', ['compose', 'version']);
const nginx = has('nginx', ['-v']);
const netns = process.getuid?.() === 0 && has('unshare', ['--net', 'true']) && has('ip', ['-V']);
/** The stream module (the swarm access proxy's): built in, or Debian's libnginx-mod-stream. */
const nginxStream =
  nginx &&
  (existsSync('/usr/share/nginx/modules-available/mod-stream.conf') ||
    /--with-stream(?!=dynamic)(\s|$)/.test(spawnSync('nginx', ['-V'], { encoding: 'utf8' }).stderr ?? ''));

/** A tool that is absent is a visible skip outside CI, and a failure in CI (.ci/run installs it). */
function withTool(name: string, present: boolean): jest.It {
  if (present) return test;
  if (process.env.CI) throw new Error(`CI needs ${name} for the real-tool checks (.ci/run installs it)`);
  process.stdout.write(`SKIPPED real-tool check: ${name} is not installed here\n`);
  return test.skip;
}

/** The compose-spec JSON schema (docker-compose npm's copy) as a validator. */
function composeSchema() {
  const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/docker-compose/schema/compose-spec.json'), 'utf8'));
  // The schema names draft-07 by an https URL ajv does not know; ajv's default meta-schema is draft-07.
  delete schema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** A lab's rendered files, rendered once per lab for every test of this file. */
const renderedFiles = new Map<LabSpec, ReturnType<typeof renderLab>>();
const rendered = (lab: LabSpec) => renderedFiles.get(lab) ?? renderedFiles.set(lab, renderLab(lab)).get(lab)!;
/** A rendered file's content. */
const fileOf = (lab: LabSpec, path: string) => rendered(lab).find((f) => f.path === path)!.content;

/** Every committed lab, and labs at the edges of their pattern's scale. */
const LABS = [...ALL_LABS.map(({ product, pattern, lab }) => ({ label: `${product.id} pattern ${pattern}`, lab })), ...SCALED_LABS];

describe('generated labs pass the real tools', () => {
  const validateCompose = composeSchema();

  test.each(LABS)('$label compose file validates against the compose-spec JSON schema', ({ lab }) => {
    const compose = YAML.parse(fileOf(lab, 'docker-compose.yml'));
    validateCompose(compose);
    expect(validateCompose.errors ?? []).toEqual([]);
  });

  withTool('docker compose', dockerCompose).each(LABS)('$label: docker compose config -q accepts it', ({ lab }) => {
    const dir = join(tempDir(), 'lab');
    synthLab(lab, dir);
    const r = spawnSync('docker', ['compose', 'config', '-q'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  withTool('nginx with unshare and ip (root)', nginx && netns).each(LABS)('$label: every NGINX config passes nginx -t', ({ lab }) => {
    const dir = withCertificate();
    for (const balancer of lab.balancers) {
      const text = fileOf(lab, `nginx/${balancer.name}.conf`);
      expectNginxAccepts(dir, balancer.name, text, balancerAddresses(lab, balancer.name));
    }
  });
});

/** A folder holding a throw-away lab.crt and lab.key, for the configurations' TLS listeners (made once: a key takes a moment). */
let certificateDir: string | undefined;
function withCertificate(): string {
  if (certificateDir) return certificateDir;
  const dir = tempDir();
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=t'];
  expect(spawnSync('openssl', [...args, '-keyout', join(dir, 'lab.key'), '-out', join(dir, 'lab.crt')]).status).toBe(0);
  return (certificateDir = dir);
}

/** A balancer's addresses on its networks (the compose lab's fixed ones; a swarm task's are any such). */
const balancerAddresses = (lab: LabSpec, balancer: string) =>
  lab.balancers.find((b) => b.name === balancer)!.attachments.map((a) => addressOf(lab, balancer, a.network));

const DEBIAN_NGINX_MODULES = '/usr/share/nginx/modules';

/** `nginx -t` of a configuration, in a network namespace of its own holding `addresses` (nginx -t binds its listeners). */
function expectNginxAccepts(dir: string, name: string, text: string, addresses: readonly string[]): void {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, text.replaceAll('/etc/nginx/certs/', `${dir}/`));
  // Debian's modules-enabled (the access proxy's stream module) load modules/… from the prefix.
  if (!existsSync(join(dir, 'modules')) && existsSync(DEBIAN_NGINX_MODULES)) symlinkSync(DEBIAN_NGINX_MODULES, join(dir, 'modules'));
  const script = ['ip link set lo up', ...addresses.map((a) => `ip addr add ${a}/32 dev lo`), `nginx -t -c ${conf} -p ${dir}`].join(' && ');
  // stdout must be a file: the config logs to /dev/stdout, which cannot be opened on a socket.
  const r = spawnSync('unshare', ['--net', 'sh', '-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'],
  });
  expect({ conf: name, status: r.status, stderr: r.stderr }).toEqual({
    conf: name,
    status: 0,
    stderr: expect.stringContaining('test is successful'),
  });
}

/**
 * A swarm balancer's configuration as its start script fills it (nginx/swarm-start.sh.ejs): each
 * service's task address (one loopback address per service here), `down` for a service with no
 * task, and the balancer's own address on a network.
 */
function fillSwarmTokens(
  text: string,
  fill: { addr: (service: string) => string; down: (service: string) => boolean; ip: (network: string) => string },
): string {
  return text.replace(/\{\{([a-z]*):([a-z0-9-]*)\}\}/g, (token, kind: string, name: string) => {
    if (kind === 'addr') return fill.addr(name);
    if (kind === 'down') return fill.down(name) ? 'down' : '';
    if (kind === 'ip') return fill.ip(name);
    throw new Error(`unknown token ${token}`);
  });
}

/** The labs that have a stack (the classic product runs on compose only). */
const STACK_LABS = LABS.filter(({ lab }) => rendered(lab).some((f) => f.path === `${SWARM_DIR}/docker-stack.yml`));

describe('generated swarm stacks pass the real tools', () => {
  const validateCompose = composeSchema();

  test('every product but the classic ones has a stack', () => {
    const ids = (labs: readonly { lab: LabSpec }[]) => [...new Set(labs.map(({ lab }) => lab.product.id))].sort();
    expect(ids(STACK_LABS)).toEqual(ids(LABS.filter(({ lab }) => !isClassic(lab.product))));
    expect(ids(STACK_LABS).length).toBeGreaterThan(0);
  });

  test.each(STACK_LABS)(
    '$label: docker-stack.yml and publish.yml, their variables filled as Docker fills them, validate against the compose-spec JSON schema',
    ({ lab }) => {
      for (const path of [`${SWARM_DIR}/docker-stack.yml`, `${SWARM_DIR}/publish.yml`]) {
        // Numbers (replicas, published ports) are variables with defaults: filled in, they are numbers again.
        const stack = YAML.parse(interpolate(fileOf(lab, path), parse(fileOf(lab, '.env'))));
        validateCompose(stack);
        expect({ path, errors: validateCompose.errors ?? [] }).toEqual({ path, errors: [] });
      }
    },
  );

  withTool('docker compose', dockerCompose).each(STACK_LABS)(
    '$label: docker compose config -q accepts the access proxy (swarm/access.yml)',
    ({ lab }) => {
      const dir = join(tempDir(), 'lab');
      synthLab(lab, dir);
      const r = spawnSync('docker', ['compose', '--env-file', join(dir, '.env'), '-f', 'access.yml', 'config', '-q'], {
        cwd: join(dir, SWARM_DIR),
        encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    },
  );

  withTool('nginx with unshare and ip (root)', nginx && netns).each(STACK_LABS)(
    '$label: every swarm balancer passes nginx -t with its tokens filled, every service up and every one down',
    ({ lab }) => {
      const dir = withCertificate();
      const services = [...lab.nodes.map((n) => n.name), 'db', 'backend'];
      const addr = (service: string) => `127.0.1.${1 + Math.max(0, services.indexOf(service))}`;
      for (const balancer of lab.balancers) {
        const text = fileOf(lab, `${SWARM_DIR}/nginx/${balancer.name}.conf`);
        const own = new Map(balancer.attachments.map((a) => [a.network as string, addressOf(lab, balancer.name, a.network)]));
        const ip = (network: string) => own.get(network) ?? `no address on ${network}`;
        expectNginxAccepts(dir, `${balancer.name}-up`, fillSwarmTokens(text, { addr, down: () => false, ip }), [...own.values()]);
        // No task anywhere: the start script's 127.0.0.1 and `down` for each.
        expectNginxAccepts(dir, `${balancer.name}-down`, fillSwarmTokens(text, { addr: () => '127.0.0.1', down: () => true, ip }), [
          ...own.values(),
        ]);
      }
    },
  );

  withTool('nginx with its stream module, unshare and ip (root)', nginx && netns && nginxStream).each(STACK_LABS)(
    "$label: the access proxy's NGINX configurations pass nginx -t",
    ({ lab }) => {
      const dir = withCertificate();
      const confs = rendered(lab).filter((f) => f.path.startsWith(`${SWARM_DIR}/access-`) && f.path.endsWith('.conf'));
      expect(confs.map((c) => c.path).sort()).toEqual([`${SWARM_DIR}/access-admin.conf`, `${SWARM_DIR}/access-public.conf`]);
      for (const conf of confs) {
        expectNginxAccepts(dir, conf.path.replace(/^.*\//, '').replace(/\.conf$/, ''), conf.content, []);
      }
    },
  );
});
