import { createConnection, createServer, Server, Socket } from 'net';
import { log, sleep } from './http';

/**
 * The event hub on 5672. The product speaks JMS there; the stand-in speaks JSON lines over TCP,
 * with the same roles: gateways subscribe, control planes publish and duplicate to their peers.
 */
export interface HubEvent {
  readonly type: 'DEPLOY_API_IN_GATEWAY' | 'REMOVE_API_FROM_GATEWAY' | 'SUBSCRIPTIONS_CREATE';
  readonly eventId: string;
  readonly apiId: string;
  /** SUBSCRIPTIONS_CREATE: the subscribing application. */
  readonly applicationId?: string;
  readonly labels: readonly string[];
  readonly origin: string;
  /** Set on the copy a control plane sends to `event_duplicate_url`; a peer does not forward it again. */
  readonly duplicated?: boolean;
}

type Message = { type: 'subscribe'; node: string } | { type: 'publish'; event: HubEvent } | { type: 'event'; event: HubEvent };

function lines(socket: Socket, onMessage: (m: Message) => void): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (line.trim()) onMessage(JSON.parse(line) as Message);
    }
  });
}

const write = (socket: Socket, m: Message) => socket.write(`${JSON.stringify(m)}\n`);

/** A control plane's hub: fans events out to subscribed gateways and duplicates them to peers. */
export class EventHub {
  private readonly subscribers = new Set<Socket>();
  private server?: Server;

  constructor(private readonly node: string, private readonly peers: readonly { host: string; port: number }[]) {}

  listen(port: number): Promise<void> {
    this.server = createServer((socket) => {
      socket.on('error', () => this.subscribers.delete(socket));
      socket.on('close', () => this.subscribers.delete(socket));
      lines(socket, (m) => {
        if (m.type === 'subscribe') {
          this.subscribers.add(socket);
          log('INFO', 'EventHub', `gateway ${m.node} subscribed`);
        } else if (m.type === 'publish') {
          this.broadcast(m.event);
          socket.end();
        }
      });
    });
    return new Promise((resolve) => this.server!.listen(port, '0.0.0.0', resolve));
  }

  /** Publishes an event of this node: to its subscribers, and a copy to every peer hub. */
  publish(event: HubEvent): void {
    this.broadcast(event);
    for (const peer of this.peers) {
      const socket = createConnection({ host: peer.host, port: peer.port, timeout: 2000 });
      socket.on('error', (err) => log('WARN', 'EventHub', `could not duplicate ${event.type} to ${peer.host}:${peer.port}: ${err.message}`));
      socket.on('timeout', () => socket.destroy());
      socket.on('connect', () => { write(socket, { type: 'publish', event: { ...event, duplicated: true } }); });
    }
  }

  private broadcast(event: HubEvent): void {
    for (const s of this.subscribers) write(s, { type: 'event', event });
  }
}

/**
 * A gateway's subscription to one hub (a `throttle_decision_endpoints` entry), reconnecting forever.
 * `onLost` runs when an established subscription drops: events may have been missed meanwhile.
 */
export function subscribe(node: string, endpoint: { host: string; port: number }, onEvent: (e: HubEvent) => void, onLost: () => void): void {
  let connectedOnce = false;
  const connect = async (): Promise<void> => {
    const socket = createConnection({ host: endpoint.host, port: endpoint.port });
    socket.on('connect', () => {
      connectedOnce = true;
      log('INFO', 'JMSListener', `subscribed to event hub ${endpoint.host}:${endpoint.port}`);
      write(socket, { type: 'subscribe', node });
    });
    lines(socket, (m) => { if (m.type === 'event') onEvent(m.event); });
    socket.on('error', (err) => {
      if (!connectedOnce) log('WARN', 'JMSListener', `event hub ${endpoint.host}:${endpoint.port} unreachable: ${err.message}; retrying`);
    });
    let established = false;
    socket.on('connect', () => { established = true; });
    socket.on('close', async () => {
      if (established) {
        log('WARN', 'JMSListener', `lost the event hub ${endpoint.host}:${endpoint.port}`);
        onLost();
      }
      await sleep(1000);
      void connect();
    });
  };
  void connect();
}
