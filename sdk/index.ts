// @intake/sdk: a typed client for the Intake REST API. The types (./openapi.d.ts) are generated
// from api/openapi.yaml by `npm run sdk:generate`; the requests are made by openapi-fetch, so
// every path, parameter, body and response is checked by the compiler against the document.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, paths } from './openapi.d.ts';

export type { components, paths };
export type Schemas = components['schemas'];
export type InboundWebhookConfig = Schemas['InboundWebhookConfig'];
export type InboundWebhookCreateInput = Schemas['InboundWebhookCreateInput'];
export type InboundWebhookUpdateInput = Schemas['InboundWebhookUpdateInput'];
export type InboundWebhookDelivery = Schemas['InboundWebhookDelivery'];
export type InboundActionDefinition = Schemas['InboundActionDefinition'];
export type OutboundSubscription = Schemas['OutboundSubscription'];
export type OutboundSubscriptionInput = Schemas['OutboundSubscriptionInput'];
export type OutboundDelivery = Schemas['OutboundDelivery'];
export type OutboundDeliveryWithAttempts = Schemas['OutboundDeliveryWithAttempts'];
export type OutboundAttempt = Schemas['OutboundAttempt'];
export type OutboundEvent = Schemas['OutboundEvent'];
export type OutboundRecovery = Schemas['OutboundRecovery'];
export type ApiError = Schemas['Error'];

export interface IntakeClientOptions {
  /** where Intake runs, e.g. http://localhost:3000 */
  baseUrl: string;
  /** an API key (`intake api-key create`); sent as `Authorization: Bearer <key>` */
  apiKey: string;
  /** a fetch implementation (default: the global one) */
  fetch?: ClientOptions['fetch'];
  /** extra headers for every request */
  headers?: Record<string, string>;
}

export type IntakeClient = Client<paths, 'application/json'>;

/**
 * A client for one API key. Calls are `client.GET('/api/v1/inbound-webhooks/{id}', {params: {path: {id}}})`
 * and answer `{data}` on success or `{error}` (the API's `{"error": {code, message, details}}`).
 */
export function createIntakeClient(options: IntakeClientOptions): IntakeClient {
  return createClient<paths, 'application/json'>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { ...options.headers, authorization: `Bearer ${options.apiKey}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
