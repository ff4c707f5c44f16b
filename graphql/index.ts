// Mounts the GraphQL API on the receiver's Express app: POST /graphql (an API key or the session
// cookie with its CSRF token required, 401/403 JSON otherwise: api/auth.ts) and the Ruru GraphiQL page at /graphiql (a static page; its requests to
// /graphql carry the key the user enters in its headers editor).
import './env.ts';
import type { Express } from 'express';
import { postgraphile } from 'postgraphile';
import { grafserv } from 'postgraphile/grafserv/express/v4';
import { requireAuth } from '../api/auth.ts';
import { GRAPHIQL_PATH, GRAPHQL_PATH, makePreset, type GraphqlOptions } from './preset.ts';

export { GRAPHIQL_PATH, GRAPHQL_PATH };

export interface MountedGraphql {
  release(): Promise<void>;
}

export async function mountGraphql(app: Express, options: GraphqlOptions): Promise<MountedGraphql> {
  const pgl = postgraphile(makePreset(options));
  const serv = pgl.createServ(grafserv);
  // Build the schema now, so a broken schema fails startup rather than the first request.
  await pgl.getSchema();
  app.use(GRAPHQL_PATH, requireAuth(options.pool, options.sessions ? { sessions: options.sessions } : {}));
  await serv.addTo(app, null, false);
  return {
    async release() {
      await pgl.release(); // releases the grafserv instance too
    },
  };
}
