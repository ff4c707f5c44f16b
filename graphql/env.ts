// Grafast reads GRAPHILE_ENV (or NODE_ENV) once, when it is first imported, and warns when
// neither is set. Intake runs it in production mode unless told otherwise; set
// GRAPHILE_ENV=development for its extra checks and readable errors while developing.
// Imported before anything that imports PostGraphile (graphql/index.ts).
if (process.env.GRAPHILE_ENV === undefined && process.env.NODE_ENV === undefined) {
  process.env.GRAPHILE_ENV = 'production';
}
export {};
