import { X509Certificate } from 'crypto';
import { readFileSync } from 'fs';
import { Agent } from 'https';
import { toPem } from 'jks-js';

/**
 * The node's `client-truststore.jks`, as the product's HTTP clients use it: every certificate in
 * it is a trust anchor, and — as `api-manager.sh` sets `-Dhttpclient.hostnameVerifier=AllowAll` —
 * a chain that verifies is accepted whatever host name was called.
 */
export class TrustStore {
  readonly anchors: readonly string[];
  readonly agent: Agent;

  constructor(
    readonly file: string,
    password: string,
  ) {
    const entries = toPem(readFileSync(file), password);
    this.anchors = Object.values(entries)
      .map((e) => e.ca ?? e.cert)
      .filter((pem): pem is string => !!pem);
    this.agent = new Agent({ ca: [...this.anchors], rejectUnauthorized: true, checkServerIdentity: () => undefined, keepAlive: true });
  }

  describe(): string {
    const subjects = this.anchors.map((pem) => new X509Certificate(pem).subject.split('\n').find((l) => l.startsWith('CN=')) ?? '?');
    return `${this.file} (${this.anchors.length} trusted: ${subjects.join('; ')})`;
  }

  /** How the product's JSSE says the same thing (SSLHandshakeException: PKIX path building failed). */
  explain(url: string, err: NodeJS.ErrnoException): string {
    const pkix = /CERT|SELF_SIGNED|UNABLE_TO|ISSUER|LEAF_SIGNATURE/.test(err.code ?? '');
    return pkix
      ? `javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path to requested target, calling ${url} (${err.code}; truststore ${this.describe()})`
      : `${err.message} calling ${url}`;
  }
}
