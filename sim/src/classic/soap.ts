import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';
import type { Res } from '../http';
import { send } from '../outbound';
import type { TrustStore } from '../trust';

/** SOAP as the classic product's admin services speak it: the call in a body, text fields by local name. */

/** The SOAP body's operation and its parameters' text, by local name (a repeated one: every value). */
export function soapCall(raw: string): { operation: string; params: Record<string, string>; lists: Record<string, string[]> } | undefined {
  const doc = new DOMParser({ onError: () => undefined }).parseFromString(raw, 'text/xml');
  const body = doc.documentElement && (Array.from(doc.documentElement.getElementsByTagNameNS('*', 'Body')) as Element[])[0];
  let op: Element | undefined;
  for (let c = body?.firstChild; c; c = c.nextSibling)
    if (c.nodeType === c.ELEMENT_NODE) {
      op = c as Element;
      break;
    }
  if (!op) return undefined;
  const params: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  for (let c = op.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== c.ELEMENT_NODE) continue;
    const name = (c as Element).localName!;
    params[name] = c.textContent ?? '';
    (lists[name] ??= []).push(c.textContent ?? '');
  }
  return { operation: op.localName!, params, lists };
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The text of the first element with this local name, any prefix, its entities decoded. */
export function soapText(xml: string, name: string): string | undefined {
  return new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w-]+:)?${name}>`)
    .exec(xml)?.[1]
    .replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]);
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Text or an attribute value, escaped. */
export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * One SOAP call of a node to an admin service at `serverUrl` (`https://host:9443/services/`), as
 * Carbon's admin clients make it: Basic auth, the operation in the `xsd` namespace `ns`. The URL it
 * called, and the answer (`failure` when none came).
 */
export async function adminCall(
  serverUrl: string,
  auth: { user: string; password: string },
  trust: TrustStore,
  call: { service: string; operation: string; ns: string; params: string },
): Promise<{ url: string; res: Res & { failure?: string } }> {
  const url = `${serverUrl.replace(/\/?$/, '/')}${call.service}`;
  const body = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="${call.ns}"><soapenv:Body><xsd:${call.operation}>${call.params}</xsd:${call.operation}></soapenv:Body></soapenv:Envelope>`;
  const res = await send(
    url,
    {
      method: 'POST',
      headers: {
        authorization: basic(auth.user, auth.password),
        'content-type': 'text/xml; charset=UTF-8',
        soapaction: `urn:${call.operation}`,
      },
      rawBody: body,
    },
    10_000,
    trust,
  );
  return { url, res };
}
