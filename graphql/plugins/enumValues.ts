// Postgres enum labels (e.g. intake.replay_configuration's 'current', 'dispatched', what a DBA
// types in psql) become GraphQL's conventional upper-case enum values (CURRENT, DISPATCHED).
export const IntakeEnumValuesPlugin: GraphileConfig.Plugin = {
  name: 'IntakeEnumValuesPlugin',
  version: '1.0.0',
  inflection: {
    replace: {
      enumValue(previous, _options, value, codec) {
        return previous!(value, codec).toUpperCase();
      },
    },
  },
};
