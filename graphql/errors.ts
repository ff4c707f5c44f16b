// GraphQL errors a UI can act on: extensions.code is VALIDATION, FORBIDDEN, NOT_FOUND,
// CONFLICT or BAD_EXPRESSION (api/errors.ts maps validators' and Postgres' errors), with a
// message meant for a person. Anything else is masked as grafserv does by default (logged
// with an id, the client sees only the id).
import { defaultMaskError } from 'postgraphile/grafserv';
import { GraphQLError } from 'postgraphile/graphql';
import { toApiError } from '../api/errors.ts';

export function maskError(error: GraphQLError): GraphQLError {
  const known = toApiError(error.originalError);
  if (known) {
    return new GraphQLError(known.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      originalError: error.originalError,
      extensions: { code: known.code, ...(known.details ? { details: known.details } : {}) },
    });
  }
  return defaultMaskError(error);
}
