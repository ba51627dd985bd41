import { createConnection, Socket } from 'net';
import type { Pool } from 'mysql2/promise';
import { ThrottlePolicyRepository } from './control-plane/repositories';
import type { EventHub, HubEvent } from './eventhub';
import { json, log } from './http';
import type { Res } from './http';
import { lookup } from './resolve';

/**
 * Subscription and application throttling across gateways, as APIM 4.3 does it (carbon-apimgt
 * 9.29.120, sources in docs/real-product.md, "Throttling"): a gateway publishes every request it
 * lets through, with its subscription and application keys and tiers, to each traffic manager
 * (`[[apim.throttling.url_group]] traffic_manager_urls`, the receiver on 9611); a traffic manager
 * counts them per policy and throttle key in windows aligned on the clock (`timeBatch(<unit>, 0)`)
 * and, once a window's count reaches the policy's request count, publishes a decision (the key,
 * throttled, the window's end) on its broker (the `throttleData` topic, 5672); gateways keep the
 * decisions they hear and refuse a throttled key with 429 until its expiry, the subscription's
 * before the application's. There is no local count: a gateway that hears no decisions serves
 * everything (fail open).
 */

/** The levels counted here, each with its own execution plans (`throttle_policy_template_sub.xml`, `_app.xml`). */
export type ThrottleLevel = 'subscription' | 'application';

/** The tenant of every application and API of the stand-in. */
const SUPER_TENANT = 'carbon.super';

/** `appId:apiContext:apiVersion:subscriptionTier`, the application's integer id (ThrottleHandler l.508-509; the context carries the version). */
export const subscriptionThrottleKey = (applicationId: number, context: string, version: string, tier: string): string =>
  `${applicationId}:${context}/${version}:${version}:${tier}`;

/**
 * `appId:authorizedUser` (ThrottleHandler l.235), the application's integer id; the user of an
 * application token is its subscriber with the tenant (GatewayUtils l.619-635), which ThrottleHandler
 * appends when it is missing (l.200-205).
 */
export const applicationThrottleKey = (applicationId: number, user: string): string =>
  `${applicationId}:${user.includes(SUPER_TENANT) ? user : `${user}@${SUPER_TENANT}`}`;

/**
 * What a gateway publishes of a request it lets through: the fields of the product's request stream
 * the traffic manager's plans read (DataProcessAndPublishingAgent l.279-285).
 */
export interface ThrottledRequest {
  readonly subscriptionKey: string;
  readonly subscriptionTier: string;
  readonly appKey: string;
  readonly appTier: string;
}

/** A request's keys and tiers, from the application (the subscription data store's) and its subscription. */
export function throttledRequestOf(
  app: { readonly id: number; readonly subName: string; readonly policy: string },
  context: string,
  version: string,
  subscriptionTier: string,
): ThrottledRequest {
  return {
    subscriptionKey: subscriptionThrottleKey(app.id, context, version, subscriptionTier),
    subscriptionTier,
    appKey: applicationThrottleKey(app.id, app.subName),
    appTier: app.policy,
  };
}

/** A policy as a traffic manager enforces it. */
export interface EnforcedPolicy {
  readonly requestCount: number;
  readonly windowMs: number;
  /** `stopOnQuotaReach`: false lets requests past the quota through (ThrottleHandler l.445-451); application policies always stop. */
  readonly stopOnQuotaReach: boolean;
}

/** A level's policies by name (a tier). */
export type PolicyLookup = (tier: string) => Promise<EnforcedPolicy | undefined>;

const UNIT_MS: Record<string, number> = {
  sec: 1000,
  min: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
  year: 365 * 86_400_000,
};
export const windowMsOf = (unitTime: number, timeUnit: string): number => unitTime * (UNIT_MS[timeUnit] ?? UNIT_MS.min);

/** Where each level's plans read their key and tier in a request event (`subscriptionKey AS throttleKey`, `appKey AS throttleKey`). */
const KEY_OF: Readonly<Record<ThrottleLevel, (r: Partial<ThrottledRequest>) => readonly [string | undefined, string | undefined]>> = {
  subscription: (r) => [r.subscriptionKey, r.subscriptionTier],
  application: (r) => [r.appKey, r.appTier],
};

/**
 * A traffic manager's counting, a plan per level and policy: per key, the window `[k·w, (k+1)·w)`
 * of epoch time a request falls in; from the request that makes the count reach the quota on, a
 * throttled decision expiring at the window's end (the templates' `count(messageID) >= requestCount`).
 * A subscription policy that lets requests through past its quota decides nothing here (the gateway
 * would let them through anyway).
 */
export class ThrottleCounter {
  /** Windows by `${level}/${tier}/${key}`: each plan counts its own. */
  private readonly windows = new Map<string, { end: number; count: number }>();

  constructor(
    private readonly policies: Readonly<Record<ThrottleLevel, PolicyLookup>>,
    private readonly decide: (decision: HubEvent) => void,
  ) {}

  async count(event: HubEvent, now = Date.now()): Promise<void> {
    await Promise.all((Object.keys(KEY_OF) as ThrottleLevel[]).map((level) => this.countAt(level, event, now)));
  }

