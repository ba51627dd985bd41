import { randomUUID } from 'crypto';
import type { Server, Socket } from 'net';
import { createConnection, createServer } from 'net';
import { log } from '../http';

/**
 * The membership of a classic Carbon cluster, as the stand-in models Hazelcast's (Carbon 4.4 runs
 * Hazelcast 3.5.4, which cannot be had here: docs/products.md). What it keeps of the product:
 * - the Hazelcast group is the clustering `domain` (HazelcastClusteringAgent: groupConfig name):
 *   a node of another domain is refused, and never joins;
 * - `wka`: a node joins through the well-known members it lists, and learns the others from them;
 * - each member carries its sub-domain (MemberUtils: `__$default` when none is set);
 * - Carbon's log lines: `Cluster domain: …`, `Using wka based membership management scheme`,
 *   `Local member: [uuid] - …`, `Member joined [uuid]: …`, `Member left [uuid]: …`, which the
 *   harness reads, as it would read the product's.
 * What it does not: the wire format (its own JSON lines on `localMemberPort`), and the pace of
 * failure detection: a closed connection is a member gone at once, a silent one after
 * {@link SILENT_MS} (Carbon sets `hazelcast.max.no.heartbeat.seconds` to 600).
 */

export interface Member {
  readonly uuid: string;
  readonly host: string;
  readonly port: number;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly domain: string;
  readonly subDomain: string;
}

type Message =
  | { readonly t: 'hello'; readonly member: Member }
  | { readonly t: 'welcome'; readonly member: Member; readonly members: readonly Member[] }
  | { readonly t: 'refuse'; readonly reason: string }
  | { readonly t: 'ping' }
  /** A cluster message (ClusteringMessage): delivered to every member of the domain. */
  | { readonly t: 'message'; readonly from: string; readonly message: ClusterMessage };

/**
 * The cluster messages the stand-in sends, as Carbon's (`ClusteringMessage` subclasses):
 * `ClusterCacheInvalidationRequest` removes cache entries on every other member (carbon-kernel
 * v4.4.35 `core/javax.cache/.../clustering/ClusterCacheInvalidationRequest.java`).
 */
export type ClusterMessage = { readonly type: 'ClusterCacheInvalidationRequest'; readonly cache: string; readonly keys: readonly string[] };

const RETRY_MS = 2000;
const PING_MS = 5000;
/** A member heard nothing from for this long is gone (the stand-in's own figure; Carbon's is 600 s). */
export const SILENT_MS = 30_000;

/** axis2's Member.toString, as Carbon logs the local member. */
export const describe = (m: Member) =>
  `Host:${m.host}, Remote Host:null, Port: ${m.port}, HTTP:${m.httpPort}, HTTPS:${m.httpsPort}, Domain: ${m.domain}, Sub-domain:${m.subDomain}, Active:true`;

export class Membership {
  readonly self: Member;
  /** Live members by uuid, with the connections that carry them. */
  private readonly members = new Map<string, { member: Member; sockets: Set<Socket> }>();
  private readonly addresses = new Set<string>();
  /** Addresses whose member refused this node (another group): asked again only after a while. */
  private readonly refused = new Map<string, number>();
  /** Addresses being dialled now, and the member each dialled address turned out to be. */
  private readonly connecting = new Set<string>();
  private readonly dialled = new Map<string, string>();
  /** Every open connection, whoever is at the other end (stop closes them all). */
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly listeners: ((message: ClusterMessage, from: Member) => void)[] = [];

  constructor(self: Omit<Member, 'uuid'>, wka: readonly { readonly host: string; readonly port: number }[]) {
    this.self = { ...self, uuid: randomUUID() };
    for (const a of wka) this.addresses.add(`${a.host}:${a.port}`);
    this.addresses.delete(this.ownAddress);
  }

  /** The members this node sees, itself included, sorted by host. */
  view(): Member[] {
    return [this.self, ...[...this.members.values()].map((e) => e.member)].sort((a, b) => a.host.localeCompare(b.host));
  }

