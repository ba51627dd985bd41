import { readFileSync, writeFileSync } from 'fs';
import { NAMED_SLOTS } from '../model/lab';
import { buildLab } from '../patterns';
import { WORKER_COUNTS } from '../patterns/scale';
import { sim } from '../products/sim';

/** An inclusive range of ports. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/**
 * Every host port a lab of any slot can publish (pattern 3 at its largest: two managers, five
 * workers, both balancers), as ranges. Slots from 13 up (ports from 33000) lie in Linux's
 * ephemeral range (32768-60999): an outgoing connection of this machine may take one as its local
 * port, and Docker then cannot bind it (seen in `make test`, the same port held past three tries).
 */
export function labPortRanges(lastSlot: number = NAMED_SLOTS.last): PortRange[] {
  const ports: number[] = [];
  for (let slot = 0; slot <= lastSlot; slot++) {
    const lab = buildLab(3, { product: sim, named: { name: 'ports', slot }, workers: WORKER_COUNTS.max, managers: 2 });
    for (const owner of [...lab.nodes, ...lab.balancers]) ports.push(...owner.published.map((p) => p.hostPort));
  }
  return mergeRanges(ports.map((p) => ({ first: p, last: p })));
}

/** Ranges sorted, overlapping or adjacent ones joined. */
export function mergeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  const out: { first: number; last: number }[] = [];
  for (const r of sorted) {
    const top = out[out.length - 1];
    if (top && r.first <= top.last + 1) top.last = Math.max(top.last, r.last);
    else out.push({ ...r });
  }
  return out;
}

/** `ip_local_reserved_ports`' form: `8080,40098-40099` (empty: none). */
export function parsePortList(text: string): PortRange[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(s);
      if (!m) throw new Error(`not a port or a range of ports: "${s}"`);
      return { first: Number(m[1]), last: Number(m[2] ?? m[1]) };
    });
}

export const formatPortList = (ranges: readonly PortRange[]): string =>
  ranges.map((r) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`)).join(',');

/** The ranges of `ranges` that meet `within`, cut to it. */
export const clip = (ranges: readonly PortRange[], within: PortRange): PortRange[] =>
  ranges
    .filter((r) => r.last >= within.first && r.first <= within.last)
    .map((r) => ({ first: Math.max(r.first, within.first), last: Math.min(r.last, within.last) }));

const count = (ranges: readonly PortRange[]): number => ranges.reduce((n, r) => n + r.last - r.first + 1, 0);

export const RESERVED_PORTS = '/proc/sys/net/ipv4/ip_local_reserved_ports';
export const EPHEMERAL_PORTS = '/proc/sys/net/ipv4/ip_local_port_range';

export interface Reservation {
  /** The labs' ports the kernel could hand out as local ports before, now reserved. */
  readonly added: number;
  /** The value written (or that would be). */
  readonly value: string;
}

/**
 * Keeps the labs' host ports out of the kernel's choice of local ports (`ip_local_reserved_ports`,
 * which leaves explicit binds such as Docker's alone): the labs' ports inside the ephemeral range
 * are added to what is reserved already, nothing is taken away. Writing needs root; `dryRun` only
 * says what would be written.
 */
export function reserveLabPorts(options: { dryRun?: boolean; reserved?: string; ephemeral?: string } = {}): Reservation {
  const reservedFile = options.reserved ?? RESERVED_PORTS;
  const [low, high] = readFileSync(options.ephemeral ?? EPHEMERAL_PORTS, 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);
  const before = parsePortList(readFileSync(reservedFile, 'utf8').trim());
  const after = mergeRanges([...before, ...clip(labPortRanges(), { first: low, last: high })]);
  const added = count(after) - count(mergeRanges(before));
  const value = formatPortList(after);
  if (added > 0 && !options.dryRun) writeFileSync(reservedFile, value);
  return { added, value };
}
