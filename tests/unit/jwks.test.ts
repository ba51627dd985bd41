import { spawnSync } from 'child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'fs';
import type { Server } from 'https';
import type { AddressInfo } from 'net';
import { join } from 'path';
import { portalPort } from '../../generator/model/lab';
import { renderLab } from '../../generator/render';
import type { NodeConfig } from '../../sim/src/config';
import { loadConfig } from '../../sim/src/config';
import { discoveryDocument, discoveryUrlOf, residentKeyManager } from '../../sim/src/control-plane/resident-key-manager';
import type { Handler, Res } from '../../sim/src/http';
import { json, listen } from '../../sim/src/http';
import type { KeyManagerDto } from '../../sim/src/key-managers';
import { KeyManagerHolder } from '../../sim/src/key-managers';
import type { TokenClaims } from '../../sim/src/tokens';
import { keyIdOf, parseJwt, signedBy, TokenIssuer } from '../../sim/src/tokens';
import { TrustStore } from '../../sim/src/trust';
import { tempDir, TOML_LABS } from '../support/labs';
import { describeWithTool } from '../support/tools';

/** A product home holding this deployment.toml, as the entrypoint's overlay leaves it. */
function homeWith(toml: string): string {
  const dir = tempDir('carbon-labs-home-');
  mkdirSync(join(dir, 'repository', 'conf'), { recursive: true });
  writeFileSync(join(dir, 'repository', 'conf', 'deployment.toml'), toml);
  return dir;
}

const MANAGER_TOML = 'nodes/manager-1/repository/conf/deployment.toml';

/** The shared database every node's file names (the stand-in refuses a file without it). */
const SHARED_DB =
  '[database.shared_db]\ntype = "mysql"\nurl = "jdbc:mysql://db:3306/WSO2_SHARED_DB"\nusername = "wso2carbon"\npassword = "wso2carbon"\n';

/** A generated manager's deployment.toml without the two keys of the fix: the product's defaults then apply. */
const withoutFix = (toml: string) =>
  toml
    .replace(/\[apim\.key_manager\]\nservice_url = "[^"]+"\nusername = "[^"]+"\npassword = "[^"]+"\n/, '')
    .replace(/\[oauth\.endpoints\]\noauth2_jwks_url = "[^"]+"\n/, '');

describe("the Resident Key Manager's URLs, as a control plane derives them from its deployment.toml", () => {
  test.each(TOML_LABS.map((l) => [`${l.product.id} pattern ${l.pattern}`, l] as const))(
    "%s: through the managers' balancer; without the fix, on localhost",
    (_, { lab }) => {
      const toml = renderLab(lab).find((f) => f.path === MANAGER_TOML)!.content;
      const fixed = loadConfig(homeWith(toml), 'control-plane', {});
      expect({
        serviceUrl: fixed.keyManagerServiceUrl,
        discovery: discoveryUrlOf(fixed.keyManagerServiceUrl),
        jwks: fixed.jwksUrl,
      }).toEqual({
        serviceUrl: 'https://lb-manager:9443/services/',
        discovery: 'https://lb-manager:9443/oauth2/token/.well-known/openid-configuration',
        jwks: 'https://lb-manager:9443/oauth2/jwks',
      });
      const stock = withoutFix(toml);
      expect(stock).not.toMatch(/^\[apim\.key_manager\]$|^oauth2_jwks_url =/m);
      const unfixed = loadConfig(homeWith(stock), 'control-plane', {});
      // The manager discovers itself on 9443; the JWKS URL is built on hostname and proxyPort, which
      // only the host reaches (docs/real-product.md, "JWKS").
      expect({ discovery: discoveryUrlOf(unfixed.keyManagerServiceUrl), jwks: unfixed.jwksUrl }).toEqual({
        discovery: 'https://localhost:9443/oauth2/token/.well-known/openid-configuration',
        jwks: `https://localhost:${portalPort(lab)}/oauth2/jwks`,
      });
    },
  );

  test("a blank oauth2_jwks_url is none; with no proxyPort the port is the servlet's, 9443", () => {
    const config = loadConfig(
      homeWith(`[server]\nhostname = "cp.example"\n[oauth.endpoints]\noauth2_jwks_url = ""\n${SHARED_DB}`),
      'control-plane',
      {},
    );
    expect({ origin: config.publicOrigin, jwks: config.jwksUrl }).toEqual({
      origin: 'https://cp.example:9443',
      jwks: 'https://cp.example:9443/oauth2/jwks',
    });
  });
});

