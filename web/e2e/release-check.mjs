// Loads an unpacked release of the explorer in headless Chromium, served from a sub-folder as GitHub
// Pages or any static host would (so every URL in the page must be relative), opens a bundled run in
// the replay and checks that its charts are drawn without a page error.
// Usage: node web/e2e/release-check.mjs SITE FOLDER   (the explorer unpacked in SITE/FOLDER/)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launchChromium } from './browser.mjs';
import { serve } from './serve.mjs';

const [site, folder] = process.argv.slice(2);
if (!site || !folder) {
  console.error('usage: node web/e2e/release-check.mjs SITE FOLDER');
  process.exit(2);
}
assert.ok(fs.existsSync(path.join(site, folder, 'index.html')), `${site}/${folder}/index.html missing`);

const server = await serve(site, 0);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const errors = [];
  const missing = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
  const base = `http://127.0.0.1:${server.address().port}/${folder}/`;
  await page.goto(`${base}?view=replay`);
  await page.waitForSelector('#r-example-0', { state: 'visible', timeout: 60000 });
  await page.click('#r-example-0');
  await page.waitForSelector('#r-policy-gaussian_entropy', { timeout: 60000 });
  await page.waitForFunction(() => Number(document.getElementById('r-policy-gaussian_entropy')?.dataset.draws) > 0);
  const runs = await page.$$eval('#r-runs li', (li) => li.length);
  assert.ok(runs > 0, 'the bundled runs are listed');
  assert.deepEqual(missing, [], 'every file the page asked for was served from the sub-folder');
  assert.deepEqual(errors, []);
  console.log(`release-check: the explorer under /${folder}/ opened ${runs} bundled runs and drew their charts`);
} finally {
  await browser.close();
  server.close();
}
