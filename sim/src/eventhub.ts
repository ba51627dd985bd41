import { createConnection, createServer, Server, Socket } from 'net';
import { log } from './http';
import { lookup } from './resolve';
import type { StoredApplication, StoredKeyMapping, SubscriptionIds } from './subscription-data';

/**
 * Events between control planes and gateways. The product speaks Thrift to its receivers (9611)
 * and JMS on its broker (5672); the stand-in speaks JSON lines over TCP on the same ports, with the
 * same paths (see EventHub).
 */
export interface HubEvent {
  readonly type:
    | 'DEPLOY_API_IN_GATEWAY'
    | 'REMOVE_API_FROM_GATEWAY'
    | 'API_UPDATE'
    | 'SUBSCRIPTIONS_CREATE'
    | 'SUBSCRIPTIONS_UPDATE'
    | 'SUBSCRIPTIONS_DELETE'
    | 'APPLICATION_CREATE'
    | 'APPLICATION_UPDATE'
    | 'APPLICATION_DELETE'
    | 'APPLICATION_REGISTRATION_CREATE'
    | 'TOKEN_REVOCATION'
    | 'THROTTLE_REQUEST'
    | 'THROTTLE_DECISION';
  readonly eventId: string;
  /** The API (empty for an application's own events). */
  readonly apiId: string;
  /** SUBSCRIPTIONS_*, APPLICATION_*: the application. */
  readonly applicationId?: string;
  /** SUBSCRIPTIONS_*: the subscription's state (SUB_STATUS) after the change. */
  readonly status?: string;
  /** TOKEN_REVOCATION: the revoked token's `jti`, and when it expires (epoch seconds). */
  readonly jti?: string;
  readonly expiry?: number;
  /** SUBSCRIPTIONS_*: the subscription's throttling policy (its tier), and its integer ids. */
  readonly policy?: string;
  readonly subscriptionIds?: SubscriptionIds;
  /** APPLICATION_CREATE, APPLICATION_UPDATE: the application as gateways keep it. */
  readonly application?: StoredApplication;
  /** APPLICATION_REGISTRATION_CREATE: the application's new OAuth client (key mapping). */
  readonly keyMapping?: StoredKeyMapping;
  /** THROTTLE_REQUEST (gateway → traffic manager): a request let through, its subscription's and application's keys and tiers. */
  readonly subscriptionKey?: string;
  readonly subscriptionTier?: string;
  readonly appKey?: string;
  readonly appTier?: string;
  /** THROTTLE_DECISION (traffic manager → gateways, the `throttleData` topic): the key, throttled or not, until when (epoch ms). */
  readonly throttleKey?: string;
  readonly isThrottled?: boolean;
  readonly expiresAt?: number;
  readonly labels: readonly string[];
  readonly origin: string;
}

type Message =
  | { type: 'subscribe'; node: string; role: string }
  | { type: 'publish'; event: HubEvent }
  | { type: 'event'; event: HubEvent }
  | { type: 'throttle'; event: HubEvent };

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

/**
 * A control plane's event hub, with the product's two paths:
 * - the receiver (the Traffic Manager's Thrift port, 9611): publishers send events here and the
 *   hub hands them to the gateways subscribed to this node's broker;
 * - the broker (JMS, 5672): gateways subscribe, one broker at a time.
 * A control plane publishes each event to every `[[apim.event_hub.publish.url_group]]` (its own
 * receiver included, when listed), never straight to its broker; `event_duplicate_url` carries
 * token revocation events only, which the stand-in does not issue.
 */
export class EventHub {
  private readonly subscribers = new Set<Socket>();
  private readonly servers: Server[] = [];
  /** The traffic manager's counting of gateways' request events (the throttle stream on the receiver). */
  onThrottleRequest?: (event: HubEvent) => void;

  constructor(
    private readonly node: string,
    private readonly publishTo: readonly { host: string; port: number }[],
  ) {}

