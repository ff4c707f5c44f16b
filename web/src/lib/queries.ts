// The GraphQL the UI sends, with the shapes it reads (the schema: graphql/, PostGraphile v5).
export interface Webhook {
  inboundWebhookId: string;
  name: string;
  slug: string;
  description: string | null;
  url: string;
  authType: string;
  authConfig: Record<string, any>;
  idempotencySource: { type: 'header' | 'jsonata'; value: string } | null;
  idempotencyWindowSeconds: number;
  handlerType: 'direct_action' | 'workflow';
  handlerConfig: Record<string, any>;
  rateLimitPerMinute: number;
  mappingNamespace: string | null;
  samplePayload: unknown;
  sampleCapturedAt: string | null;
  sampleCaptureUntil: string | null;
  isActive: boolean;
  autoDisabledAt: string | null;
  lastDeliveryAt: string | null;
}

export interface InboundAction {
  name: string;
  entityType: string;
  displayName: string;
  description: string;
  targetFields: { name: string; type: string; required: boolean; description: string; enumValues: string[] | null; refEntity: string | null }[];
}

export interface WorkflowSummary {
  workflowId: string;
  name: string;
  isActive: boolean;
}

const WEBHOOK_FIELDS = `inboundWebhookId name slug description url authType authConfig idempotencySource
  idempotencyWindowSeconds handlerType handlerConfig rateLimitPerMinute mappingNamespace samplePayload
  sampleCapturedAt sampleCaptureUntil isActive autoDisabledAt lastDeliveryAt`;

export const WEBHOOKS_QUERY = `query Webhooks {
  inboundWebhooks(orderBy: NAME_ASC, first: 500) { nodes { ${WEBHOOK_FIELDS} } }
}`;

export const REGISTRY_QUERY = `query Registry {
  inboundActions { name entityType displayName description targetFields { name type required description enumValues refEntity } }
  workflows(orderBy: NAME_ASC, first: 500) { nodes { workflowId name isActive } }
}`;

export const SLUG_TAKEN_QUERY = `query SlugTaken($slug: String!) { inboundWebhookBySlug(slug: $slug) { inboundWebhookId } }`;

export const CREATE_WEBHOOK = `mutation Create($input: CreateInboundWebhookInput!) {
  createInboundWebhook(input: $input) { url secret inboundWebhook { ${WEBHOOK_FIELDS} } }
}`;
export const UPDATE_WEBHOOK = `mutation Update($input: UpdateInboundWebhookInput!) {
  updateInboundWebhook(input: $input) { inboundWebhook { inboundWebhookId } }
}`;
export const ROTATE_SECRET = `mutation Rotate($id: UUID!) {
  rotateInboundWebhookSecret(input: { inboundWebhookId: $id }) { secret url previousSecretsExpireAt }
}`;
export const SET_ACTIVE = `mutation SetActive($id: UUID!, $active: Boolean!) {
  setInboundWebhookActive(input: { inboundWebhookId: $id, active: $active }) { clientMutationId }
}`;
export const DELETE_WEBHOOK = `mutation Delete($id: UUID!) { deleteInboundWebhook(input: { inboundWebhookId: $id }) { clientMutationId } }`;
export const START_CAPTURE = `mutation Capture($id: UUID!) { startSampleCapture(input: { inboundWebhookId: $id, minutes: 5 }) { inboundWebhook { sampleCaptureUntil } } }`;
export const CLEAR_SAMPLE = `mutation ClearSample($id: UUID!) { clearSample(input: { inboundWebhookId: $id }) { clientMutationId } }`;
export const USE_AS_SAMPLE = `mutation UseAsSample($id: UUID!) { useDeliveryAsSample(input: { deliveryId: $id }) { inboundWebhook { inboundWebhookId sampleCapturedAt } } }`;

/** The sample and its capture window, re-read while a capture is open (the tree fills in without reload). */
export interface WebhookSample {
  samplePayload: unknown;
  sampleCapturedAt: string | null;
  sampleCaptureUntil: string | null;
}
export const WEBHOOK_SAMPLE_QUERY = `query WebhookSample($id: UUID!) {
  inboundWebhook(inboundWebhookId: $id) { samplePayload sampleCapturedAt sampleCaptureUntil }
}`;

/** The dry run (CONTRACT-mapping.md): the draft handler evaluated as the worker would, rolled back. */
export interface MappingPreviewField {
  name: string;
  expression: string | null;
  value: unknown;
  valueType: string | null;
  problem: string | null;
  severity: 'warning' | 'error' | null;
}
export interface MappingPreview {
  source: 'sample' | 'delivery' | 'body';
  deliveryId: string | null;
  input: unknown;
  fields: MappingPreviewField[];
  outcome: string;
  summary: string;
  ok: boolean;
  envelope: unknown;
}
export const PREVIEW_MAPPING = `query PreviewMapping($input: PreviewMappingInput!) {
  previewMapping(input: $input) { source deliveryId input outcome summary ok envelope fields { name expression value valueType problem severity } }
}`;

/** The test inputs a dry run can use: this webhook's last 50 deliveries. */
export interface TestDelivery {
  deliveryId: string;
  receivedAt: string;
  dispatchStatus: string;
  isTest: boolean;
  isReplay: boolean;
  requestBody: unknown;
}
export const TEST_DELIVERIES_QUERY = `query TestDeliveries($id: UUID!) {
  inboundWebhookDeliveries(first: 50, condition: { inboundWebhookId: $id }, orderBy: [RECEIVED_AT_DESC, DELIVERY_ID_DESC]) {
    nodes { deliveryId receivedAt dispatchStatus isTest isReplay requestBody }
  }
}`;

