// Type-level contract: the REST handlers' types come from the generated api/openapi.d.ts.
// Compiled by `npm run typecheck` and by test/rest.document.test.ts (tsc on this file alone);
// nothing here runs. Each assertion fails compilation if the link to the document breaks.
import type { components, paths } from '../../api/openapi.d.ts';
import type { HandlerContext, Reply, RequestBody, Schemas } from '../../api/rest/http.ts';
import type { deliveryToApi, webhookToApi } from '../../api/rest/representation.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assert<T extends true>(): T | void {}

// The representations are exactly the document's schemas.
assert<Equal<Schemas, components['schemas']>>();
assert<Equal<ReturnType<typeof webhookToApi>, components['schemas']['InboundWebhookConfig']>>();
assert<Equal<ReturnType<typeof deliveryToApi>, components['schemas']['InboundWebhookDelivery']>>();

// A handler's reply is a documented success status with that status's documented body.
type CreateReply = Reply<'/api/v1/inbound-webhooks', 'post'>;
assert<Equal<CreateReply['status'], 201>>();
assert<Equal<Extract<CreateReply, { status: 201 }>['body'], components['schemas']['InboundWebhookCreated']>>();
assert<Equal<Reply<'/api/v1/inbound-webhooks/{id}', 'delete'>, { status: 204; body: undefined }>>();
assert<Equal<
  Reply<'/api/v1/inbound-webhooks/{id}/deliveries', 'get'>['body'],
  paths['/api/v1/inbound-webhooks/{id}/deliveries']['get']['responses'][200]['content']['application/json']
>>();

// Request bodies and parameters come from the document too.
assert<Equal<RequestBody<'/api/v1/inbound-webhooks', 'post'>, components['schemas']['InboundWebhookCreateInput']>>();
assert<Equal<RequestBody<'/api/v1/inbound-webhooks/{id}', 'put'>, components['schemas']['InboundWebhookUpdateInput']>>();
assert<Equal<HandlerContext<'/api/v1/inbound-webhooks/{id}/deliveries/{deliveryId}', 'get'>['params'], { id: string; deliveryId: string }>>();
assert<Equal<keyof HandlerContext<'/api/v1/inbound-webhooks/{id}/deliveries', 'get'>['query'], 'status' | 'from' | 'to' | 'limit' | 'cursor'>>();

// An undocumented status or body does not compile.
// @ts-expect-error 200 is not a documented success of create
export const wrongStatus: CreateReply = { status: 200, body: {} as components['schemas']['InboundWebhookCreated'] };
// @ts-expect-error a webhook without its documented fields is refused
export const wrongBody: Reply<'/api/v1/inbound-webhooks/{id}', 'get'> = { status: 200, body: { id: 'x' } };
