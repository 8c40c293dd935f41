// The replay page under load, in real headless Chromium: a 50 MB run log, a log of a million
// records, one 10 MB line and a binary file named .jsonl. Each either opens (charts downsampled, the
// page painting progress while it reads) or is refused with a message naming the file and why; the
// page keeps working after each. The longest animation frame during each load is measured and kept
// in target/e2e-artifacts/replay-load.json (a figure, not a pass/fail threshold: this machine is shared).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { start, repo, artifacts } from './browser.mjs';

const figures = {};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'era-replay-load-'));
let session;

before(async () => {
  session = await start();
});

after(async () => {
  await session?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.writeFileSync(path.join(artifacts, 'replay-load.json'), JSON.stringify(figures, null, 2));
  console.log('replay under load:', JSON.stringify(figures));
});

// A real header (SAC-ERA on HalfCheetah-v5), so the logs differ from era's only in their records.
const header = fs.readFileSync(path.join(repo, 'assets', 'runs', 'sac-era-halfcheetah.jsonl'), 'utf8').split('\n')[0];

/** Writes `name` in the temporary folder from its lines; returns its path. */
function write(name, lines) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

// Before the page's own code: the longest animation frame, and every "reading … %" it shows.
const WATCH = () => {
  window.__longest = 0;
  window.__progress = new Set();
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
  }).observe({ type: 'long-animation-frame', buffered: true });
  new MutationObserver(() => {
    const m = /(\d+) %/.exec(document.getElementById('r-reading')?.textContent ?? '');
    if (m) window.__progress.add(Number(m[1]));
  }).observe(document, { subtree: true, childList: true, characterData: true });
};

/** Opens `file` in a fresh replay page and waits for `done`; returns the page and what was measured. */
async function load(file, done) {
  const { page, errors } = await session.open('?view=replay', '#r-files', { init: WATCH });
  await page.evaluate(() => { window.__longest = 0; });
  const t0 = Date.now();
  await page.setInputFiles('#r-files', file);
  await page.waitForSelector(done, { timeout: 300000 });
  const ms = Date.now() - t0;
  // Let the charts' drawing frames finish before reading the longest frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const longest = await page.evaluate(() => window.__longest);
  const progress = await page.evaluate(() => [...window.__progress].sort((a, b) => a - b));
  return { page, errors, ms, longest: Math.round(longest), progress };
}

/** The page still works: Clear empties it and a bundled example opens with its charts. */
async function stillWorks(page) {
  await page.click('#r-clear');
  await page.waitForFunction(() => !document.querySelector('#r-runs li') && !document.querySelector('.errors li'));
  await page.click('#r-example-2');
  await page.waitForSelector('#r-eval-pass-1');
}

const RECORD_KEYS = ['charts/episodic_return', 'charts/episodic_length', 'losses/critic', 'losses/actor', 'losses/q1_value',
  'losses/q2_value', 'policy/gaussian_entropy', 'policy/std_mean', 'policy/std_min', 'policy/std_max', 'policy/era_delta',
  'eval/return_mean', 'charts/sps', 'losses/alpha', 'policy/log_prob', 'charts/updates'];

test('a 50 MB run log opens with every metric charted while the page paints its progress', async () => {
  const lines = [header];
  let bytes = header.length;
  for (let step = 1; bytes < 50e6; step++) {
    const metrics = Object.fromEntries(RECORD_KEYS.map((k, i) => [k, Math.sin(step / 500 + i) * 100 + i]));
    const line = JSON.stringify({ type: 'record', step, wall_s: step / 1000, metrics });
    lines.push(line);
    bytes += line.length + 1;
  }
  const file = write('fifty-mb.jsonl', lines);
  const { page, errors, ms, longest, progress } = await load(file, '#r-policy-gaussian_entropy');
  await page.check('#r-all');
  await page.waitForSelector('#r-losses-critic');
  figures.log_50mb = { records: lines.length - 1, mb: +(fs.statSync(file).size / 1e6).toFixed(1), load_ms: ms, longest_frame_ms: longest, progress_shown: progress.length };
  assert.match(await page.textContent('#r-runs'), new RegExp(`unfinished, ${lines.length - 1} records`));
  assert.ok(progress.some((p) => p > 0 && p < 100), `progress was painted while reading: ${progress}`);
  const charts = await page.$$eval('#r-charts canvas', (cs) => cs.map((c) => Number(c.dataset.draws)));
  assert.equal(charts.length, RECORD_KEYS.length);
  assert.ok(charts.every((d) => d > 0), 'every chart drawn');
  await stillWorks(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a log of a million records opens, its chart downsampled and its readout exact', async () => {
  const lines = [header];
  for (let step = 1; step <= 1_000_000; step++) {
    lines.push(`{"type":"record","step":${step},"wall_s":${step / 1000},"metrics":{"policy/gaussian_entropy":${step % 1000}}}`);
  }
  const file = write('million.jsonl', lines);
  const { page, errors, ms, longest, progress } = await load(file, '#r-policy-gaussian_entropy');
  figures.log_1m_records = { mb: +(fs.statSync(file).size / 1e6).toFixed(1), load_ms: ms, longest_frame_ms: longest, progress_shown: progress.length };
  assert.match(await page.textContent('#r-runs'), /unfinished, 1000000 records/);
  assert.ok(progress.some((p) => p > 0 && p < 100), `progress was painted while reading: ${progress}`);
  // The cursor sits at the last step; the readout comes from the full column: 1 000 000 mod 1000 = 0,
  // and at step 999 999 it is 999.
  assert.match(await page.textContent('.replay-chart .values'), /: 0\.0000$/);
  await page.$eval('#r-step', (e) => { e.value = '999999'; e.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.waitForFunction(() => /: 999\.0000$/.test(document.querySelector('.replay-chart .values').textContent));
  await stillWorks(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a 10 MB line is refused with its line number and size, and the page keeps working', async () => {
  const metrics = Object.fromEntries(Array.from({ length: 400_000 }, (_, i) => [`m/${i}`, i]));
  const big = JSON.stringify({ type: 'record', step: 1, wall_s: 0, metrics });
  const file = write('ten-mb-line.jsonl', [header, big.padEnd(10_000_000, ' ')]);
  const { page, errors, ms, longest } = await load(file, '.errors li');
  figures.line_10mb = { load_ms: ms, longest_frame_ms: longest };
  assert.match(await page.textContent('.errors'), /ten-mb-line\.jsonl:2: line of 10\.0 MB; run-log lines are at most 1 MB/);
  await stillWorks(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a binary file named .jsonl is refused as not text, and the page keeps working', async () => {
  // A deterministic byte soup (a linear congruential generator), NULs and invalid UTF-8 included.
  const bytes = Buffer.alloc(1 << 20);
  let x = 12345;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  const file = path.join(dir, 'checkpoint.jsonl');
  fs.writeFileSync(file, bytes);
  const { page, errors, ms, longest } = await load(file, '.errors li');
  figures.binary_1mb = { load_ms: ms, longest_frame_ms: longest };
  assert.match(await page.textContent('.errors'), /checkpoint\.jsonl:0: not a text file: byte \d+ is (not UTF-8|a NUL)/);
  await stillWorks(page);
  assert.deepEqual(errors, []);
  await page.close();
});