/** Real openssl and keytool: keys and certificates as an image has them, and a JKS truststore. */
const tools = ['openssl', 'keytool'].filter((t) => spawnSync(t, t === 'openssl' ? ['version'] : ['-help']).status !== 0);
const describeTools = describeWithTool(
  !tools.length,
  `the JWKS tests (${tools.join(', ')})`,
  'apt-get install openssl openjdk-17-jdk-headless',
);

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** A key and self-signed certificate made as images/apim-sim's Dockerfile makes the image's own. */
function keyPair(dir: string, name: string): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.crt`);
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost/O=WSO2/C=US',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

const issuerOf = (pair: { key: string; cert: string }, issuer: string) =>
  new TokenIssuer(createPrivateKey(pair.key), new X509Certificate(pair.cert), issuer);

/** An HTTPS server on a free port of this machine, and its origin. */
async function serve(handler: Handler, tls: { key: string; cert: string }): Promise<{ origin: string; server: Server }> {
  const server = (await listen(handler, 0, tls)) as Server;
  return { origin: `https://localhost:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: Server) =>
  new Promise<void>((done) => {
    server.closeAllConnections();
    server.close(() => done());
  });

/** A port nothing listens on: one a server had, closed. */
async function closedPort(tls: { key: string; cert: string }): Promise<number> {
  const { server } = await serve(async () => json(404), tls);
  const port = (server.address() as AddressInfo).port;
  await close(server);
  return port;
}

