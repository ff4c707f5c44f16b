// A clone of this repository is all a user has: nothing the code, tests or benchmark read may
// live beside it. Every file literal resolved against a module's own URL, or joined to the
// project root, must stay inside the project; every sender payload the tests use is stored in
// test/fixtures/samples with its provenance row in that folder's README.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../core/env.ts';

const SOURCE_DIRS = ['api', 'bench', 'cli', 'core', 'db', 'graphql', 'receiver', 'sdk', 'test', 'worker'];
const SAMPLES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'samples');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|tsx|mjs|js)$/.test(entry)) out.push(full);
  }
  return out;
}

const files = SOURCE_DIRS.filter((d) => existsSync(path.join(PROJECT_ROOT, d))).flatMap((d) => sourceFiles(path.join(PROJECT_ROOT, d)));
const inside = (p: string) => !path.relative(PROJECT_ROOT, p).startsWith('..');

describe('the repository is self-contained', () => {
  it('every new URL(literal, import.meta.url) resolves inside the project', () => {
    const outside: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new URL\(\s*[`'"]([^`'"$]+)[^`'"]*[`'"]\s*,\s*import\.meta\.url\s*\)/g)) {
        const target = fileURLToPath(new URL(m[1]!, pathToFileURL(file)));
        if (!inside(target)) outside.push(`${path.relative(PROJECT_ROOT, file)}: ${m[1]}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(outside).toEqual([]);
  });

  it('nothing joins a parent directory to the project root', () => {
    const offenders = files.filter((f) => /PROJECT_ROOT\s*,\s*['"]\.\.['"]/.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(PROJECT_ROOT, f))).toEqual([]);
  });

  it('every stored sample parses and has a provenance row; every sample a test names is stored', () => {
    const stored = readdirSync(SAMPLES).filter((f) => f.endsWith('.json'));
    const readme = readFileSync(path.join(SAMPLES, 'README.md'), 'utf8');
    for (const name of stored) {
      expect(() => JSON.parse(readFileSync(path.join(SAMPLES, name), 'utf8')), name).not.toThrow();
      expect(readme, name).toContain(`| \`${name}\` |`);
    }
    const named = new Set<string>();
    for (const file of files.filter((f) => f.includes(`${path.sep}test${path.sep}`))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/sample\(\s*'([a-z0-9_.-]+)'\s*\)/g)) {
        named.add(m[1]!.endsWith('.json') ? m[1]! : `${m[1]!}.json`);
      }
    }
    expect(named.size).toBeGreaterThan(15);
    expect([...named].filter((n) => !stored.includes(n))).toEqual([]);
  });
});
