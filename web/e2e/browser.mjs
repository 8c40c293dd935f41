// What every browser test file shares: the built page served from dist/, headless Chromium, and
// where screenshots and measured figures go (target/e2e-artifacts/).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

export const repo = path.resolve(import.meta.dirname, '../..');
export const dist = path.join(repo, 'dist');
export const artifacts = path.join(repo, 'target', 'e2e-artifacts');

function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (p && fs.existsSync(p)) return p;
  }
  throw new Error('no Chromium found: run scripts/setup.sh (it installs Debian\'s chromium) or set CHROMIUM');
}

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** Headless Chromium with the flags every test uses, plus `extra`. */
export function launchChromium(extra = []) {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: [...FLAGS, ...extra] });
}

/** Serves dist/ and starts Chromium; `close()` stops both. */
export async function start() {
  assert.ok(fs.existsSync(path.join(dist, 'index.html')), 'dist/index.html missing: run `trunk build --release` first');
  fs.mkdirSync(artifacts, { recursive: true });
  const server = await serve(dist, 0);
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  return {
    base,
    browser,
    /** A fresh page at `query`, waiting until the app has rendered `selector`. */
    async open(query, selector, { viewport = { width: 1280, height: 900 }, init } = {}) {
      const page = await browser.newPage({ viewport });
      if (init) await page.addInitScript(init);
      const errors = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      const t0 = Date.now();
      await page.goto(`${base}/${query}`);
      await page.waitForSelector(selector, { state: 'visible' });
      return { page, errors, ms: Date.now() - t0 };
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}
