// Date-range filters for the delivery log and the rejection log (and the outbound event and
// delivery logs: createdFrom / createdBefore on created_at): `condition: {receivedFrom,
// receivedBefore}` (from inclusive, before exclusive), beside the generated equality conditions
// (webhook, status, …). Combined with orderBy RECEIVED_AT_DESC the connection's cursors are
// keyset cursors (received_at plus the primary key), so pages stay stable while new
// deliveries arrive.
import { addPgTableCondition } from 'postgraphile/utils';

function receivedCondition(tableName: string, fieldName: string, operator: '>=' | '<', description: string, column = 'received_at'): GraphileConfig.Plugin {
  return addPgTableCondition(
    { schemaName: 'intake', tableName },
    fieldName,
    (build) => ({ description, type: build.getInputTypeByName('Datetime') }),
    (value, { sql, sqlTableAlias }) => {
      if (value == null) return null;
      const at = sql`${sql.value(String(value))}::timestamptz`;
      const col = sql.identifier(column);
      return operator === '>=' ? sql`${sqlTableAlias}.${col} >= ${at}` : sql`${sqlTableAlias}.${col} < ${at}`;
    },
  );
}

export const IntakeConditionsPreset: GraphileConfig.Preset = {
  plugins: [
    receivedCondition('inbound_webhook_deliveries', 'receivedFrom', '>=', 'Only deliveries received at or after this time.'),
    receivedCondition('inbound_webhook_deliveries', 'receivedBefore', '<', 'Only deliveries received before this time.'),
    receivedCondition('inbound_webhook_auth_rejections', 'receivedFrom', '>=', 'Only rejections at or after this time.'),
    receivedCondition('inbound_webhook_auth_rejections', 'receivedBefore', '<', 'Only rejections before this time.'),
    receivedCondition('outbound_events', 'createdFrom', '>=', 'Only events at or after this time.', 'created_at'),
    receivedCondition('outbound_events', 'createdBefore', '<', 'Only events before this time.', 'created_at'),
    receivedCondition('outbound_deliveries', 'createdFrom', '>=', 'Only deliveries created at or after this time.', 'created_at'),
    receivedCondition('outbound_deliveries', 'createdBefore', '<', 'Only deliveries created before this time.', 'created_at'),
  ],
};
