import { createConnection, Socket } from 'net';
import type { HubEvent } from './eventhub';
import { json, log } from './http';
import type { Res } from './http';
import { lookup } from './resolve';

/**
 * Subscription throttling across gateways, as APIM 4.3 does it (carbon-apimgt 9.29.120, sources in
 * docs/real-product.md, "Throttling"): a gateway publishes every request it lets through to each
 * traffic manager (`[[apim.throttling.url_group]] traffic_manager_urls`, the receiver on 9611); a
 * traffic manager counts them per throttle key in windows aligned on the clock
 * (`timeBatch(<unit>, 0)`) and, once a window's count reaches the policy's request count, publishes
 * a decision (the key, throttled, the window's end) on its broker (the `throttleData` topic, 5672);
 * gateways keep the decisions they hear and refuse a throttled key with 429 until its expiry. There
 * is no local count: a gateway that hears no decisions serves everything (fail open).
 */

/** `appId:apiContext:apiVersion:subscriptionTier` (ThrottleHandler l.508-509; the context carries the version). */
export const subscriptionThrottleKey = (applicationId: string, context: string, version: string, tier: string): string =>
  `${applicationId}:${context}/${version}:${version}:${tier}`;

/** A subscription policy as a traffic manager enforces it. */
export interface EnforcedPolicy {
  readonly requestCount: number;
  readonly windowMs: number;
  /** `stopOnQuotaReach`: false lets requests past the quota through (ThrottleHandler l.445-451). */
  readonly stopOnQuotaReach: boolean;
}

const UNIT_MS: Record<string, number> = { sec: 1000, min: 60_000, hour: 3_600_000, day: 86_400_000, month: 30 * 86_400_000, year: 365 * 86_400_000 };
export const windowMsOf = (unitTime: number, timeUnit: string): number => unitTime * (UNIT_MS[timeUnit] ?? UNIT_MS.min);

/**
 * A traffic manager's counting: per key, the window `[k·w, (k+1)·w)` of epoch time a request falls
 * in; from the request that makes the count reach the quota on, a throttled decision expiring at the
 * window's end (the policy template's `count(messageID) >= requestCount`). A policy that lets requests
 * through past its quota decides nothing here (the gateway would let them through anyway).
 */
export class ThrottleCounter {
  private readonly windows = new Map<string, { end: number; count: number }>();

  constructor(private readonly policyOf: (tier: string) => Promise<EnforcedPolicy | undefined>, private readonly decide: (decision: HubEvent) => void) {}

  async count(event: HubEvent, now = Date.now()): Promise<void> {
    if (!event.throttleKey || !event.tier) return;
    const policy = await this.policyOf(event.tier);
    if (!policy || !policy.stopOnQuotaReach) return;
    const end = (Math.floor(now / policy.windowMs) + 1) * policy.windowMs;
    const window = this.windows.get(event.throttleKey);
    const current = window && window.end === end ? window : { end, count: 0 };
    current.count++;
    this.windows.set(event.throttleKey, current);
    if (current.count >= policy.requestCount) {
      this.decide({ type: 'THROTTLE_DECISION', eventId: `${event.throttleKey}@${end}`, apiId: event.apiId, throttleKey: event.throttleKey, isThrottled: true, expiresAt: end, labels: [], origin: '' });
    }
  }
}

/** The decisions a gateway heard: throttled keys and when each expires (ThrottleDataHolder.throttleDataMap). */
export class ThrottleDecisions {
  private readonly throttled = new Map<string, number>();

  hear(decision: HubEvent): void {
    if (!decision.throttleKey) return;
    if (decision.isThrottled && decision.expiresAt) this.throttled.set(decision.throttleKey, decision.expiresAt);
    else this.throttled.delete(decision.throttleKey);
  }

  /** When the key may be called again, or undefined when it is not throttled (an expired decision is forgotten). */
  until(key: string, now = Date.now()): number | undefined {
    const expiry = this.throttled.get(key);
    if (expiry === undefined) return undefined;
    if (expiry < now) { this.throttled.delete(key); return undefined; }
    return expiry;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The gateway's 429 for a throttled subscription: code 900804 "Message throttled out", "You have
 * exceeded your quota .You can access API after <yyyy-MMM-dd HH:mm:ssZ> UTC", `nextAccessTime`, and
 * `Retry-After` (ThrottleHandler l.750-757, 786, 1299-1324; `_throttle_out_handler_.xml`).
 */
export function throttledOut(expiry: number): Res {
  const d = new Date(expiry);
  const next = `${d.getUTCFullYear()}-${MONTHS[d.getUTCMonth()]}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000 UTC`;
  return {
    ...json(429, { code: '900804', message: 'Message throttled out', description: `You have exceeded your quota .You can access API after ${next}`, nextAccessTime: next }),
    headers: { 'retry-after': d.toUTCString() },
  };
}

/**
 * A gateway's stream of request events to one traffic manager: one connection kept open and made
 * again every 5 s while it is down; an event that finds it down is dropped, as the product's
 * `tryPublish` drops what it cannot send.
 */
export class ThrottleStream {
  private socket?: Socket;
  private connected = false;
  private warned = false;

  constructor(private readonly node: string, private readonly target: { host: string; port: number }) {
    this.connect();
  }

  private connect(): void {
    const socket = createConnection({ host: this.target.host, port: this.target.port, lookup });
    this.socket = socket;
    socket.on('connect', () => {
      this.connected = true;
      this.warned = false;
      log('INFO', 'DataPublisher', `throttle events to tcp://${this.target.host}:${this.target.port}`);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connected = false;
      setTimeout(() => this.connect(), 5000).unref();
    });
  }

  publish(event: HubEvent): void {
    if (!this.connected || !this.socket) {
      if (!this.warned) log('WARN', 'DataPublisher', `No receiver is reachable at tcp://${this.target.host}:${this.target.port}, dropping throttle events until it is`);
      this.warned = true;
      return;
    }
    this.socket.write(`${JSON.stringify({ type: 'throttle', event: { ...event, origin: this.node } })}\n`);
  }
}

/**
 * The subscription policies a traffic manager enforces, by name, from AM_POLICY_SUBSCRIPTION (the
 * product deploys each as an execution plan when it is added); each looked up again after 5 s.
 */
export function subscriptionPolicies(byName: (name: string) => Promise<Record<string, unknown> | undefined>): (tier: string) => Promise<EnforcedPolicy | undefined> {
  const cache = new Map<string, { at: number; policy?: EnforcedPolicy }>();
  return async (tier) => {
    const hit = cache.get(tier);
    if (hit && Date.now() - hit.at < 5000) return hit.policy;
    const row = await byName(tier).catch(() => undefined);
    const policy = row && row.QUOTA_TYPE === 'requestCount'
      ? { requestCount: Number(row.QUOTA), windowMs: windowMsOf(Number(row.UNIT_TIME), String(row.TIME_UNIT)), stopOnQuotaReach: !!row.STOP_ON_QUOTA_REACH }
      : undefined;
    cache.set(tier, { at: Date.now(), policy });
    return policy;
  };
}
