import { TRUST } from './lab';

/** A folder or volume a one-shot mounts: `source` relative to the lab's folder for a bind. */
export interface OneShotMount {
  readonly type: 'bind' | 'volume';
  readonly source: string;
  readonly target: string;
  readonly readOnly?: boolean;
}

/**
 * A service that runs once on the product image, as root, with no network, before the nodes
 * start: its shell script (plain shell: compose's renderer doubles each `$`) and its mounts.
 * Compose runs it as a service. A Swarm stack has no one-shots: its start runs the truststore's
 * script on this host with `docker run` first, and copies the product's SQL out of the image with
 * `docker cp` (the stack's database reads it as configs, not from the dbscripts volume).
 */
export interface OneShot {
  readonly script: string;
  readonly mounts: readonly OneShotMount[];
}

/** The product's own SQL, copied out of its image into a volume, so the schema always matches the product. */
export const DBSCRIPTS_ONE_SHOT: OneShot = {
  script: 'cp -R "${WSO2_SERVER_HOME}/dbscripts/." /dbscripts/',
  mounts: [{ type: 'volume', source: 'dbscripts', target: '/dbscripts' }],
};

/**
 * The product image's own client-truststore.jks plus the lab CA, made once with the product's
 * own keytool (no JDK needed on the host) and kept: a truststore the user extended is never
 * replaced. Exits non-zero when the kept file does not hold this lab's CA.
 */
export function truststoreOneShot(): OneShot {
  const out = `/carbon-labs/${TRUST.truststore}`;
  const ca = `/carbon-labs/${TRUST.caCert}`;
  // The managers' image: every node's image holds the same stock truststore and a keytool. Its home
  // as the image itself says (WSO2_SERVER_HOME), so an image built elsewhere (CARBON_LABS_*_IMAGE) works too.
  const stock = '${WSO2_SERVER_HOME}/repository/resources/security/client-truststore.jks';
  const pass = TRUST.truststorePassword;
  const script = [
    'set -e',
    `if [ ! -f ${out} ]; then`,
    `  cp ${stock} ${out}.tmp`,
    `  keytool -importcert -noprompt -trustcacerts -alias ${TRUST.caAlias} -file ${ca} -keystore ${out}.tmp -storepass ${pass}`,
    // Owned by whoever owns the lab folder, not root: the user can remove it to have it made again.
    `  chmod 644 ${out}.tmp && chown "$(stat -c %u:%g /carbon-labs/${TRUST.certsDir})" ${out}.tmp && mv ${out}.tmp ${out}`,
    `  echo "made ${TRUST.truststore}: ${stock} of the image plus the lab CA (alias ${TRUST.caAlias})"`,
    'fi',
    `want=$(keytool -printcert -file ${ca} | sed -n 's/^.*SHA256: //p')`,
    `if keytool -list -keystore ${out} -storepass ${pass} | grep -q "$want"; then echo "${TRUST.truststore} trusts the lab CA (SHA-256 $want)"; else`,
    `  echo "ERROR: ${TRUST.truststore} does not hold the lab CA ${TRUST.caCert} (SHA-256 $want): remove it to have it made again" >&2; exit 1; fi`,
  ].join('\n');
  return {
    script,
    mounts: [
      { type: 'bind', source: TRUST.certsDir, target: `/carbon-labs/${TRUST.certsDir}`, readOnly: true },
      { type: 'bind', source: TRUST.truststoreDir, target: `/carbon-labs/${TRUST.truststoreDir}` },
    ],
  };
}
