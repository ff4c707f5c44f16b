import type { SignatureFormatName } from '../../../core/webhookConfig.ts';
import type { SignatureFormat } from '../types.ts';
import { base64Format } from './base64.ts';
import { githubFormat } from './github.ts';
import { hexFormat } from './hex.ts';
import { slackFormat } from './slack.ts';
import { standardWebhooksFormat } from './standardWebhooks.ts';
import { stripeFormat } from './stripe.ts';

export const signatureFormats: Record<SignatureFormatName, SignatureFormat> = {
  hex: hexFormat,
  base64: base64Format,
  github: githubFormat,
  stripe: stripeFormat,
  slack: slackFormat,
  'standard-webhooks': standardWebhooksFormat,
};