  async start(): Promise<void> {
    log('INFO', 'HazelcastClusteringAgent', `Cluster domain: ${this.self.domain}`);
    log('INFO', 'HazelcastClusteringAgent', 'Using wka based membership management scheme');
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.self.port, '0.0.0.0', resolve);
    });
    log('INFO', 'HazelcastClusteringAgent', `Local member: [${this.self.uuid}] - ${describe(this.self)}`);
    const tick = () => {
      for (const address of this.addresses)
        if (!this.knows(address) && (this.refused.get(address) ?? 0) < Date.now()) this.connect(address);
    };
    tick();
    this.timer = setInterval(tick, RETRY_MS);
  }

  /** Runs `listener` on each cluster message another member sends. */
  onMessage(listener: (message: ClusterMessage, from: Member) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Sends a cluster message to every other member of the domain (Hazelcast's
   * `$clustering.message.topic`): members of another domain never get it, as they are never members.
   * Returns the members it was sent to.
   */
  broadcast(message: ClusterMessage): Member[] {
    const to: Member[] = [];
    for (const { member, sockets } of this.members.values()) {
      const socket = [...sockets].find((s) => !s.destroyed);
      if (!socket) continue;
      this.send(socket, { t: 'message', from: this.self.uuid, message });
      to.push(member);
    }
    return to;
  }

  /** Leaves without a word (a test's end; a node stops with its process). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.server?.close();
    for (const s of this.sockets) s.destroy();
  }

  private get ownAddress(): string {
    return `${this.self.host}:${this.self.port}`;
  }

  /** Whether an address is a member already, or being dialled: by what it announced, or what it was dialled as. */
  private knows(address: string): boolean {
    if (address === this.ownAddress || this.connecting.has(address)) return true;
    const uuid = this.dialled.get(address);
    return (
      (uuid !== undefined && this.members.has(uuid)) ||
      [...this.members.values()].some((e) => `${e.member.host}:${e.member.port}` === address)
    );
  }

  private connect(address: string): void {
    const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
    this.connecting.add(address);
    const socket = createConnection({ host, port, timeout: 3000 });
    socket.once('close', () => this.connecting.delete(address));
    socket.once('connect', () => {
      socket.setTimeout(0);
      this.send(socket, { t: 'hello', member: this.self });
    });
    socket.once('timeout', () => socket.destroy());
    socket.on('error', () => undefined);
    this.read(socket, address);
  }

  private serve(socket: Socket): void {
    socket.on('error', () => undefined);
    this.read(socket);
  }

  private send(socket: Socket, message: Message): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
  }

  private read(socket: Socket, address?: string): void {
    this.sockets.add(socket);
    let buffer = '';
    let heard = Date.now();
    let peer: string | undefined;
    const ping = setInterval(() => {
      if (Date.now() - heard > SILENT_MS) socket.destroy();
      else this.send(socket, { t: 'ping' });
    }, PING_MS);
    socket.on('data', (chunk) => {
      heard = Date.now();
      buffer += chunk.toString('utf8');
      for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        let message: Message;
        try {
          message = JSON.parse(line) as Message;
        } catch {
          socket.destroy();
          return;
        }
        if (!message || typeof message !== 'object') {
          socket.destroy();
          return;
        }
        if (message.t === 'refuse' && address) this.refused.set(address, Date.now() + SILENT_MS);
        peer = this.handle(socket, message) ?? peer;
        if (message.t === 'welcome' && address) {
          this.dialled.set(address, message.member.uuid);
          this.connecting.delete(address);
        }
      }
    });
    socket.on('close', () => {
      this.sockets.delete(socket);
      clearInterval(ping);
      if (peer) this.drop(peer, socket);
    });
  }

  /** One message on a connection; the uuid of the member it carries, once known. */
  private handle(socket: Socket, message: Message): string | undefined {
    if (message.t === 'hello') {
      const { member } = message;
      // Itself, dialled under another name: not a member.
      if (member.uuid === this.self.uuid) {
        socket.end();
        return undefined;
      }
      if (member.domain !== this.self.domain) {
        log(
          'WARN',
          'Node',
          `[${this.self.host}]:${this.self.port} [${this.self.domain}] a join request from ${member.host}:${member.port} of group ${member.domain} is refused: not this cluster's group`,
        );
        this.send(socket, { t: 'refuse', reason: `group ${this.self.domain}, not ${member.domain}` });
        socket.end();
        return undefined;
      }
      this.add(member, socket);
      this.send(socket, { t: 'welcome', member: this.self, members: this.view().filter((m) => m.uuid !== member.uuid) });
      return member.uuid;
    }
    if (message.t === 'welcome') {
      this.add(message.member, socket);
      // Members the well-known one has: this node connects to them as well.
      for (const m of message.members)
        if (m.uuid !== this.self.uuid && `${m.host}:${m.port}` !== this.ownAddress) this.addresses.add(`${m.host}:${m.port}`);
      return message.member.uuid;
    }
    if (message.t === 'message') {
      const from = this.members.get(message.from)?.member;
      // Only a member's messages count: a connection that never joined carries none.
      // A listener's error is the message's, not the connection's: logged, the node goes on.
      if (from)
        for (const listener of this.listeners) {
          try {
            listener(message.message, from);
          } catch (err) {
            log('ERROR', 'HazelcastClusteringAgent', `a cluster message from ${from.host} failed: ${(err as Error).message}`);
          }
        }
      return undefined;
    }
    if (message.t === 'refuse') {
      log(
        'WARN',
        'Node',
        `[${this.self.host}]:${this.self.port} [${this.self.domain}] join refused by ${socket.remoteAddress}: ${message.reason}`,
      );
      socket.end();
    }
    return undefined;
  }

  private add(member: Member, socket: Socket): void {
    const known = this.members.get(member.uuid);
    if (known) {
      known.sockets.add(socket);
      return;
    }
    this.members.set(member.uuid, { member, sockets: new Set([socket]) });
    log('INFO', 'WKABasedMembershipScheme', `Member joined [${member.uuid}]: /${member.host}:${member.port}`);
  }

  private drop(uuid: string, socket: Socket): void {
    const known = this.members.get(uuid);
    if (!known) return;
    known.sockets.delete(socket);
    if (known.sockets.size || this.stopped) return;
    this.members.delete(uuid);
    log('INFO', 'WKABasedMembershipScheme', `Member left [${uuid}]: /${known.member.host}:${known.member.port}`);
  }
}
