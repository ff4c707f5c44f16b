// The document and its human page: GET /api/v1/openapi.json and /api/v1/openapi.yaml, and
// /api/docs, a Swagger UI page whose assets come from the swagger-ui-dist npm package (served
// from node_modules with express.static: no CDN, so it works offline). No API key needed.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import { openApiDocument, openApiYaml } from '../openapiDocument.ts';

export const DOCS_PATH = '/api/docs';
const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Intake REST API</title>
  <link rel="stylesheet" href="${DOCS_PATH}/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${DOCS_PATH}/assets/swagger-ui-bundle.js"></script>
  <script src="${DOCS_PATH}/assets/swagger-ui-standalone-preset.js"></script>
  <script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

export function docsRoutes(): Router {
  const router = Router();
  const json = JSON.stringify(openApiDocument);
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.type('application/json').send(json);
  });
  router.get('/api/v1/openapi.yaml', (_req, res) => {
    res.type('application/yaml').send(openApiYaml);
  });
  router.get(DOCS_PATH, (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get(`${DOCS_PATH}/init.js`, (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.use(`${DOCS_PATH}/assets`, express.static(swaggerUiDir, { index: false, maxAge: '1h' }));
  return router;
}
