// What graphql/preset.ts puts on the GraphQL context for the plugins' plans.
import type { Claims } from '../api/auth.ts';
import type { OutboundServiceOptions } from '../api/outbound.ts';
import type { WebhookServiceOptions } from '../api/webhooks.ts';

declare global {
  namespace Grafast {
    interface Context {
      /** who is asking, from the API key (api/auth.ts); absent only when unauthenticated */
      intakeClaims?: Claims;
      intakeOptions?: WebhookServiceOptions;
      intakeOutbound?: OutboundServiceOptions;
    }
  }
}

export {};
