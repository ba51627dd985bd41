import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { spawnSync } from 'child_process';
import { openSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';
import { addressOf } from '../../generator/model/lab';
import { PROJECT_ROOT } from '../../generator/paths';
import { renderLab } from '../../generator/render';
import { synthLab } from '../../generator/synth/writer';
import { ALL_LABS, SCALED_LABS, tempDir } from '../support/labs';

const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { timeout: 20000 }).status === 0;
const dockerCompose = has('docker', ['compose', 'version']);
const nginx = has('nginx', ['-v']);
const netns = process.getuid?.() === 0 && has('unshare', ['--net', 'true']) && has('ip', ['-V']);

/** A tool that is absent is a visible skip outside CI, and a failure in CI (.ci/run installs it). */
function withTool(name: string, present: boolean): jest.It {
  if (present) return test;
  if (process.env.CI) throw new Error(`CI needs ${name} for the real-tool checks (.ci/run installs it)`);
  process.stdout.write(`SKIPPED real-tool check: ${name} is not installed here\n`);
  return test.skip;
}

/** Every committed lab, and labs at the edges of their pattern's scale. */
const LABS = [...ALL_LABS.map(({ product, pattern, lab }) => ({ label: `${product.id} pattern ${pattern}`, lab })), ...SCALED_LABS];

describe('generated labs pass the real tools', () => {
  const schema = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules/docker-compose/schema/compose-spec.json'), 'utf8'));
  // The schema names draft-07 by an https URL ajv does not know; ajv's default meta-schema is draft-07.
  delete schema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validateCompose = ajv.compile(schema);

  test.each(LABS)('$label compose file validates against the compose-spec JSON schema', ({ lab }) => {
    const compose = YAML.parse(renderLab(lab).find((f) => f.path === 'docker-compose.yml')!.content);
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
    const dir = tempDir();
    const key = join(dir, 'lab.key');
    const crt = join(dir, 'lab.crt');
    expect(
      spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=t', '-keyout', key, '-out', crt])
        .status,
    ).toBe(0);
    for (const balancer of lab.balancers) {
      const conf = join(dir, `${balancer.name}.conf`);
      const text = renderLab(lab).find((f) => f.path === `nginx/${balancer.name}.conf`)!.content;
      writeFileSync(conf, text.replaceAll('/etc/nginx/certs/', `${dir}/`));
      // nginx -t binds its listeners: give it the balancer's own addresses in a private netns.
      const addresses = balancer.attachments.map((a) => addressOf(lab, balancer.name, a.network));
      const script = ['ip link set lo up', ...addresses.map((a) => `ip addr add ${a}/32 dev lo`), `nginx -t -c ${conf} -p ${dir}`].join(
        ' && ',
      );
      // stdout must be a file: the config logs to /dev/stdout, which cannot be opened on a socket.
      const r = spawnSync('unshare', ['--net', 'sh', '-c', script], {
        encoding: 'utf8',
        stdio: ['ignore', openSync('/dev/null', 'w'), 'pipe'],
      });
      expect({ balancer: balancer.name, status: r.status, stderr: r.stderr }).toEqual({
        balancer: balancer.name,
        status: 0,
        stderr: expect.stringContaining('test is successful'),
      });
    }
  });
});
