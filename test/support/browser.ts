// The web UI's end-to-end tests in a real Chromium (Debian's /usr/bin/chromium via playwright-core;
// never a browser download): launching it, pages at 1280×800 in en-US and UTC with a clock set ahead,
// screenshots to test-results/screens/, and the checks every screen gets — axe-core, an id on
// every interactive element, no untranslated text in the pseudo-locale.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../core/env.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENS = path.join(PROJECT_ROOT, 'test-results', 'screens');
const AXE = fs.readFileSync(path.join(PROJECT_ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export async function launchChromium(): Promise<Browser> {
  fs.mkdirSync(SCREENS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** A port known before the server starts, so the URLs the UI shows (and the screenshots) carry a real one. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

export async function newContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', timezoneId: 'UTC', colorScheme: 'light' });
}

export async function newPage(context: BrowserContext, fixedNow: Date): Promise<Page> {
  const p = await context.newPage();
  // the clock starts there and runs on: a frozen Date.now (setFixedTime) stops whatever waits for
  // time to pass by reading it, CodeMirror's linter among them, which then never runs
  await p.clock.setSystemTime(fixedNow);
  p.on('pageerror', (error) => console.error('page error:', error.message));
  return p;
}

export async function screen(p: Page, name: string): Promise<void> {
  await p.waitForTimeout(250); // let transitions settle
  await p.screenshot({ path: path.join(SCREENS, `${name}.png`) });
}

/** Serious and critical axe-core violations on the page as it is now. */
export async function axeProblems(p: Page): Promise<string[]> {
  if (!(await p.evaluate(() => 'axe' in window))) await p.addScriptTag({ content: AXE });
  const violations = await p.evaluate(async () => {
    const result = await (window as any).axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: any) => n.target.join(' ')).slice(0, 3) }));
  });
  return violations.filter((v: any) => v.impact === 'serious' || v.impact === 'critical').map((v: any) => `${v.id}: ${v.nodes.join(', ')}`);
}

/** Interactive elements without an id (React Aria's generated ids count: they are ids). */
export async function withoutId(p: Page): Promise<string[]> {
  return p.evaluate(() =>
    [...document.querySelectorAll('button, a, input, select, textarea, [role=button], [role=link], [role=tab], [role=menuitem], [role=switch], [role=option], [role=checkbox]')]
      // React Aria's hidden <select> behind each Select (for forms and autofill) is aria-hidden
      .filter((el) => !el.id && !el.closest('[aria-hidden="true"]'))
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Visible text outside [translate=no] that is not in pseudo-locale form. */
export async function untranslated(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    const bad: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const text = (node.textContent ?? '').trim();
      const el = node.parentElement;
      if (!text || !el || el.closest('[translate="no"], script, style')) continue;
      if (el.getClientRects().length === 0 || getComputedStyle(el).visibility === 'hidden') continue;
      if (/[A-Za-z]{2,}/.test(text)) bad.push(text);
    }
    for (const el of document.querySelectorAll('[aria-label]')) {
      const label = el.getAttribute('aria-label') ?? '';
      // React Aria's own visually hidden dismiss buttons carry its built-in (English) strings
      if (el.parentElement && getComputedStyle(el.parentElement).clipPath !== 'none') continue;
      if (!el.closest('[translate="no"]') && /[A-Za-z]{2,}/.test(label.replace(/\[[^\]]*\]/g, ''))) bad.push(`aria-label=${label}`);
    }
    return bad;
  });
}

/** Opens a Select by its trigger's id and picks the option with this exact name. */
export async function choose(p: Page, trigger: string, option: string): Promise<void> {
  await p.click(`#${trigger}`);
  await p.getByRole('option', { name: option, exact: true }).click();
}

/** A GraphQL request from inside the page, with its session cookie and CSRF token (as a forged request would be). */
export async function graphqlInPage(p: Page, query: string, variables: Record<string, unknown> = {}) {
  return p.evaluate(
    async ({ query, variables }) => {
      const session = await (await fetch('/auth/session')).json();
      const res = await fetch('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: await res.json() };
    },
    { query, variables },
  );
}