/** What `fn` returns, with the stand-in's log lines kept out of the test's output: its ERROR lines. */
async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; errors: string[] }> {
  const errors: string[] = [];
  const out = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = jest.spyOn(console, 'error').mockImplementation((line: string) => {
    errors.push(line);
  });
  try {
    return { value: await fn(), errors };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** `<status> <code>` of a gateway's refusal, or `admitted`. */
const outcome = (result: TokenClaims | Res) =>
  'status' in result ? `${result.status} ${(result.body as { code: string }).code}` : 'admitted';

/** The Resident Key Manager as a gateway receives it, with this issuer and JWKS URL. */
const residentKm = (issuer: string, jwksUrl: string): KeyManagerDto => ({
  uuid: 'km-1',
  name: 'Resident Key Manager',
  type: 'default',
  enabled: true,
  organization: 'carbon.super',
  tokenType: 'DIRECT',
  additionalProperties: { issuer, certificate_type: 'JWKS', certificate_value: jwksUrl, self_validate_jwt: true },
});

const CLAIMS = { sub: 'admin', azp: 'client', scope: 'default', application: { uuid: 'app-1', name: 'App' }, keytype: 'PRODUCTION' };
const ISSUER = 'https://localhost:28443/oauth2/token';

describeTools("tokens signed with the image's key and checked through a JWKS over real HTTPS", () => {
  const dir = tempDir('carbon-labs-jwks-');
  const image = keyPair(dir, 'image');
  const foreign = keyPair(dir, 'foreign');
  const untrusted = keyPair(dir, 'untrusted');
  const truststoreFile = join(dir, 'client-truststore.jks');
  // The image's stock truststore trusts its own certificate (images/apim-sim/Dockerfile).
  run('keytool', [
    '-importcert',
    '-noprompt',
    '-storetype',
    'JKS',
    '-alias',
    'wso2carbon',
    '-storepass',
    'wso2carbon',
    '-file',
    image.certFile,
    '-keystore',
    truststoreFile,
  ]);
  const trust = new TrustStore(truststoreFile, 'wso2carbon');
  const tokens = issuerOf(image, ISSUER);
  const servers: Server[] = [];
  afterAll(async () => {
    for (const s of servers) await close(s);
    trust.agent.destroy();
  });

  /** A control plane's JWKS on a real HTTPS server, counting its fetches. */
  async function jwksServer(
    answer: () => Res = () => json(200, tokens.jwks()),
    tls = image,
  ): Promise<{ url: string; fetches: () => number }> {
    let fetches = 0;
    const { origin, server } = await serve(async (req) => {
      fetches++;
      return req.path === '/oauth2/jwks' ? answer() : json(404);
    }, tls);
    servers.push(server);
    return { url: `${origin}/oauth2/jwks`, fetches: () => fetches };
  }

  /** What a gateway answers, and the ERROR lines it logged meanwhile. */
  async function authenticate(
    holder: KeyManagerHolder,
    token: string | undefined,
  ): Promise<{ result: TokenClaims | Res; errors: string[] }> {
    const { value, errors } = await quietly(() => holder.authenticate(token));
    return { result: value, errors };
  }

  /** A gateway that pulled a Resident Key Manager with this issuer and JWKS URL. */
  async function gateway(jwksUrl: string, issuer = ISSUER): Promise<KeyManagerHolder> {
    return gatewayOf(residentKm(issuer, jwksUrl));
  }

  async function gatewayOf(km: KeyManagerDto): Promise<KeyManagerHolder> {
    const holder = new KeyManagerHolder(trust);
    await quietly(async () => holder.load([km]));
    return holder;
  }

  test('the kid is base64url of the hex SHA-256 thumbprint of the certificate, then _RS256 (as openssl computes it)', () => {
    const der = spawnSync('openssl', ['x509', '-in', image.certFile, '-outform', 'DER']).stdout;
    const hex = createHash('sha256').update(der).digest('hex');
    expect(keyIdOf(new X509Certificate(image.cert))).toBe(`${Buffer.from(hex).toString('base64url')}_RS256`);
    expect(tokens.kid).toBe(keyIdOf(new X509Certificate(image.cert)));
  });

  test('an RS256 token names its key by kid; the JWKS publishes that key, which verifies it', () => {
    const { token, claims } = tokens.issue(CLAIMS, 60);
    const jwt = parseJwt(token)!;
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: tokens.kid });
    expect(claims).toMatchObject({ ...CLAIMS, iss: ISSUER });
    const [key] = tokens.jwks().keys;
    expect(key).toMatchObject({ kty: 'RSA', kid: tokens.kid, alg: 'RS256', use: 'sig', e: 'AQAB' });
    expect(new X509Certificate(Buffer.from(key.x5c[0], 'base64')).fingerprint256).toBe(new X509Certificate(image.cert).fingerprint256);
    expect(signedBy(jwt, createPublicKey({ key: { kty: 'RSA', n: key.n, e: key.e }, format: 'jwk' }))).toBe(true);
    // The control plane checks calls to its own REST APIs with its own key.
    expect(tokens.verify(token)).toMatchObject({ sub: 'admin', iss: ISSUER });
  });

  test('a control plane refuses a token of another key, a tampered one and an expired one', () => {
    expect(tokens.verify(issuerOf(foreign, ISSUER).issue(CLAIMS, 60).token)).toBeUndefined();
    const [h, , sig] = tokens.issue(CLAIMS, 60).token.split('.');
    expect(
      tokens.verify(`${h}.${Buffer.from(JSON.stringify({ ...CLAIMS, sub: 'root', exp: 2e9 })).toString('base64url')}.${sig}`),
    ).toBeUndefined();
    expect(tokens.verify(tokens.issue(CLAIMS, -1).token)).toBeUndefined();
  });

  test('a gateway admits a token through the JWKS, which it fetches once and keeps', async () => {
    const jwks = await jwksServer();
    const holder = await gateway(jwks.url);
    for (let i = 0; i < 3; i++) {
      const { result } = await authenticate(holder, tokens.issue(CLAIMS, 60).token);
      expect(result).toMatchObject({ sub: 'admin', application: { uuid: 'app-1' } });
    }
    expect(jwks.fetches()).toBe(1);
  });

  test('a token signed with a foreign key: its unknown kid makes the gateway fetch the JWKS again, then 401 900901', async () => {
    const jwks = await jwksServer();
    const holder = await gateway(jwks.url);
    await authenticate(holder, tokens.issue(CLAIMS, 60).token);
    const { result } = await authenticate(holder, issuerOf(foreign, ISSUER).issue(CLAIMS, 60).token);
    expect(result).toMatchObject({
      status: 401,
      body: { code: '900901', message: 'Invalid Credentials' },
      headers: { 'www-authenticate': expect.stringContaining('error="invalid_token"') },
    });
    expect(jwks.fetches()).toBe(2);
  });

  test("a foreign key's signature under the right kid, an expired token, an unknown issuer: 401 900901; no token: 401 900902", async () => {
    const jwks = await jwksServer();
    const holder = await gateway(jwks.url);
    const forged = issuerOf(foreign, ISSUER).issue(CLAIMS, 60).token.split('.');
    const [, body, signature] = forged;
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: tokens.kid })).toString('base64url');
    const codes = async (token: string | undefined) => outcome((await authenticate(holder, token)).result);
    expect({
      forgedKid: await codes(`${header}.${body}.${signature}`),
      expired: await codes(tokens.issue(CLAIMS, -1).token),
      otherIssuer: await codes(issuerOf(image, 'https://elsewhere:9443/oauth2/token').issue(CLAIMS, 60).token),
      notAJwt: await codes('6f1e0c1a-opaque'),
      none: await codes(undefined),
    }).toEqual({ forgedKid: '401 900901', expired: '401 900901', otherIssuer: '401 900901', notAJwt: '401 900901', none: '401 900902' });
  });

  test("a JWKS URL nothing answers on (the stock localhost one): 500 900900 and the product's ERROR naming the URL, fetched again on the next call", async () => {
    const url = `https://localhost:${await closedPort(image)}/oauth2/jwks`;
    const holder = await gateway(url);
    const first = await authenticate(holder, tokens.issue(CLAIMS, 60).token);
    expect(first.result).toEqual(
      json(500, { code: '900900', message: 'Unclassified Authentication Failure', description: 'Unclassified Authentication Failure' }),
    );
    expect(first.errors.join('\n')).toMatch(
      new RegExp(`ERROR {JWTValidatorImpl} - Error while connecting to JWKS endpoint ${url.replace(/[.]/g, '\\.')} .*ECONNREFUSED`),
    );
    expect((await authenticate(holder, tokens.issue(CLAIMS, 60).token)).errors).toHaveLength(1);
  });

  test('a JWKS endpoint that answers 404, or one whose certificate the truststore lacks: 500 900900', async () => {
    const missing = await jwksServer(() => json(404, { code: '404' }));
    const notFound = await authenticate(await gateway(missing.url), tokens.issue(CLAIMS, 60).token);
    expect({ outcome: outcome(notFound.result), log: notFound.errors.join('') }).toEqual({
      outcome: '500 900900',
      log: expect.stringContaining(`Invalid JWKS endpoint. ${missing.url} answered 404`),
    });
    const untrustedJwks = await jwksServer(undefined, untrusted);
    const pkix = await authenticate(await gateway(untrustedJwks.url), tokens.issue(CLAIMS, 60).token);
    expect({ outcome: outcome(pkix.result), log: pkix.errors.join('') }).toEqual({
      outcome: '500 900900',
      log: expect.stringContaining('PKIX path building failed'),
    });
    expect(untrustedJwks.fetches()).toBe(0);
  });

  describe('a control plane builds the Resident Key Manager from a real HTTPS discovery of its own service_url', () => {
    const keyManagers = { residentUuid: async () => 'resident-uuid' };

    /** A control plane's config whose service_url and JWKS URL are on this machine's servers. */
    function controlPlaneConfig(serviceOrigin: string, jwksUrl?: string, proxyPort = 28443): NodeConfig {
      return loadConfig(
        homeWith(
          `[server]\nhostname = "localhost"\n${SHARED_DB}[transport.https.properties]\nproxyPort = ${proxyPort}\n[apim.key_manager]\nservice_url = "${serviceOrigin}/services/"\n${jwksUrl ? `[oauth.endpoints]\noauth2_jwks_url = "${jwksUrl}"\n` : ''}`,
        ),
        'control-plane',
        {},
      );
    }

    /**
     * A control plane's discovery and JWKS on a real HTTPS server, as it serves them, and its
     * config, made from the server's origin.
     */
    async function controlPlane(configAt: (origin: string) => NodeConfig): Promise<{ origin: string; config: NodeConfig }> {
      const node: { config?: NodeConfig } = {};
      const { origin, server } = await serve(async (req) => {
        if (req.path === '/oauth2/token/.well-known/openid-configuration') return json(200, discoveryDocument(node.config!, tokens));
        return req.path === '/oauth2/jwks' ? json(200, tokens.jwks()) : json(404);
      }, image);
      servers.push(server);
      node.config = configAt(origin);
      return { origin, config: node.config };
    }

    test("with oauth2_jwks_url set: certificate_value is it, and a gateway given that key manager admits the control plane's tokens", async () => {
      const { origin, config } = await controlPlane((o) => controlPlaneConfig(o, `${o}/oauth2/jwks`));
      const { value: km } = await quietly(() => residentKeyManager(config, trust, keyManagers));
      expect(km).toMatchObject({
        uuid: 'resident-uuid',
        name: 'Resident Key Manager',
        type: 'default',
        enabled: true,
        additionalProperties: {
          ServerURL: `${origin}/services/`,
          TokenURL: `${origin}/oauth2/token`,
          RevokeURL: `${origin}/oauth2/revoke`,
          issuer: 'https://localhost:28443/oauth2/token',
          certificate_type: 'JWKS',
          certificate_value: `${origin}/oauth2/jwks`,
          self_validate_jwt: true,
        },
      });
      expect((await authenticate(await gatewayOf(km), tokens.issue(CLAIMS, 60).token)).result).toMatchObject({ sub: 'admin' });
    });

    test('without it: the default on hostname and proxyPort, which a gateway cannot reach (500 900900)', async () => {
      // The manager listener's host port, on which nothing answers on a worker: here, a closed port.
      const proxyPort = await closedPort(image);
      const { config } = await controlPlane((o) => controlPlaneConfig(o, undefined, proxyPort));
      const { value: km } = await quietly(() => residentKeyManager(config, trust, keyManagers));
      expect(km.additionalProperties.certificate_value).toBe(`https://localhost:${proxyPort}/oauth2/jwks`);
      const { result, errors } = await authenticate(await gatewayOf(km), tokens.issue(CLAIMS, 60).token);
      expect(outcome(result)).toBe('500 900900');
      expect(errors.join('')).toContain(`Error while connecting to JWKS endpoint https://localhost:${proxyPort}/oauth2/jwks`);
    });

    test('a discovery that fails is an error, not a key manager without a JWKS', async () => {
      const config = controlPlaneConfig(`https://localhost:${await closedPort(image)}`);
      await expect(quietly(() => residentKeyManager(config, trust, keyManagers))).rejects.toThrow(
        /^Error in fetching Open ID configuration\. \(https:\/\/localhost:\d+\/oauth2\/token\/\.well-known\/openid-configuration: .*ECONNREFUSED/,
      );
    });
  });
});
