// The action registry as data, for the handler editor: every action with its typed target
// fields (the same list as `intake actions list` and docs/actions.md).
import { constant } from 'postgraphile/grafast';
import { extendSchema } from 'postgraphile/utils';
import { listActions } from '../../worker/actions/index.ts';

export const IntakeRegistryPlugin = extendSchema(() => ({
  typeDefs: /* GraphQL */ `
    """A field an action takes; its value is a JSONata expression over the request body."""
    type InboundActionTargetField {
      name: String!
      """string, int, number, boolean, enum, datetime, ref or list"""
      type: String!
      required: Boolean!
      description: String!
      enumValues: [String!]
      """for ref fields: the entity type it refers to"""
      refEntity: String
    }

    """An action a direct_action webhook can run (handler.action)."""
    type InboundAction {
      name: String!
      entityType: String!
      displayName: String!
      description: String!
      targetFields: [InboundActionTargetField!]!
    }

    extend type Query {
      """Every registered action, sorted by entity type then name."""
      inboundActions: [InboundAction!]!
    }
  `,
  objects: {
    Query: {
      plans: {
        inboundActions() {
          return constant(listActions());
        },
      },
    },
  },
}));
