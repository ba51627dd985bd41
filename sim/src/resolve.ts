import { Resolver } from 'dns';
import { isIP, LookupFunction } from 'net';

/**
 * Name lookups between lab nodes that never queue behind each other. Node's default lookup
 * (getaddrinfo) runs on four shared threads: a few lookups of a stopped node's name, which
 * Docker's DNS forwards outside and waits out, would stall every other connection of the
 * process — a JVM has no such shared queue. This one asks Docker's DNS directly (c-ares) with a
 * short timeout, so a gone node fails fast and the others are unaffected.
 */
const resolver = new Resolver({ timeout: 400, tries: 2 });

export const lookup: LookupFunction = (hostname, options, callback) => {
  const reply = (address: string) => {
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family: 4 }]);
    else callback(null, address, 4);
  };
  if (isIP(hostname)) {
    reply(hostname);
    return;
  }
  if (hostname === 'localhost') {
    reply('127.0.0.1');
    return;
  }
  resolver.resolve4(hostname, (err, addresses) => {
    if (err || !addresses.length) callback(err ?? Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
    else reply(addresses[0]);
  });
};
