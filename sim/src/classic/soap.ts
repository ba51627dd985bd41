import { DOMParser } from '@xmldom/xmldom';
import type { Element } from '@xmldom/xmldom';

/** SOAP as the classic product's admin services speak it: the call in a body, text fields by local name. */

/** The SOAP body's operation and its parameters' text, by local name (a repeated one: every value). */
export function soapCall(raw: string): { operation: string; params: Record<string, string>; lists: Record<string, string[]> } | undefined {
  const doc = new DOMParser({ onError: () => undefined }).parseFromString(raw, 'text/xml');
  const body = doc.documentElement && (Array.from(doc.documentElement.getElementsByTagNameNS('*', 'Body')) as Element[])[0];
  let op: Element | undefined;
  for (let c = body?.firstChild; c; c = c.nextSibling) if (c.nodeType === c.ELEMENT_NODE) { op = c as Element; break; }
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
  return new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:[\\w-]+:)?${name}>`).exec(xml)?.[1].replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]);
}

export const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Text or an attribute value, escaped. */
export const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
