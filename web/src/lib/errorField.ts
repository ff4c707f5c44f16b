// Which form field a server error belongs to. The API names it in extensions.details.field
// (BAD_EXPRESSION, auth's VALIDATION) or as the message's leading path ("handler.field_mapping.
// title: …", zod's formatZodError), and a slug CONFLICT is about the slug.
export interface ServerErrorLike {
  code: string;
  message: string;
  field?: string | undefined;
}

/** The dialog's field key for a server error, or null when it names none (shown at the top). */
export function formFieldOf(error: ServerErrorLike): string | null {
  if (error.code === 'CONFLICT' && /slug/.test(error.message)) return 'slug';
  const path = error.field ?? /^([a-z_][a-z0-9_.]*):\s/.exec(error.message)?.[1];
  if (!path) return null;
  const parts = path.split('.');
  const [head, second, third] = parts;
  switch (head) {
    case 'name':
    case 'slug':
    case 'description':
    case 'secret':
      return head;
    case 'idempotency_window_seconds':
      return 'idempotencyWindow';
    case 'rate_limit_per_minute':
      return 'rateLimit';
    case 'idempotency':
      return 'idempotencyValue';
    case 'auth':
      switch (second) {
        case 'cidrs':
          return 'cidrs';
        case 'signature_format':
          return 'signatureFormat';
        case 'signature_header':
          return 'signatureHeader';
        case 'timestamp_header':
          return 'timestampHeader';
        case 'tolerance_seconds':
          return 'tolerance';
        case 'header':
          return 'tokenHeader';
        case 'query_param':
          return 'queryParam';
        default:
          return 'authType';
      }
    case 'handler':
    case 'field_mapping':
      if (head === 'field_mapping') return second ? `mapping-${second}` : 'action';
      if (second === 'field_mapping') return third ? `mapping-${third}` : 'action';
      if (second === 'workflow_id') return 'workflow';
      return 'action';
    default:
      return null;
  }
}

/** The message without the field path the form already shows it beside. */
export function messageWithoutPath(message: string): string {
  return message.replace(/^[a-z_][a-z0-9_.]*:\s/, '');
}