  async listen(brokerPort: number, receiverPort: number): Promise<void> {
    const broker = createServer((socket) => {
      socket.on('error', () => this.subscribers.delete(socket));
      socket.on('close', () => this.subscribers.delete(socket));
      lines(socket, (m) => {
        if (m.type === 'subscribe') {
          this.subscribers.add(socket);
          log('INFO', 'EventHub', `${m.role} ${m.node} subscribed`);
        }
      });
    });
    const receiver = createServer((socket) => {
      socket.on('error', () => undefined);
      lines(socket, (m) => {
        if (m.type === 'publish') {
          this.broadcast(m.event);
          socket.end();
        }
        // A gateway's stream of request events stays open.
        if (m.type === 'throttle') this.onThrottleRequest?.(m.event);
      });
    });
    for (const [server, port] of [
      [broker, brokerPort],
      [receiver, receiverPort],
    ] as const) {
      await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
      this.servers.push(server);
    }
  }

  /** Publishes an event of this node to every url_group receiver. */
  publish(event: HubEvent): void {
    if (!this.publishTo.length)
      log('WARN', 'EventHub', `no [[apim.event_hub.publish.url_group]]: ${event.type} for ${event.apiId} goes nowhere`);
    for (const target of this.publishTo) {
      const socket = createConnection({ host: target.host, port: target.port, timeout: 2000, lookup });
      socket.on('error', (err) =>
        log('WARN', 'EventPublisher', `could not publish ${event.type} to tcp://${target.host}:${target.port}: ${err.message}`),
      );
      socket.on('timeout', () => socket.destroy(new Error('no answer in 2 s')));
      socket.on('connect', () => {
        write(socket, { type: 'publish', event: { ...event, origin: this.node } });
      });
    }
  }

  /** A throttle decision of this node's traffic manager, to the gateways on its broker. */
  decide(event: HubEvent): void {
    this.broadcast({ ...event, origin: this.node });
  }

  private broadcast(event: HubEvent): void {
    for (const s of this.subscribers) write(s, { type: 'event', event });
  }
}

/** What a JMS connection is for, as its log lines name it. */
export interface Subscription {
  /** The subscribing node's kind, for the broker's log: `gateway` (the default), `traffic-manager`. */
  readonly role?: string;
  /** The deployment.toml key the brokers come from (default `throttle_decision_endpoints`). */
  readonly source?: string;
  /** What the brokers are (default `event hub`). */
  readonly broker?: string;
  /** What the node hears there (default `event`). */
  readonly heard?: string;
}

/**
 * A node's JMS connection: one broker at a time from the given list, failing over round-robin
 * when the connection closes (the product's AMQP URL has `failover='roundrobin'` over that broker
 * list). Events published while it is between brokers are not replayed: like the product, a
 * gateway pulls everything only at startup.
 */
export function subscribeWithFailover(
  node: string,
  brokers: readonly { host: string; port: number }[],
  onEvent: (e: HubEvent) => void,
  what: Subscription = {},
): void {
  const { role = 'gateway', source = 'throttle_decision_endpoints', broker: kind = 'event hub', heard = 'event' } = what;
  if (!brokers.length) {
    log('ERROR', 'JMSListener', `no ${source}: this ${role} hears of no ${heard}`);
    return;
  }
  let index = 0;
  let failures = 0;
  const connect = (): void => {
    const broker = brokers[index];
    const socket = createConnection({ host: broker.host, port: broker.port, lookup });
    let established = false;
    socket.on('connect', () => {
      established = true;
      failures = 0;
      log('INFO', 'JMSListener', `subscribed to ${kind} ${broker.host}:${broker.port}`);
      write(socket, { type: 'subscribe', node, role });
    });
    lines(socket, (m) => {
      if (m.type === 'event') onEvent(m.event);
    });
    socket.on('error', (err) => {
      if (!established) log('WARN', 'JMSListener', `${kind} ${broker.host}:${broker.port} unreachable: ${err.message}`);
    });
    socket.on('close', () => {
      if (established) log('WARN', 'JMSListener', `lost the ${kind} ${broker.host}:${broker.port}; failing over`);
      index = (index + 1) % brokers.length;
      // The next broker at once; a full cycle of failures backs off.
      if (!established && ++failures >= brokers.length) {
        failures = 0;
        setTimeout(connect, 500);
      } else connect();
    });
  };
  connect();
}
