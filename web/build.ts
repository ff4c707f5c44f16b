// Builds web/dist when it is missing or older than its sources, so `npm install` and `npm start`
// need no manual step (and tests on a clean clone build it themselves). `--force` always builds.
// Run as a script (`node web/build.ts`) or call ensureWebBuild().
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = path.dirname(fileURLToPath(import.meta.url));
export const WEB_DIST = path.join(WEB_ROOT, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.ts', 'tsconfig.json'];

function newestMtime(file: string): number {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(file)) newest = Math.max(newest, newestMtime(path.join(file, entry)));
  return newest;
}

export function webBuildIsStale(): boolean {
  const built = fs.statSync(path.join(WEB_DIST, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestMtime(path.join(WEB_ROOT, source)) > built.mtimeMs);
}

export async function ensureWebBuild(options: { force?: boolean; quiet?: boolean } = {}): Promise<boolean> {
  if (!options.force && !webBuildIsStale()) return false;
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB_ROOT, 'vite.config.ts'), logLevel: options.quiet ? 'warn' : 'info' });
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  ensureWebBuild({ force }).then(
    (built) => {
      if (!built) process.stdout.write('web/dist is up to date\n');
    },
    (error) => {
      process.stderr.write(`web build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