  private async countAt(level: ThrottleLevel, event: HubEvent, now: number): Promise<void> {
    const [key, tier] = KEY_OF[level](event);
    if (!key || !tier) return;
    const policy = await this.policies[level](tier);
    if (!policy || !policy.stopOnQuotaReach) return;
    const end = (Math.floor(now / policy.windowMs) + 1) * policy.windowMs;
    const plan = `${level}/${tier}/${key}`;
    const window = this.windows.get(plan);
    const current = window && window.end === end ? window : { end, count: 0 };
    current.count++;
    this.windows.set(plan, current);
    if (current.count >= policy.requestCount) {
      this.decide({
        type: 'THROTTLE_DECISION',
        eventId: `${key}@${end}`,
        apiId: event.apiId,
        throttleKey: key,
        isThrottled: true,
        expiresAt: end,
        labels: [],
        origin: '',
      });
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
    if (expiry < now) {
      this.throttled.delete(key);
      return undefined;
    }
    return expiry;
  }

  /**
   * The gateway's 429 for a request, or undefined to let it through: its subscription's decision is
   * looked at first, then its application's (ThrottleHandler l.371-384; resource, API and burst
   * levels are not modelled).
   */
  refusal(request: ThrottledRequest, now = Date.now()): Res | undefined {
    const subscription = this.until(request.subscriptionKey, now);
    if (subscription !== undefined) return throttledOut(subscription, 'subscription');
    const application = this.until(request.appKey, now);
    if (application !== undefined) return throttledOut(application, 'application');
    return undefined;
  }
}

const pad = (n: number) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A decision's expiry as the gateway says when to call again: `yyyy-MMM-dd HH:mm:ssZ` in UTC, then " UTC" (ThrottleHandler). */
export function nextAccessTimeOf(expiry: number): string {
  const d = new Date(expiry);
  return `${d.getUTCFullYear()}-${MONTHS[d.getUTCMonth()]}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+0000 UTC`;
}

/** SUBSCRIPTION_THROTTLE_OUT_ERROR_CODE and APPLICATION_THROTTLE_OUT_ERROR_CODE (APIThrottleConstants l.27-28; the same in 2.6.0's 6.4.50, l.26-27). */
export const THROTTLE_OUT_CODE: Readonly<Record<ThrottleLevel, string>> = { subscription: '900804', application: '900803' };

/**
 * The gateway's 429 for a throttled subscription (code 900804) or application (900803): "Message
 * throttled out", "You have exceeded your quota .You can access API after <yyyy-MMM-dd HH:mm:ssZ>
 * UTC", `nextAccessTime`, and `Retry-After` (ThrottleHandler l.750-757, 773-780, 786, 791,
 * 1299-1324; `_throttle_out_handler_.xml`).
 */
function throttledOut(expiry: number, level: ThrottleLevel): Res {
  const d = new Date(expiry);
  const next = nextAccessTimeOf(expiry);
  return {
    ...json(429, {
      code: THROTTLE_OUT_CODE[level],
      message: 'Message throttled out',
      description: `You have exceeded your quota .You can access API after ${next}`,
      nextAccessTime: next,
    }),
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

  constructor(
    private readonly node: string,
    private readonly target: { host: string; port: number },
  ) {
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
      if (!this.warned)
        log(
          'WARN',
          'DataPublisher',
          `No receiver is reachable at tcp://${this.target.host}:${this.target.port}, dropping throttle events until it is`,
        );
      this.warned = true;
      return;
    }
    this.socket.write(`${JSON.stringify({ type: 'throttle', event: { ...event, origin: this.node } })}\n`);
  }
}

/**
 * The policies of a level a traffic manager enforces, by name, from AM_POLICY_SUBSCRIPTION or
 * AM_POLICY_APPLICATION (the product deploys each as an execution plan when it is added); each looked
 * up again after 5 s. An application policy always stops at its quota (its template has no
 * `stopOnQuotaReach`, nor has ThrottleHandler's application check).
 */
export function enforcedPolicies(
  level: ThrottleLevel,
  byName: (name: string) => Promise<Record<string, unknown> | undefined>,
): PolicyLookup {
  // One lookup at a time per name: the requests counted meanwhile wait for it rather than ask again.
  const cache = new Map<string, { at: number; policy: Promise<EnforcedPolicy | undefined> }>();
  return (tier) => {
    const hit = cache.get(tier);
    if (hit && Date.now() - hit.at < 5000) return hit.policy;
    const policy = byName(tier)
      .catch(() => undefined)
      .then((row) =>
        row && row.QUOTA_TYPE === 'requestCount'
          ? {
              requestCount: Number(row.QUOTA),
              windowMs: windowMsOf(Number(row.UNIT_TIME), String(row.TIME_UNIT)),
              stopOnQuotaReach: level === 'application' || !!row.STOP_ON_QUOTA_REACH,
            }
          : undefined,
      );
    cache.set(tier, { at: Date.now(), policy });
    return policy;
  };
}

/** The traffic manager in a node (4.3's control plane, 4.5+'s own distribution, a classic manager): counts gateways' request events, decides on its broker. */
export function countThrottleRequests(hub: EventHub, apimDb: Pool): void {
  const policies = new ThrottlePolicyRepository(apimDb);
  const counter = new ThrottleCounter(
    {
      subscription: enforcedPolicies('subscription', (name) => policies.byName('subscription', name)),
      application: enforcedPolicies('application', (name) => policies.byName('application', name)),
    },
    (decision) => hub.decide(decision),
  );
  hub.onThrottleRequest = (event) => {
    counter.count(event).catch((err: Error) => log('ERROR', 'ThrottleDataReceiver', `could not count a request event: ${err.message}`));
  };
}
