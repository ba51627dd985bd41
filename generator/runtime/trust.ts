import { createPrivateKey, X509Certificate } from 'crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { toPem } from 'jks-js';
import { LabError } from '../errors';
import type { LabSpec } from '../model/lab';
import { tlsNames, TRUST } from '../model/lab';
import { run } from './exec';
import type { Log } from './images';

/**
 * One trust chain per lab, made at `up`: a lab CA (key in `.pki/`, never mounted), the balancers'
 * certificate issued by it with every name nodes and users call them by, and — made by the
 * `truststore` one-shot on the product image with the product's own keytool — the image's
 * `client-truststore.jks` plus the lab CA, mounted into every node. Nothing the user made is
 * overwritten: a missing piece whose partners exist is an error that names the fix.
 */
export async function ensureTrustChain(lab: LabSpec, dir: string, log: Log): Promise<void> {
  const path = (p: string) => join(dir, p);
  const present = {
    caKey: existsSync(path(TRUST.caKey)),
    caCert: existsSync(path(TRUST.caCert)),
    cert: existsSync(path(TRUST.cert)),
    key: existsSync(path(TRUST.key)),
    truststore: existsSync(path(TRUST.truststore)),
  };
  const reset = `rm -rf ${path('.pki')} ${path(TRUST.certsDir)} ${path(TRUST.truststoreDir)}/*.jks  (a new chain is made at the next up)`;
  mkdirSync(path(TRUST.truststoreDir), { recursive: true });
  if (!Object.values(present).some(Boolean)) {
    await makeCa(lab, dir);
    await issueCertificate(lab, dir);
    log(
      `made the lab's trust chain: CA ${path(TRUST.caCert)} (key in ${path('.pki')}), certificate ${path(TRUST.cert)} for ${tlsNames(lab).dns.join(', ')}`,
    );
    return;
  }
  if (!present.caCert || !present.caKey) {
    const missing = !present.caCert ? path(TRUST.caCert) : path(TRUST.caKey);
    const kept = Object.entries(present)
      .filter(([, v]) => v)
      .map(([k]) => path(TRUST[k as keyof typeof present]));
    throw new LabError(
      `${missing} is missing, but ${kept.join(', ')} belong to this lab's trust chain (the nodes' truststore trusts that CA only)`,
      `restore ${missing}, or start a new chain: ${reset}`,
    );
  }
  const ca = readCertificate(path(TRUST.caCert));
  if (!ca.checkPrivateKey(createPrivateKey(readFileSync(path(TRUST.caKey))))) {
    throw new LabError(`${path(TRUST.caKey)} is not the key of ${path(TRUST.caCert)}`, `restore the pair, or start a new chain: ${reset}`);
  }
  if (!present.cert && !present.key) {
    await issueCertificate(lab, dir);
    log(`issued a new balancer certificate ${path(TRUST.cert)} from the lab CA`);
  } else {
    const cert = readCertificate(path(TRUST.cert));
    if (!present.key || !cert.checkPrivateKey(createPrivateKey(readFileSync(path(TRUST.key))))) {
      throw new LabError(
        `${path(TRUST.key)} is missing or is not the key of ${path(TRUST.cert)}`,
        `restore it, or remove both ${path(TRUST.cert)} and ${path(TRUST.key)} to have them issued again from the lab CA`,
      );
    }
    if (!cert.verify(ca.publicKey)) {
      throw new LabError(
        `${path(TRUST.cert)} was not issued by the lab CA ${path(TRUST.caCert)}: the nodes would refuse it (PKIX)`,
        `remove ${path(TRUST.cert)} and ${path(TRUST.key)} to have them issued from the lab CA, or start a new chain: ${reset}`,
      );
    }
  }
  if (present.truststore) assertTrusts(path(TRUST.truststore), ca);
}

/** The lab truststore must hold the lab CA; a truststore the user edited is checked, never replaced. */
export function assertTrusts(file: string, ca: X509Certificate): void {
  let entries: Record<string, { ca?: string; cert?: string }>;
  try {
    entries = toPem(readFileSync(file), TRUST.truststorePassword) as never;
  } catch (err) {
    throw new LabError(
      `${file} is not a JKS truststore readable with the product's password "${TRUST.truststorePassword}" (${(err as Error).message})`,
      `remove ${file} to have it made again from the product image's client-truststore.jks at the next up`,
    );
  }
  const trusted = Object.values(entries)
    .map((e) => e.ca ?? e.cert)
    .filter((pem): pem is string => !!pem);
  if (!trusted.some((pem) => new X509Certificate(pem).fingerprint256 === ca.fingerprint256)) {
    throw new LabError(
      `${file} does not hold the lab CA (${ca.subject.replace(/\n/g, ', ')}, SHA-256 ${ca.fingerprint256}): the gateways' calls to the manager listener would fail with a PKIX error`,
      `import it: keytool -importcert -noprompt -alias ${TRUST.caAlias} -file ${join(file, '..', '..', TRUST.caCert)} -keystore ${file} -storepass ${TRUST.truststorePassword}; or remove ${file} to have it made again at the next up`,
    );
  }
}

function readCertificate(file: string): X509Certificate {
  try {
    return new X509Certificate(readFileSync(file));
  } catch (err) {
    throw new LabError(
      `${file} is not a PEM certificate (${(err as Error).message})`,
      `restore it, or remove it to have it made again at the next up`,
    );
  }
}

async function openssl(args: string[]): Promise<void> {
  const result = await run('openssl', args, { timeoutMs: 60_000 });
  if (result.code !== 0) throw new LabError(`openssl ${args[0]} failed: ${result.stderr.trim()}`, 'apt-get install openssl');
}

async function makeCa(lab: LabSpec, dir: string): Promise<void> {
  mkdirSync(join(dir, '.pki'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, TRUST.certsDir), { recursive: true });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '825',
    '-sha256',
    '-subj',
    `/O=carbon-labs/CN=carbon-labs CA ${lab.project}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout',
    join(dir, TRUST.caKey),
    '-out',
    join(dir, TRUST.caCert),
  ]);
  chmodSync(join(dir, TRUST.caKey), 0o600);
}

async function issueCertificate(lab: LabSpec, dir: string): Promise<void> {
  const names = tlsNames(lab);
  const csr = join(dir, '.pki', 'lab.csr');
  const ext = join(dir, '.pki', 'lab.ext');
  writeFileSync(
    ext,
    [
      `subjectAltName=${[...names.dns.map((n) => `DNS:${n}`), ...names.ips.map((ip) => `IP:${ip}`)].join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await openssl([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-subj',
    `/O=carbon-labs/CN=${lab.managerEndpointHost}`,
    '-keyout',
    join(dir, TRUST.key),
    '-out',
    csr,
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, TRUST.caCert),
    '-CAkey',
    join(dir, TRUST.caKey),
    '-set_serial',
    `0x${Date.now().toString(16)}`,
    '-days',
    '825',
    '-sha256',
    '-extfile',
    ext,
    '-out',
    join(dir, TRUST.cert),
  ]);
  rmSync(csr, { force: true });
  rmSync(ext, { force: true });
  // NGINX's workers read the key as an unprivileged user in some images.
  chmodSync(join(dir, TRUST.key), 0o644);
}
