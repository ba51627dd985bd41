import type { Res } from '../http';
import { log } from '../http';
import { subscribeWithFailover } from '../eventhub';
import { nextAccessTimeOf, THROTTLE_OUT_CODE, ThrottleDecisions, ThrottleStream } from '../throttling';
import type { ThrottleLevel } from '../throttling';
import type { HubEvent } from '../eventhub';
import type { Endpoint, ThrottlingConfig } from './config';
import type { KeyValidationInfo } from './key-manager';

/**
 * Advanced throttling on a classic gateway, as carbon-apimgt 6.4.50 does it (docs/products.md,
 * "Throttling on a 2.6.0 worker"): `ThrottleHandler`, after `APIAuthenticationHandler`, refuses a
 * request whose subscription's key, then whose application's key, a traffic manager's decision
 * holds; it publishes every request it lets through to each braced group of `ReceiverUrlGroup`,
 * and hears decisions on one broker of its JMS brokerlist at a time. The traffic managers are the
 * managers' (the default profile runs one: `countThrottleRequests`), with the 4.x stand-in's
 * counting (`sim/src/throttling.ts`), which is the same design. Not modelled: blocking conditions,
 * API/resource levels, burst limits, key templates and the hard limit; a `,` group (load balancing)
 * is published to its first endpoint (the lab writes one endpoint a group).
 */
export const THROTTLE_HANDLER = 'org.wso2.carbon.apimgt.gateway.handlers.throttling.ThrottleHandler';

/** `applicationId + ":" + apiContext + ":" + apiVersion`, the context with its version (ThrottleHandler l.356-357; 4.x appends the tier). */
export const classicSubscriptionKey = (applicationId: string, context: string, version: string): string =>
  `${applicationId}:${context}:${version}`;

/** `applicationId + ":" + authorizedUser` (ThrottleHandler l.223). */
export const classicApplicationKey = (applicationId: string, user: string): string => `${applicationId}:${user}`;

/**
 * The gateway's 429 for a throttled subscription (900804) or application (900803), as a POX/REST
 * request gets it (`getFaultPayload`, ThrottleHandler l.566-588, 684-685): an XML fault in the
 * throttling namespace (APIThrottleConstants l.38-39), "Message throttled out", "You have exceeded
 * your quota", `nextAccessTime`; no `Retry-After` (none in the 6.4.50 gateway). Its content type
 * without an `Accept` header was not established (the stand-in says application/xml).
 */
export function classicThrottledOut(expiry: number, level: ThrottleLevel): Res {
  return {
    status: 429,
    contentType: 'application/xml',
    body: `<amt:fault xmlns:amt="http://wso2.org/apimanager/throttling"><amt:code>${THROTTLE_OUT_CODE[level]}</amt:code><amt:message>Message throttled out</amt:message><amt:description>You have exceeded your quota</amt:description><amt:nextAccessTime>${nextAccessTimeOf(expiry)}</amt:nextAccessTime></amt:fault>`,
  };
}

export class ClassicThrottle {
  private readonly decisions = new ThrottleDecisions();
  private readonly streams: Pick<ThrottleStream, 'publish'>[];

  constructor(
    private readonly node: string,
    config: ThrottlingConfig,
    /** A stream of request events to a traffic manager's receiver (a test's own sink). */
    streamTo: (receiver: Endpoint) => Pick<ThrottleStream, 'publish'> = (receiver) => new ThrottleStream(node, receiver),
  ) {
    this.streams = config.receiverGroups.map((group) => streamTo(group[0]));
    if (!this.streams.length) log('WARN', 'ThrottleDataPublisher', 'no ReceiverUrlGroup: requests are published to no traffic manager');
    if (config.decisions)
      subscribeWithFailover(node, config.brokers, (event) => this.hear(event), {
        source: 'JMSConnectionDetails brokerlist',
        broker: 'traffic manager broker',
        heard: 'throttle decision',
      });
    else log('WARN', 'JMSListenerComponent', 'JMSConnectionDetails disabled: this gateway hears no throttle decision');
  }

  /** A decision heard on the broker (JMSMessageListener → ThrottleDataHolder). */
  hear(event: HubEvent): void {
    if (event.type === 'THROTTLE_DECISION') this.decisions.hear(event);
  }

  /**
   * ThrottleHandler on a request its API's authentication let through: the 429, or undefined to
   * let it through (then published). A throttled subscription whose policy does not stop on its
   * quota lets the request through unpublished, its application unchecked (l.414-424).
   */
  check(info: KeyValidationInfo, api: { readonly context: string; readonly version: string }, now = Date.now()): Res | undefined {
    const applicationId = info.applicationId ?? '';
    const subscriptionKey = classicSubscriptionKey(applicationId, api.context, api.version);
    const appKey = classicApplicationKey(applicationId, info.endUserName ?? 'anonymous');
    const subscription = this.decisions.until(subscriptionKey, now);
    if (subscription !== undefined) return info.stopOnQuotaReach === false ? undefined : classicThrottledOut(subscription, 'subscription');
    const application = this.decisions.until(appKey, now);
    if (application !== undefined) return classicThrottledOut(application, 'application');
    for (const stream of this.streams)
      stream.publish({
        type: 'THROTTLE_REQUEST',
        eventId: '',
        apiId: '',
        subscriptionKey,
        subscriptionTier: info.tier ?? 'Unlimited',
        appKey,
        appTier: info.applicationTier ?? 'Unlimited',
        labels: [],
        origin: this.node,
      });
    return undefined;
  }
}
