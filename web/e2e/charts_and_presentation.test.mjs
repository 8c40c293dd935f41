// Charts a teacher can project and take away, in real headless Chromium: every category labelled,
// a title, description and icon, presentation mode through the URL, PNG/SVG/CSV downloads checked
// by content, seeds of one setting drawn as a mean with a band, and each view loading without a
// console error or a failed request (screenshots at desktop and phone width in target/e2e-artifacts/).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { start, repo, artifacts } from './browser.mjs';

let session;

before(async () => {
  session = await start();
});

after(async () => {
  await session?.close();
});

const labels = (page, id) => page.textContent(`#${id}-labels`);

test('every category is labelled, and the page has a title, a description and an icon', async () => {
  const { page, errors } = await session.open('?view=gaussian&s=1,-2,0.5,3,0,-1', '#g-sigma');
  await page.waitForFunction(() => /categories: /.test(document.getElementById('g-sigma-labels')?.textContent ?? ''));
  assert.equal(await labels(page, 'g-sigma'), 'categories: a1, a2, a3, a4, a5, a6');
  assert.equal(await labels(page, 'g-entropy'), 'categories: Gaussian entropy');
  await page.click('#tab-llm');
  await page.waitForFunction(() => /categories: /.test(document.getElementById('l-token-labels')?.textContent ?? ''));
  assert.match(await labels(page, 'l-token'), /^categories: t1, t2, t3, t4, t5, t6, t7, t8/);
  assert.match(await page.title(), /era explorer/);
  assert.match(await page.$eval('meta[name="description"]', (m) => m.content), /ERA/);
  const icon = await page.$eval('link[rel="icon"]', (l) => l.href);
  const response = await page.request.get(icon);
  assert.equal(response.status(), 200);
  assert.match(await response.text(), /<svg/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('presentation mode enlarges the type, folds explanations away and lives in the URL', async () => {
  const { page, errors } = await session.open('?view=softmax&present=1', '#s-readout');
  assert.equal(await page.$eval('html', (h) => h.classList.contains('present')), true);
  assert.equal(await page.isVisible('.lede'), false);
  assert.equal(await page.isVisible('#s-readout'), true, 'the readout a lesson uses stays');
  assert.equal(await page.isVisible('#s-h0'), true, 'so do the sliders');
  const big = await page.$eval('html', (h) => parseFloat(getComputedStyle(h).fontSize));
  await page.screenshot({ path: path.join(artifacts, 'present-softmax.png'), fullPage: true });
  await page.click('#present');
  await page.waitForFunction(() => !document.documentElement.classList.contains('present'));
  const normal = await page.$eval('html', (h) => parseFloat(getComputedStyle(h).fontSize));
  assert.ok(big >= 1.3 * normal, `${big} px against ${normal} px`);
  assert.doesNotMatch(page.url(), /present=1/);
  await page.click('#present');
  await page.waitForFunction(() => /present=1/.test(location.search));
  assert.deepEqual(errors, []);
  await page.close();
});

test('each chart downloads as PNG, SVG and CSV holding what it shows', async () => {
  const { page, errors } = await session.open('?view=softmax&z=6,1,0.5,-2&h0=0.6', '#s-sweep-csv');
  await page.waitForFunction(() => Number(document.getElementById('s-sweep')?.dataset.draws) > 0);
  const take = async (id) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
    return { name: download.suggestedFilename(), bytes: fs.readFileSync(await download.path()) };
  };
  const csv = await take('s-sweep-csv');
  assert.equal(csv.name, 's-sweep.csv');
  const rows = csv.bytes.toString('utf8').trim().split('\n');
  assert.equal(rows[0], 'series,scale s: logits s·z (log axis),entropy (nats)');
  assert.equal(rows.filter((r) => r.startsWith('ERA exact,')).length, 61, 'the 61 points of the sweep');
  assert.ok(rows.includes('reference,H₀,0.6'), rows.slice(-2).join(' | '));
  const svg = await take('s-sweep-svg');
  assert.equal(svg.name, 's-sweep.svg');
  const text = svg.bytes.toString('utf8');
  assert.match(text, /^<svg/);
  for (const s of ['plain softmax', 'ERA exact', 'entropy (nats)']) assert.ok(text.includes(s), `the SVG has "${s}"`);
  const png = await take('s-probs-png');
  assert.equal(png.name, 's-probs.png');
  assert.deepEqual([...png.bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const bars = await take('s-probs-csv');
  assert.match(bars.bytes.toString('utf8'), /^category,softmax\(z\),"softmax\(z′\), ERA"\nclass 0,/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('seeds of one setting are drawn as their mean with a band, and one by one on demand', async () => {
  const { page, errors } = await session.open('?view=replay', '#r-files');
  const text = fs.readFileSync(path.join(repo, 'assets', 'runs', 'sac-era-pendulum-s0.jsonl'), 'utf8');
  const baseline = fs.readFileSync(path.join(repo, 'assets', 'runs', 'sac-pendulum-s0.jsonl'));
  // Seeds 1 and 2 of the same setting: the header's seed changed and every return moved by ±100.
  const seed = (s, shift) =>
    text.replace('"seed":0', `"seed":${s}`).replace(/"charts\/episodic_return":(-?[\d.]+)/g, (_, v) => `"charts/episodic_return":${Number(v) + shift}`);
  await page.setInputFiles('#r-files', [
    { name: 'era-0.jsonl', mimeType: 'application/json', buffer: Buffer.from(text) },
    { name: 'era-1.jsonl', mimeType: 'application/json', buffer: Buffer.from(seed(1, 100)) },
    { name: 'era-2.jsonl', mimeType: 'application/json', buffer: Buffer.from(seed(2, -100)) },
    { name: 'sac-0.jsonl', mimeType: 'application/json', buffer: baseline },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 4);
  await page.waitForSelector('#r-charts-episodic_return');
  const readout = () => page.textContent('.replay-chart:has(#r-charts-episodic_return) .values');
  assert.match(await readout(), /sac-era · Pendulum-v1 · mean of 3 seeds, band min–max: -?\d/);
  assert.match(await readout(), /sac · Pendulum-v1 · seed 0: -?\d/);
  const csv = await (async () => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('#r-charts-episodic_return-csv')]);
    return fs.readFileSync(await d.path(), 'utf8');
  })();
  assert.ok(csv.includes('mean of 3 seeds'), 'the CSV holds the mean line');
  await page.screenshot({ path: path.join(artifacts, 'replay-seeds.png'), fullPage: true });
  await page.check('#r-each-seed');
  await page.waitForFunction(() => /seed 2: /.test(document.querySelector('.replay-chart:has(#r-charts-episodic_return) .values').textContent));
  assert.doesNotMatch(await readout(), /mean of/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the bundled PPO evidence opens as two settings of 5 seeds, each a mean with its band', async () => {
  // Examples 5 and 6: PPO-ERA vs PPO on HalfCheetah-v5 and Hopper-v5, seeds 0-4, thinned logs.
  for (const [i, task] of [[5, 'HalfCheetah-v5'], [6, 'Hopper-v5']]) {
    const { page, errors } = await session.open('?view=replay', `#r-example-${i}`);
    await page.click(`#r-example-${i}`);
    await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 10);
    await page.waitForSelector('#r-eval-return_mean');
    const readout = await page.textContent('.replay-chart:has(#r-eval-return_mean) .values');
    assert.match(readout, new RegExp(`ppo-era · ${task} · mean of 5 seeds, band min–max: -?\\d`));
    assert.match(readout, new RegExp(`ppo · ${task} · mean of 5 seeds, band min–max: -?\\d`));
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('every view loads without a console error or a failed request, at desktop and phone width', async () => {
  for (const [w, h, tag] of [[1280, 900, 'desktop'], [390, 844, 'phone']]) {
    for (const view of ['gaussian', 'softmax', 'llm', 'train', 'replay']) {
      const page = await session.browser.newPage({ viewport: { width: w, height: h } });
      const problems = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
      await page.goto(`${session.base}/?view=${view}`);
      await page.waitForSelector('main canvas, #r-files', { state: 'attached' });
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(artifacts, `view-${view}-${tag}.png`), fullPage: true });
      assert.deepEqual(problems, [], `${view} at ${tag} width`);
      await page.close();
    }
  }
});

/** Sets a range input to `value` as a visitor dragging it would. */
const setRange = (page, id, value) =>
  page.$eval(`#${id}`, (e, v) => { e.value = String(v); e.dispatchEvent(new Event('input', { bubbles: true })); }, value);
const status = (page, id) => page.textContent(`#${id}-status`);
const doneNow = (page, id) => page.waitForFunction((i) => /Done/.test(document.getElementById(`${i}-status`).textContent), id);

test('each explorer\'s guided steps complete when their condition is met', async () => {
  const { page, errors } = await session.open('?view=gaussian', '#g-guide-status');
  assert.match(await status(page, 'g-guide'), /Not yet/);
  await setRange(page, 'g-dims', 1);
  await doneNow(page, 'g-guide');
  await page.click('#g-guide-next');
  assert.match(await page.textContent('#g-guide-text'), /raise H₀ by at least 1 nat/);
  await setRange(page, 'g-dims', 6);
  const h0 = Number(await page.$eval('#g-h0', (e) => e.value));
  await setRange(page, 'g-h0', h0 + 1.05);
  await doneNow(page, 'g-guide');
  await page.click('#g-guide-next');
  const s2 = Number(await page.$eval('#g-s2', (e) => e.value));
  await setRange(page, 'g-s2', s2 + 1.05);
  await doneNow(page, 'g-guide');
  assert.equal(await page.$eval('#g-guide-next', (b) => b.disabled), true, 'the last step');

  await page.click('#tab-softmax');
  await setRange(page, 's-z0', 9.5);
  await doneNow(page, 's-guide');
  await page.click('#s-guide-next');
  const sh0 = Number(await page.$eval('#s-h0', (e) => e.value));
  await setRange(page, 's-h0', sh0 + 0.35);
  await doneNow(page, 's-guide');
  await page.click('#s-guide-next');
  await page.check('#s-official');
  await doneNow(page, 's-guide');

  await page.click('#tab-llm');
  await setRange(page, 'l-a', -1);
  await doneNow(page, 'l-guide');
  await page.click('#l-guide-next');
  await setRange(page, 'l-a', 1);
  await setRange(page, 'l-wh', 12);
  await setRange(page, 'l-wl', 6);
  await doneNow(page, 'l-guide');
  assert.match(await page.textContent('#l-readout'), /sharpen/i);
  await page.click('#l-guide-next');
  await setRange(page, 'l-wl', 0);
  await setRange(page, 'l-wh', 0);
  await doneNow(page, 'l-guide');
  assert.match(await page.textContent('#l-readout'), /soften/i);
  assert.deepEqual(errors, []);
  await page.close();
});

test('two agents train side by side, ERA and without, each with its scene, and the URL keeps the pair', async () => {
  const { page, errors } = await session.open('?view=train&pair=1', '#t-device');
  await page.waitForFunction(() => /CPU backend/.test(document.getElementById('t-device').textContent));
  assert.equal(await page.$eval('#t-pair', (e) => e.checked), true);
  await page.click('#t-start');
  const steps = () => page.$eval('#t-status', (e) => [...e.textContent.matchAll(/step (\d+)/g)].map((m) => Number(m[1])));
  await page.waitForFunction(() => {
    const s = [...document.getElementById('t-status').textContent.matchAll(/step (\d+)/g)].map((m) => Number(m[1]));
    return s.length === 2 && s.every((n) => n > 1200);
  }, null, { timeout: 240000 });
  assert.match(await page.textContent('#t-status'), /with ERA: step \d+ .* without ERA: step \d+/);
  for (const id of ['t-scene', 't-scene-2']) {
    assert.ok(Number(await page.$eval(`#${id}`, (c) => c.dataset.draws)) > 5, `${id} animated`);
  }
  // Both sides on every chart: the return chart's CSV holds both lines.
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('#t-return-csv')]);
  const csv = fs.readFileSync(await d.path(), 'utf8');
  assert.ok(csv.includes('\nwith ERA,') && csv.includes('\nwithout ERA,'), csv.slice(0, 200));
  const s0 = await steps();
  const t0 = Date.now();
  await page.waitForTimeout(4000);
  const s1 = await steps();
  const rate = s1.map((s, i) => Math.round((s - s0[i]) / ((Date.now() - t0) / 1000)));
  fs.writeFileSync(path.join(artifacts, 'pair-figures.json'), JSON.stringify({ pair_cpu_steps_per_sec: { era: rate[0], without: rate[1] } }));
  console.log('side by side on the CPU backend, steps/s (ERA, without):', rate);
  await page.screenshot({ path: path.join(artifacts, 'train-pair.png'), fullPage: true });
  assert.match(page.url(), /pair=1/);
  assert.deepEqual(errors, []);
  await page.close();
});

/**
 * What an audience reads and what overlaps it: each pair of visible labels, slider tracks, values,
 * legends and buttons whose boxes intersect (one inside the other excepted), and each label or value
 * whose text does not fit its box.
 */
const collisions = (page) => page.evaluate(() => {
  const selector = ['.slider > label', '.slider > input', '.slider > output', '.controls > label', '.controls > button',
    'fieldset > legend', 'fieldset > label', '.examples > button', 'nav button', '.present-toggle'].join(', ');
  const boxes = [...document.querySelectorAll(selector)]
    .filter((e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
    .map((e) => ({ e, r: e.getBoundingClientRect(), name: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} "${(e.textContent || '').trim().slice(0, 24)}"` }));
  const found = [];
  for (const b of boxes) {
    if (b.e.tagName !== 'INPUT' && b.e.clientWidth > 0 && b.e.scrollWidth > b.e.clientWidth + 1) {
      found.push(`${b.name} does not fit: ${b.e.scrollWidth} px in ${b.e.clientWidth} px`);
    }
  }
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > 1 && h > 1) found.push(`${a.name} overlaps ${b.name} by ${Math.round(w)}×${Math.round(h)} px`);
    }
  }
  return { checked: boxes.length, found };
});

test('in presentation mode every label and value is whole and apart, from phone width to 1920 px', async () => {
  const ready = { gaussian: '#g-sigma', softmax: '#s-readout', llm: '#l-readout', train: '#t-device', replay: '#r-files' };
  for (const [w, h] of [[1280, 800], [1313, 900], [1600, 900], [1920, 1080], [390, 844]]) {
    for (const [view, selector] of Object.entries(ready)) {
      for (const present of [true, false]) {
        const { page, errors } = await session.open(`?view=${view}${present ? '&present=1' : ''}`, selector, { viewport: { width: w, height: h } });
        if (view === 'replay') {
          await page.click('#r-example-0');
          await page.waitForSelector('#r-made-with');
        }
        const { checked, found } = await collisions(page);
        assert.ok(checked >= 5, `${view} at ${w} px: only ${checked} elements measured`);
        if (present && (w === 1313 || w === 390)) {
          await page.screenshot({ path: path.join(artifacts, `present-${view}-${w}.png`), fullPage: true });
        }
        assert.deepEqual(found, [], `${view} at ${w} px${present ? ', presenting' : ''}`);
        assert.deepEqual(errors, []);
        await page.close();
      }
    }
  }
});

/** The SVG download of chart `id`. */
const svgOf = async (page, id) => {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}-svg`)]);
  return fs.readFileSync(await d.path(), 'utf8');
};

/** The numeric tick labels of an SVG chart, grouped by the row (x axis) or column (y axis) they sit in. */
const tickGroups = (svg) => {
  const groups = new Map();
  for (const m of svg.matchAll(/<text x="([\d.-]+)" y="([\d.-]+)"[^>]*>\s*([^<]*?)\s*<\/text>/g)) {
    if (!/^-?[\d.]+(e-?\d+)?[kMG]?$/.test(m[3])) continue;
    for (const key of [`x=${m[1]}`, `y=${m[2]}`]) groups.set(key, [...(groups.get(key) ?? []), m[3]]);
  }
  return [...groups.values()].filter((g) => g.length >= 3);
};

test('before its first update the training view says when updates start, with the target drawn and distinct ticks', async () => {
  const { page, errors } = await session.open('?view=train&pair=1', '#t-device');
  await page.waitForFunction(() => /CPU backend/.test(document.getElementById('t-device').textContent));
  // Before Start: the run the settings would start (SAC's warm-up is 1000 steps on this page).
  const entropy = await svgOf(page, 't-entropy');
  assert.match(entropy, /Gaussian entropy: updates start at step 1000/);
  assert.match(entropy, />\s*H₀ = 0.25\s*</, 'the target line is drawn and named with its value');
  const sigma = await svgOf(page, 't-std');
  assert.match(sigma, /updates start at step 1000/);
  for (const svg of [entropy, sigma]) {
    const groups = tickGroups(svg);
    assert.ok(groups.length >= 2, `both axes have ticks: ${JSON.stringify(groups)}`);
    for (const g of groups) assert.equal(new Set(g).size, g.length, `repeated ticks ${g}`);
  }
  await page.screenshot({ path: path.join(artifacts, 'train-before-first-update.png'), fullPage: true });
  // After the first updates both lines are drawn, the title is the chart's own and ticks stay distinct.
  await page.click('#t-start');
  await page.waitForFunction(() => {
    const s = [...document.getElementById('t-status').textContent.matchAll(/step (\d+)/g)].map((m) => Number(m[1]));
    return s.length === 2 && s.every((n) => n > 1300);
  }, null, { timeout: 240000 });
  await page.click('#t-pause');
  const trained = await svgOf(page, 't-entropy');
  assert.doesNotMatch(trained, /updates start/);
  for (const g of tickGroups(trained)) assert.equal(new Set(g).size, g.length, `repeated ticks ${g}`);
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('#t-entropy-csv')]);
  const csv = fs.readFileSync(await d.path(), 'utf8');
  assert.ok(csv.includes('\nwith ERA,') && csv.includes('\nwithout ERA,'), csv.slice(0, 300));
  assert.deepEqual(errors, []);
  await page.close();
});

test('the σ chart draws log σ_min and log σ_max, so moving either bound visibly moves the chart', async () => {
  const { page, errors } = await session.open('?view=gaussian', '#g-sigma');
  await page.waitForFunction(() => Number(document.getElementById('g-sigma')?.dataset.draws) > 0);
  const svg = await svgOf(page, 'g-sigma');
  for (const s of ['log σ_min', 'log σ_max', 'ERA log σ′']) assert.ok(svg.includes(s), `the σ chart shows "${s}"`);
  for (const [id, value] of [['g-lmin', -7.5], ['g-lmax', 0.5]]) {
    const before = await page.$eval('#g-sigma', (c) => c.toDataURL());
    await setRange(page, id, value);
    await page.waitForFunction((img) => document.getElementById('g-sigma').toDataURL() !== img, before);
  }
  await page.screenshot({ path: path.join(artifacts, 'gaussian-sigma-bounds.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a bundled example shows the commands that made it, and its logs hold what those commands write', async () => {
  const { page, errors } = await session.open('?view=replay', '#r-example-0');
  await page.click('#r-example-0');
  await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 6);
  const made = await page.textContent('#r-made-with');
  assert.match(made, /era train control --env Pendulum-v1 --algo sac --era on .*--seeds 3/);
  assert.match(made, /era train control --env Pendulum-v1 --algo sac --era off .*--seeds 3/);
  const readout = await page.textContent('.replay-chart:has(#r-charts-episodic_return) .values');
  assert.match(readout, /sac-era · Pendulum-v1 · mean of 3 seeds/);
  assert.match(readout, /sac · Pendulum-v1 · mean of 3 seeds/);
  await page.click('#r-clear');
  await page.waitForFunction(() => !document.getElementById('r-made-with'));
  assert.deepEqual(errors, []);
  await page.close();
});
