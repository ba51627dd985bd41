import { spawnSync } from 'child_process';
import { X509Certificate } from 'crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { join } from 'path';
import { LabError } from '../../generator/errors';
import { TRUST } from '../../generator/model/lab';
import { buildLab } from '../../generator/patterns';
import { sim } from '../../generator/products/sim';
import { ensureTrustChain } from '../../generator/runtime/trust';
import { tempDir } from '../support/labs';
import { describeWithTool } from '../support/tools';

/** Real openssl and keytool: the trust chain a lab gets at `up`, and the errors of a broken one. */
const tools = ['openssl', 'keytool'].filter((t) => spawnSync(t, t === 'openssl' ? ['version'] : ['-help']).status !== 0);
const describeTools = describeWithTool(
  !tools.length,
  `the trust-chain tests (${tools.join(', ')})`,
  'apt-get install openssl openjdk-17-jdk-headless',
);

const lab = buildLab(3, { product: sim });
const quiet = () => undefined;

function keytool(args: string[]): void {
  const r = spawnSync('keytool', [...args, '-storepass', TRUST.truststorePassword, '-noprompt'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keytool ${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** A truststore as the one-shot makes it (or not, without the CA). */
function truststore(dir: string, withLabCa: boolean): string {
  const file = join(dir, TRUST.truststore);
  keytool([
    '-genkeypair',
    '-alias',
    'wso2carbon',
    '-keyalg',
    'RSA',
    '-dname',
    'CN=localhost',
    '-storetype',
    'JKS',
    '-keystore',
    file,
    '-keypass',
    TRUST.truststorePassword,
  ]);
  if (withLabCa) keytool(['-importcert', '-alias', TRUST.caAlias, '-file', join(dir, TRUST.caCert), '-keystore', file]);
  return file;
}

async function failure(dir: string): Promise<LabError> {
  try {
    await ensureTrustChain(lab, dir, quiet);
  } catch (err) {
    if (err instanceof LabError) return err;
    throw err;
  }
  throw new Error('ensureTrustChain accepted a broken trust chain');
}

describeTools('the lab trust chain', () => {
  test('a new lab gets a CA (key outside the mounted folders) and a balancer certificate for every name', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const ca = new X509Certificate(readFileSync(join(dir, TRUST.caCert)));
    const cert = new X509Certificate(readFileSync(join(dir, TRUST.cert)));
    expect(ca.ca).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(['DNS:lb-manager', 'DNS:lb-worker', 'DNS:localhost', 'IP Address:127.0.0.1']);
    expect(existsSync(join(dir, TRUST.caKey))).toBe(true);
    expect(TRUST.caKey.startsWith(`${TRUST.certsDir}/`) || TRUST.caKey.startsWith(`${TRUST.truststoreDir}/`)).toBe(false);
    expect(statSync(join(dir, TRUST.caKey)).mode & 0o077).toBe(0);
  });

  test('patterns 1 and 2 name their shared balancer `lb` too', async () => {
    const dir = tempDir();
    await ensureTrustChain(buildLab(2, { product: sim }), dir, quiet);
    expect(new X509Certificate(readFileSync(join(dir, TRUST.cert))).subjectAltName).toContain('DNS:lb,');
  });

  test('a re-run keeps every file, a truststore holding the lab CA included', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const file = truststore(dir, true);
    const before = [TRUST.caCert, TRUST.cert, TRUST.key, TRUST.caKey, TRUST.truststore].map((f) =>
      readFileSync(join(dir, f)).toString('base64'),
    );
    await ensureTrustChain(lab, dir, quiet);
    expect(
      [TRUST.caCert, TRUST.cert, TRUST.key, TRUST.caKey, TRUST.truststore].map((f) => readFileSync(join(dir, f)).toString('base64')),
    ).toEqual(before);
    expect(existsSync(file)).toBe(true);
  });

  test('certs/ deleted while the truststore remains: an error naming the file and the fix, nothing written', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const file = truststore(dir, true);
    const kept = readFileSync(file);
    rmSync(join(dir, TRUST.certsDir), { recursive: true });
    const err = await failure(dir);
    expect(err.message).toContain(join(dir, TRUST.caCert));
    expect(err.message).toContain(file);
    expect(err.fix).toMatch(/restore .*ca\.crt.*rm -rf/);
    expect(existsSync(join(dir, TRUST.caCert))).toBe(false);
    expect(readFileSync(file).equals(kept)).toBe(true);
  });

  test('a truststore edited to lose the lab CA: an error naming it and the keytool import', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const file = truststore(dir, false);
    const err = await failure(dir);
    expect(err.message).toContain(`${file} does not hold the lab CA`);
    expect(err.fix).toContain(`keytool -importcert -noprompt -alias ${TRUST.caAlias}`);
  });

  test("a truststore that is not a JKS with the product's password: an error naming it", async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    writeFileSync(join(dir, TRUST.truststore), 'not a keystore');
    expect((await failure(dir)).message).toContain(`${join(dir, TRUST.truststore)} is not a JKS truststore`);
  });

  test('a balancer certificate not issued by the lab CA is refused', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=lb-manager',
      '-keyout',
      join(dir, TRUST.key),
      '-out',
      join(dir, TRUST.cert),
    ]);
    expect(r.status).toBe(0);
    expect((await failure(dir)).message).toContain('was not issued by the lab CA');
  });

  test('a deleted balancer certificate is issued again from the same CA', async () => {
    const dir = tempDir();
    await ensureTrustChain(lab, dir, quiet);
    const ca = readFileSync(join(dir, TRUST.caCert));
    rmSync(join(dir, TRUST.cert));
    rmSync(join(dir, TRUST.key));
    await ensureTrustChain(lab, dir, quiet);
    expect(readFileSync(join(dir, TRUST.caCert)).equals(ca)).toBe(true);
    expect(new X509Certificate(readFileSync(join(dir, TRUST.cert))).verify(new X509Certificate(ca).publicKey)).toBe(true);
  });
});