export interface WebhookVersion {
  version: number;
  createdAt: string;
  createdBy: string | null;
  changes: string[];
  config: Record<string, unknown>;
}
export const VERSIONS_QUERY = `query Versions($id: UUID!) {
  inboundWebhook(inboundWebhookId: $id) { currentVersion versions(first: 50) { version createdAt createdBy changes config } }
}`;
export const RESTORE_VERSION = `mutation RestoreVersion($id: UUID!, $version: Int!) {
  restoreInboundWebhookVersion(input: { inboundWebhookId: $id, version: $version }) { inboundWebhook { inboundWebhookId } }
}`;
export const SEND_TEST = `mutation SendTest($id: UUID!, $body: JSON!) {
  sendTestDelivery(input: { inboundWebhookId: $id, body: $body }) { inboundWebhookDelivery { deliveryId } }
}`;

export interface DeliveryRow {
  deliveryId: string;
  inboundWebhookId: string;
  receivedAt: string;
  dispatchStatus: string;
  responseStatus: number | null;
  durationMs: number | null;
  handlerOutcome: unknown;
  errorMessage: string | null;
  isReplay: boolean;
  replayedFrom: string | null;
  isTest: boolean;
  inboundWebhook: { name: string; slug: string } | null;
}

export const DELIVERIES_QUERY = `query Deliveries($first: Int!, $after: Cursor, $condition: InboundWebhookDeliveryCondition) {
  inboundWebhookDeliveries(first: $first, after: $after, condition: $condition, orderBy: [RECEIVED_AT_DESC, DELIVERY_ID_DESC]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { deliveryId inboundWebhookId receivedAt dispatchStatus responseStatus durationMs handlerOutcome errorMessage
      isReplay replayedFrom isTest inboundWebhook { name slug } }
  }
}`;

export interface DeliveryDetail extends DeliveryRow {
  requestMethod: string;
  requestPath: string;
  requestHeaders: Record<string, unknown>;
  requestBody: unknown;
  requestBodyText: string | null;
  contentType: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  authStatus: string;
  retryCount: number;
  responseBody: unknown;
  dispatchedAt: string | null;
  idempotencyKey: string | null;
  duplicateOf: string | null;
  /** the configuration version it was dispatched with (null until dispatched) */
  configVersion: number | null;
  inboundWebhook: { name: string; slug: string; handlerType: string } | null;
  replays: { nodes: { deliveryId: string; receivedAt: string; dispatchStatus: string }[] };
  workflowRuns: { nodes: { runId: string; status: string }[] };
}

export const DELIVERY_QUERY = `query Delivery($id: UUID!) {
  inboundWebhookDelivery(deliveryId: $id) {
    deliveryId inboundWebhookId receivedAt dispatchStatus responseStatus durationMs handlerOutcome errorMessage
    isReplay replayedFrom isTest requestMethod requestPath requestHeaders requestBody requestBodyText contentType
    sourceIp userAgent authStatus retryCount responseBody dispatchedAt idempotencyKey duplicateOf configVersion
    inboundWebhook { name slug handlerType }
    replays(orderBy: RECEIVED_AT_DESC) { nodes { deliveryId receivedAt dispatchStatus } }
    workflowRuns { nodes { runId status } }
  }
}`;

/** configuration: CURRENT (the default, as before) or DISPATCHED (the version the delivery was dispatched with) */
export const REPLAY_DELIVERY = `mutation Replay($id: UUID!, $configuration: ReplayConfiguration) {
  replayInboundWebhookDelivery(input: { deliveryId: $id, configuration: $configuration }) { inboundWebhookDelivery { deliveryId } }
}`;

export interface Rejection {
  rejectionId: string;
  webhookSlug: string;
  receivedAt: string;
  /** identical rejections arriving together are one row (the receiver folds them) */
  repeatCount: number;
  lastReceivedAt: string;
  authStatus: string;
  reason: string;
  requestMethod: string;
  sourceIp: string | null;
  userAgent: string | null;
}

export const REJECTIONS_QUERY = `query Rejections($first: Int!, $after: Cursor) {
  inboundWebhookAuthRejections(first: $first, after: $after, orderBy: [RECEIVED_AT_DESC]) {
    pageInfo { hasNextPage endCursor }
    nodes { rejectionId webhookSlug receivedAt repeatCount lastReceivedAt authStatus reason requestMethod sourceIp userAgent }
  }
}`;

/** A workflow's definition, for editing its steps' conditions and inputs in the webhook dialog. */
export interface WorkflowStep {
  id: string;
  action?: string;
  when?: string;
  input?: Record<string, string>;
  set?: Record<string, string>;
  end?: boolean | string;
}
export interface WorkflowDetail {
  workflowId: string;
  name: string;
  version: number;
  definition: { steps: WorkflowStep[] } & Record<string, unknown>;
}
export const WORKFLOW_QUERY = `query Workflow($id: UUID!) {
  workflow(workflowId: $id) { workflowId name version definition }
}`;
export const UPDATE_WORKFLOW = `mutation UpdateWorkflow($input: UpdateWorkflowInput!) {
  updateWorkflow(input: $input) { workflow { workflowId version definition } }
}`;
