// The web UI's build: `node web/build.ts` (run by `npm install` and `npm start` when stale) and
// `npm run dev` (hot reload, proxying the API to the server on :3000).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));
const api = process.env.INTAKE_DEV_API ?? 'http://localhost:3000';

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: { outDir: path.join(root, 'dist'), emptyOutDir: true, assetsDir: 'assets', sourcemap: false },
  server: {
    port: 5173,
    proxy: { '/graphql': api, '/auth': api, '/api': api },
  },
});
