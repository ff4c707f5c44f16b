// How the intake schema appears in GraphQL, kept beside the preset rather than in database
// comments. The global default behavior (graphql/preset.ts) exposes no function and no
// generated insert/update/delete; everything exposed is named here. intake_private (secrets)
// is not an exposed schema at all.
import { jsonPgSmartTags } from 'postgraphile/utils';

const hidden = { behavior: '-*' };
/** the tenant column is implied by the API key; it is part of keys, never a field or filter */
const tenantHidden = { tenant: { tags: hidden } };
const filterable = { tags: { behavior: '+filterBy' } };
const orderable = { tags: { behavior: '+orderBy' } };
const filterableAndOrderable = { tags: { behavior: '+filterBy +orderBy' } };

export const IntakeSmartTagsPlugin = jsonPgSmartTags({
  version: 1,
  config: {
    class: {
      'intake.inbound_webhooks': {
        description:
          'An inbound webhook: its URL slug, how senders authenticate, its idempotency rule and its handler. ' +
          'Credentials are never readable: they are shown once, when created or rotated.',
        tags: { unique: ['inbound_webhook_id|@fieldName inboundWebhook', 'slug|@fieldName inboundWebhookBySlug'] },
        attribute: {
          ...tenantHidden,
          is_active: filterable,
          handler_type: filterable,
          auth_type: filterable,
          name: orderable,
          slug: orderable,
          created_at: orderable,
          updated_at: orderable,
          // bookkeeping of the receiver's config cache
          config_version: { tags: { behavior: '-filterBy -orderBy' } },
        },
      },
      'intake.inbound_webhook_deliveries': {
        description: 'One verified request to an inbound webhook (or a replay or test of one), with what became of it.',
        tags: { unique: 'delivery_id|@fieldName inboundWebhookDelivery' },
        attribute: {
          ...tenantHidden,
          // dedupe bookkeeping; the key itself (idempotency_key) is shown
          dedupe_active: { tags: hidden },
          // replay bookkeeping (a digest of the signature that verified the request)
          replay_digest: { tags: hidden },
          // The body and headers are kept apart (intake.inbound_webhook_delivery_bodies, migration
          // 000015): these fields are computed columns of the same names that read them wherever
          // they are (intake.delivery_with_body), and say when retention cut them.
          request_headers: { tags: hidden },
          request_body: { tags: hidden },
          request_body_text: { tags: hidden },
          body_sha256: { tags: hidden },
          body_cut_at: { tags: hidden },
          inbound_webhook_id: filterable,
          dispatch_status: filterable,
          is_replay: filterable,
          is_test: filterable,
          received_at: filterableAndOrderable,
        },
      },
      'intake.inbound_webhook_auth_rejections': {
        description: 'A request refused before it became a delivery (bad credentials, unknown or inactive webhook); no body is kept.',
        tags: { unique: 'rejection_id|@fieldName inboundWebhookAuthRejection' },
        attribute: {
          ...tenantHidden,
          inbound_webhook_id: filterable,
          auth_status: filterable,
          received_at: filterableAndOrderable,
        },
      },
      'intake.workflows': {
        tags: { unique: 'workflow_id|@fieldName workflow' },
        attribute: { ...tenantHidden, is_active: filterable, name: orderable },
      },
      'intake.workflow_runs': {
        tags: { unique: 'run_id|@fieldName workflowRun' },
        attribute: { ...tenantHidden, status: filterable, created_at: orderable },
      },
      'intake.bulk_replays': {
        description:
          'A bulk replay: every delivery matching its filter (null = any) and received before cutoffAt, replayed by a job in chunks. ' +
          'Poll total / processed / failed / status for its progress.',
        tags: { unique: 'bulk_replay_id|@fieldName bulkReplay' },
        attribute: {
          ...tenantHidden,
          // the job's keyset position
          last_received_at: { tags: hidden },
          last_delivery_id: { tags: hidden },
          inbound_webhook_id: filterable,
          status: filterable,
          started_at: orderable,
        },
      },
      'intake.undispatched_deliveries': { tags: hidden },
      // InboundWebhook.versions and previewMapping are graphql/plugins/mappingPreview.ts; the
      // previews table is psql's (intake.request_mapping_preview)
      'intake.inbound_webhook_versions': { tags: hidden },
      'intake.mapping_previews': { tags: hidden },
      'intake.outbound_failing': { tags: hidden },
      'intake.outbound_entity_versions': { tags: hidden },
      'intake.outbound_subscriptions': {
        description:
          'An outbound webhook subscription: matching events are POSTed to its URL, signed per Standard Webhooks. ' +
          'The signing secret is never readable: it is shown once, when created or rotated.',
        tags: { unique: 'subscription_id|@fieldName outboundSubscription' },
        attribute: {
          ...tenantHidden,
          is_active: filterable,
          url: orderable,
          created_at: orderable,
          updated_at: orderable,
        },
      },
      'intake.outbound_events': {
        description: 'An outbound event, written in the transaction of the change that caused it; payload is exactly the body sent.',
        tags: { unique: 'event_id|@fieldName outboundEvent' },
        attribute: {
          ...tenantHidden,
          // the sweeper's bookkeeping
          fanout_enqueued_at: { tags: hidden },
          event_type: filterable,
          entity_type: filterable,
          entity_id: filterable,
          is_test: filterable,
          created_at: orderable,
        },
      },
      'intake.outbound_deliveries': {
        description: 'One event to one subscription: its status, its attempts and when the next one runs.',
        tags: { unique: 'delivery_id|@fieldName outboundDelivery' },
        attribute: {
          ...tenantHidden,
          subscription_id: filterable,
          event_id: filterable,
          event_type: filterable,
          status: filterable,
          created_at: orderable,
        },
      },
      'intake.outbound_attempts': {
        description: 'One HTTP attempt of an outbound delivery: what was sent and what came back (the first 20 KB of the body).',
        tags: { unique: 'attempt_id|@fieldName outboundAttempt' },
        attribute: { ...tenantHidden, attempt_number: orderable, started_at: orderable },
      },
      'intake.outbound_recoveries': {
        description: 'A recovery: the failed deliveries of a subscription since a time, re-sent by a job. Poll total / processed / status.',
        tags: { unique: 'recovery_id|@fieldName outboundRecovery' },
        attribute: {
          ...tenantHidden,
          last_created_at: { tags: hidden },
          last_delivery_id: { tags: hidden },
          subscription_id: filterable,
          status: filterable,
          started_at: orderable,
        },
      },
    },
    constraint: {
      // lookups by (tenant, …) would make clients name their tenant: the virtual unique
      // constraints above (the id alone, under row-level security) replace them
      inbound_webhooks_pkey: { tags: { behavior: '-single' } },
      inbound_webhooks_tenant_slug_key: { tags: { behavior: '-single' } },
      inbound_webhook_deliveries_pkey: { tags: { behavior: '-single' } },
      inbound_webhook_auth_rejections_pkey: { tags: { behavior: '-single' } },
      workflows_pkey: { tags: { behavior: '-single' } },
      workflow_runs_pkey: { tags: { behavior: '-single' } },
      bulk_replays_pkey: { tags: { behavior: '-single' } },
      outbound_subscriptions_pkey: { tags: { behavior: '-single' } },
      outbound_events_pkey: { tags: { behavior: '-single' } },
      outbound_deliveries_pkey: { tags: { behavior: '-single' } },
      outbound_deliveries_tenant_event_id_subscription_id_key: { tags: { behavior: '-single' } },
      outbound_attempts_pkey: { tags: { behavior: '-single' } },
      outbound_recoveries_pkey: { tags: { behavior: '-single' } },
      outbound_deliveries_tenant_event_id_fkey: { tags: { fieldName: 'event', foreignFieldName: 'deliveries' } },
      outbound_deliveries_tenant_subscription_id_fkey: { tags: { fieldName: 'subscription', foreignFieldName: 'deliveries' } },
      outbound_attempts_tenant_delivery_id_fkey: { tags: { fieldName: 'delivery', foreignFieldName: 'attempts' } },
      // attempts are read through their delivery; the subscription's side would be a second log
      outbound_attempts_tenant_subscription_id_fkey: { tags: { fieldName: 'subscription', behavior: '-manyRelation:resource:connection -manyRelation:resource:list' } },
      outbound_recoveries_tenant_subscription_id_fkey: { tags: { fieldName: 'subscription', foreignFieldName: 'recoveries' } },
      // relation names: the composite (tenant, x_id) keys defeat the simplified inflection
      inbound_webhook_deliveries_tenant_inbound_webhook_id_fkey: {
        tags: { fieldName: 'inboundWebhook', foreignFieldName: 'deliveries' },
      },
      inbound_webhook_deliveries_tenant_replayed_from_fkey: {
        // deliveries_replayed_from_idx is partial (where replayed_from is not null), which the
        // index check does not count, but every lookup by replayed_from can use it
        tags: { fieldName: 'replayedFromDelivery', foreignFieldName: 'replays', isIndexed: true },
      },
      inbound_webhook_deliveries_tenant_duplicate_of_fkey: {
        tags: { fieldName: 'duplicateOfDelivery' },
      },
      inbound_webhook_auth_rejections_tenant_inbound_webhook_id_fkey: {
        tags: { fieldName: 'inboundWebhook', foreignFieldName: 'authRejections' },
      },
      workflow_runs_tenant_workflow_id_fkey: {
        tags: { fieldName: 'workflow', foreignFieldName: 'runs' },
      },
      workflow_runs_tenant_delivery_id_fkey: {
        tags: { fieldName: 'delivery', foreignFieldName: 'workflowRuns' },
      },
      bulk_replays_tenant_inbound_webhook_id_fkey: {
        // bulk_replays_webhook_idx is partial (where inbound_webhook_id is not null), like
        // deliveries_replayed_from_idx above
        tags: { fieldName: 'inboundWebhook', foreignFieldName: 'bulkReplays', isIndexed: true },
      },
    },
    procedure: {
      'intake.current_permissions': { tags: { behavior: '+queryField' } },
      // InboundWebhook.lastDeliveryAt (a computed column)
      'intake.inbound_webhooks_last_delivery_at': { tags: { behavior: '+typeField' } },
      // InboundWebhookDelivery.requestHeaders / requestBody / requestBodyText / bodyCutAt / bodySha256
      'intake.inbound_webhook_deliveries_request_headers': { tags: { behavior: '+typeField' } },
      'intake.inbound_webhook_deliveries_request_body': { tags: { behavior: '+typeField' } },
      'intake.inbound_webhook_deliveries_request_body_text': { tags: { behavior: '+typeField' } },
      'intake.inbound_webhook_deliveries_body_cut_at': { tags: { behavior: '+typeField' } },
      'intake.inbound_webhook_deliveries_body_sha256': { tags: { behavior: '+typeField' } },
      'intake.bulk_replay_count': { tags: { behavior: '+queryField' } },
      'intake.start_bulk_replay': { tags: { behavior: '+mutationField', resultFieldName: 'bulkReplay' } },
      'intake.delete_inbound_webhook': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhook' } },
      'intake.set_inbound_webhook_active': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhook' } },
      'intake.start_sample_capture': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhook' } },
      'intake.clear_sample': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhook' } },
      'intake.use_delivery_as_sample': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhook' } },
      'intake.replay_inbound_webhook_delivery': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhookDelivery' } },
      'intake.send_test_delivery': { tags: { behavior: '+mutationField', resultFieldName: 'inboundWebhookDelivery' } },
      // OutboundSubscription.secretExpiresAt (a computed column)
      'intake.outbound_subscriptions_secret_expires_at': { tags: { behavior: '+typeField' } },
      'intake.outbound_recovery_count': { tags: { behavior: '+queryField' } },
      'intake.delete_outbound_subscription': { tags: { behavior: '+mutationField', resultFieldName: 'outboundSubscription' } },
      'intake.send_outbound_test_event': { tags: { behavior: '+mutationField', resultFieldName: 'outboundDelivery' } },
      'intake.retry_outbound_delivery': { tags: { behavior: '+mutationField', resultFieldName: 'outboundDelivery' } },
      'intake.start_outbound_recovery': { tags: { behavior: '+mutationField', resultFieldName: 'outboundRecovery' } },
    },
  },
});
