// The GraphQL the Outbound tab sends, with the shapes it reads (names: /work's CONTRACT-outbound.md,
// the schema: graphql/smartTags.ts and graphql/plugins/outboundMutations.ts).
export interface OutboundSubscription {
  subscriptionId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  headers: Record<string, string>;
  rateLimitPerMinute: number | null;
  isActive: boolean;
  disabledReason: string | null;
  autoDisabledAt: string | null;
  failingSince: string | null;
  secretExpiresAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** the newest delivery, for the list's "last delivery" */
  lastDelivery: { nodes: { deliveryId: string; createdAt: string; status: string }[] };
}

export interface OutboundSubscriptionDetail extends OutboundSubscription {
  /** the newest recovery, for its progress */
  recoveries: { nodes: OutboundRecovery[] };
}

export interface OutboundEventType {
  name: string;
  entity: string;
  description: string;
}

const RECOVERY_FIELDS = 'recoveryId subscriptionId since total processed status errorMessage startedAt finishedAt';

const SUBSCRIPTION_FIELDS = `subscriptionId url description eventTypes headers rateLimitPerMinute isActive disabledReason
  autoDisabledAt failingSince secretExpiresAt createdAt updatedAt
  lastDelivery: deliveries(first: 1, orderBy: [CREATED_AT_DESC, DELIVERY_ID_DESC]) { nodes { deliveryId createdAt status } }`;

export const SUBSCRIPTIONS_QUERY = `query OutboundSubscriptions {
  outboundSubscriptions(orderBy: [CREATED_AT_ASC], first: 500) { nodes { ${SUBSCRIPTION_FIELDS} } }
}`;

export const SUBSCRIPTION_QUERY = `query OutboundSubscription($id: UUID!) {
  outboundSubscription(subscriptionId: $id) {
    ${SUBSCRIPTION_FIELDS}
    recoveries(first: 1, orderBy: [STARTED_AT_DESC]) { nodes { ${RECOVERY_FIELDS} } }
  }
}`;

export const EVENT_TYPES_QUERY = `query OutboundEventTypes { outboundEventTypes { name entity description } }`;

export const CREATE_SUBSCRIPTION = `mutation CreateOutboundSubscription($input: CreateOutboundSubscriptionInput!) {
  createOutboundSubscription(input: $input) { secret outboundSubscription { ${SUBSCRIPTION_FIELDS} } }
}`;

export const UPDATE_SUBSCRIPTION = `mutation UpdateOutboundSubscription($id: UUID!, $patch: OutboundSubscriptionSettingsPatch!) {
  updateOutboundSubscription(input: { subscriptionId: $id, patch: $patch }) { outboundSubscription { subscriptionId isActive } }
}`;

export const DELETE_SUBSCRIPTION = `mutation DeleteOutboundSubscription($id: UUID!) {
  deleteOutboundSubscription(input: { subscriptionId: $id }) { outboundSubscription { subscriptionId } }
}`;

export const ROTATE_SUBSCRIPTION_SECRET = `mutation RotateOutboundSubscriptionSecret($id: UUID!, $overlapSeconds: Int) {
  rotateOutboundSubscriptionSecret(input: { subscriptionId: $id, overlapSeconds: $overlapSeconds }) { secret previousSecretsExpireAt }
}`;

export const SEND_TEST_EVENT = `mutation SendOutboundTestEvent($id: UUID!, $eventType: String) {
  sendOutboundTestEvent(input: { subscriptionId: $id, eventType: $eventType }) { outboundDelivery { deliveryId } }
}`;

export const RETRY_DELIVERY = `mutation RetryOutboundDelivery($id: UUID!) {
  retryOutboundDelivery(input: { deliveryId: $id }) { outboundDelivery { deliveryId status } }
}`;

export interface OutboundRecovery {
  recoveryId: string;
  subscriptionId: string;
  since: string;
  total: number;
  processed: number;
  status: string;
  errorMessage: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export const RECOVERY_COUNT = `query OutboundRecoveryCount($id: UUID!, $since: Datetime!) { outboundRecoveryCount(subscriptionId: $id, since: $since) }`;
export const START_RECOVERY = `mutation StartOutboundRecovery($id: UUID!, $since: Datetime!) {
  startOutboundRecovery(input: { subscriptionId: $id, since: $since }) { outboundRecovery { ${RECOVERY_FIELDS} } }
}`;
export const RECOVERY_QUERY = `query OutboundRecovery($id: UUID!) { outboundRecovery(recoveryId: $id) { ${RECOVERY_FIELDS} } }`;

export interface OutboundDeliveryRow {
  deliveryId: string;
  eventId: string;
  eventType: string;
  status: string;
  attemptCount: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  createdAt: string;
  succeededAt: string | null;
  event: { isTest: boolean } | null;
}

const DELIVERY_ROW_FIELDS = `deliveryId eventId eventType status attemptCount nextAttemptAt lastAttemptAt lastResponseStatus lastError
  createdAt succeededAt event { isTest }`;

export const DELIVERIES_QUERY = `query OutboundDeliveries($first: Int!, $after: Cursor, $condition: OutboundDeliveryCondition) {
  outboundDeliveries(first: $first, after: $after, condition: $condition, orderBy: [CREATED_AT_DESC, DELIVERY_ID_DESC]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ${DELIVERY_ROW_FIELDS} }
  }
}`;

export interface OutboundAttempt {
  attemptId: string;
  attemptNumber: number;
  trigger: string;
  startedAt: string;
  durationMs: number | null;
  requestUrl: string;
  requestHeaders: Record<string, unknown>;
  responseStatus: number | null;
  responseHeaders: Record<string, unknown> | null;
  responseBody: string | null;
  errorMessage: string | null;
  succeeded: boolean;
}

export interface OutboundDeliveryDetail extends OutboundDeliveryRow {
  subscriptionId: string;
  event: {
    isTest: boolean;
    eventId: string;
    entityType: string | null;
    entityId: string | null;
    entityVersion: string | null;
    payload: unknown;
    createdAt: string;
  } | null;
  subscription: { url: string } | null;
  attempts: { nodes: OutboundAttempt[] };
}

export const DELIVERY_QUERY = `query OutboundDelivery($id: UUID!) {
  outboundDelivery(deliveryId: $id) {
    ${DELIVERY_ROW_FIELDS} subscriptionId
    event { isTest eventId entityType entityId entityVersion payload createdAt }
    subscription { url }
    attempts(orderBy: [ATTEMPT_NUMBER_ASC]) { nodes { attemptId attemptNumber trigger startedAt durationMs requestUrl requestHeaders
      responseStatus responseHeaders responseBody errorMessage succeeded } }
  }
}`;
