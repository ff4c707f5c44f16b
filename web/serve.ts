// Serves the built UI (web/dist) from the Express app: the UI's paths answer index.html (so deep
// links and reloads work), `/` goes to /settings/webhooks, hashed assets are cached for a year,
// the HTML never. core/ only calls mountWeb; it knows nothing else about the UI.
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import { WEB_DIST } from './build.ts';

export const UI_HOME = '/settings/webhooks';
/** GETs under these answer index.html: the client-side router decides what to show. */
const UI_PATHS = ['/settings/webhooks', '/settings/webhooks/{*rest}', '/setup', '/sign-in'];

export function mountWeb(app: Express, dist = WEB_DIST): void {
  app.get('/', (_req, res) => res.redirect(302, UI_HOME));
  app.use(
    '/assets',
    express.static(path.join(dist, 'assets'), {
      index: false,
      fallthrough: false,
      setHeaders: (res) => res.setHeader('Cache-Control', 'public, max-age=31536000, immutable'),
    }),
  );
  const sendIndex = (_req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'no-store');
    let html: string;
    try {
      html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    } catch {
      res.status(503).type('text/plain').send('The web UI is not built. Run `node web/build.ts` (npm start does it when needed).\n');
      return;
    }
    res.type('html').send(html);
  };
  for (const route of UI_PATHS) app.get(route, sendIndex);
}
