// End-to-end tests of the era explorer in real headless Chromium, against the page trunk built into
// dist/. Run by scripts/test.sh (`node --test web/e2e/`); screenshots and the measured speed figures
// are kept in target/e2e-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { start, launchChromium, repo, dist, artifacts } from './browser.mjs';

const figures = {};

let session;

before(async () => {
  session = await start();
});

after(async () => {
  await session?.close();
  for (const f of fs.readdirSync(dist)) {
    if (f.endsWith('.wasm')) {
      const bytes = fs.readFileSync(path.join(dist, f));
      figures.wasm_bytes = bytes.length;
      figures.wasm_gzip_bytes = zlib.gzipSync(bytes, { level: 9 }).length;
    }
  }
  fs.writeFileSync(path.join(artifacts, 'figures.json'), JSON.stringify(figures, null, 2));
  console.log('explorer figures:', JSON.stringify(figures));
});

const open = (query, selector, viewport) => session.open(query, selector, { viewport });
const draws = (page, id) => page.$eval(`#${id}`, (c) => Number(c.dataset.draws));
const pixels = (page, id) => page.$eval(`#${id}`, (c) => c.toDataURL());

test('a slider moved by keyboard changes the shown entropy and redraws the chart', async () => {
  const { page, errors, ms } = await open('?view=softmax', '#s-readout');
  figures.time_to_interactive_ms = ms;
  await page.waitForFunction(() => Number(document.getElementById('s-sweep')?.dataset.draws) > 0);
  const before = { text: await page.textContent('#s-readout'), draws: await draws(page, 's-sweep'), img: await pixels(page, 's-sweep') };
  assert.match(before.text, /after 0\.\d{4} nats \(floor H₀ = 0\.6000\)/);
  await page.focus('#s-h0');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((n) => Number(document.getElementById('s-sweep').dataset.draws) > n, before.draws);
  const text = await page.textContent('#s-readout');
  assert.notEqual(text, before.text);
  assert.match(text, /floor H₀ = 0\.7000/);
  assert.notEqual(await pixels(page, 's-sweep'), before.img, 'the chart was redrawn with new content');
  // Slider change → chart redrawn, median of 50 changes.
  const times = await page.evaluate(async () => {
    const el = document.getElementById('s-h0');
    const canvas = document.getElementById('s-probs');
    const out = [];
    for (let i = 0; i < 50; i++) {
      const n = Number(canvas.dataset.draws);
      const t0 = performance.now();
      el.value = String(0.3 + 0.01 * i);
      el.dispatchEvent(new Event('input', { bubbles: true }));
      while (Number(canvas.dataset.draws) === n) await new Promise((r) => setTimeout(r, 0));
      out.push(performance.now() - t0);
    }
    return out.sort((a, b) => a - b);
  });
  figures.slider_to_redraw_median_ms = times[25];
  assert.ok(times[25] < 100, `median redraw ${times[25]} ms`);
  await page.screenshot({ path: path.join(artifacts, 'softmax.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('the Gaussian explorer holds the entropy at H0 and shows the plain clip beside it', async () => {
  const { page, errors } = await open('', '#g-readout');
  assert.match(await page.textContent('#g-readout'), /ERA entropy 1\.5000 nats \(target H₀ \+ δ = 1\.5000\)/);
  await page.focus('#g-delta');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => /ERA entropy 1\.7000/.test(document.getElementById('g-readout').textContent));
  assert.match(await page.url(), /delta=0\.2/);
  await page.screenshot({ path: path.join(artifacts, 'gaussian.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('URL parameters are applied, and bad ones corrected with a note', async () => {
  const { page, errors } = await open('?view=softmax&z=3,1,0&h0=0.5&tau=5&mode=official', '#s-readout');
  assert.equal(await page.$eval('#s-official', (e) => e.checked), true);
  assert.equal(await page.$eval('#s-h0', (e) => e.value), '0.5');
  assert.match(await page.textContent('#s-range'), /n = 3, τ = 5\.00/);
  assert.match(await page.textContent('#s-readout'), /floor H₀ = 0\.5000/);
  await page.close();
  const llm = await open('?view=llm&e=0.1,0.2,0.1,0.05,0.3&a=1&wl=0.45&k=3', '#l-readout');
  assert.match(await llm.page.textContent('#l-readout'), /H_resp = 0\.3000 nats over the top 1 of 5 tokens → sharpen: logits × 3\.000/);
  await llm.page.screenshot({ path: path.join(artifacts, 'llm.png'), fullPage: true });
  await llm.page.close();
  const bad = await open('?view=gaussian&delta=99&h0=abc', '#url-notes');
  const note = await bad.page.textContent('#url-notes');
  assert.match(note, /h0=abc is not a number/);
  assert.match(note, /delta=99 is outside \[0, 5\]/);
  assert.deepEqual([...errors, ...llm.errors, ...bad.errors], []);
  await bad.page.close();
});

test('a bundled run opens with its story charted, every metric on demand, targets drawn and a working scrubber', async () => {
  const { page, errors } = await open('?view=replay', '#r-example-0');
  await page.click('#r-example-0');
  await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 6);
  await page.waitForSelector('#r-policy-gaussian_entropy');
  const story = await page.$$eval('#r-charts canvas', (cs) => cs.length);
  assert.ok(story >= 3 && story <= 8, `${story} charts by default`);
  assert.equal(await page.$('#r-losses-critic'), null, 'losses only under "all metrics"');
  await page.check('#r-all');
  await page.waitForSelector('#r-losses-critic');
  const charts = await page.$$eval('#r-charts canvas', (cs) => cs.length);
  assert.ok(charts >= 8 && charts > story, `${charts} charts with all metrics`);
  assert.match(page.url(), /runs=assets\/runs\/sac-era-pendulum-s0\.jsonl,.*assets\/runs\/sac-pendulum-s2\.jsonl/);
  const img = await pixels(page, 'r-policy-gaussian_entropy');
  await page.$eval('#r-step', (el) => { el.value = '3000'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.waitForFunction((i) => document.getElementById('r-policy-gaussian_entropy').toDataURL() !== i, img);
  await page.screenshot({ path: path.join(artifacts, 'replay.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
  // The same runs from a link.
  const linked = await open('?view=replay&runs=assets/runs/vision-era.jsonl', '#r-pred-entropy_min');
  assert.match(await linked.page.textContent('#r-runs'), /small-cnn-era · mnist-embedded/);
  await linked.page.close();
});

test('the bundled LLM runs chart pass@k and H_resp against the omega band', async () => {
  const { page, errors } = await open('?view=replay', '#r-example-2');
  await page.click('#r-example-2');
  await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 2);
  await page.waitForSelector('#r-rollout-h_resp_mean');
  await page.waitForSelector('#r-eval-pass-1');
  assert.match(await page.textContent('#r-runs'), /grpo-era · arithmetic/);
  assert.match(await page.textContent('#r-charts'), /grpo · arithmetic · seed 0: \d/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the bundled MuJoCo runs chart evaluation returns and the Gaussian entropy', async () => {
  // Example 3: era's earlier settings (CleanRL networks, learned δ); 4: the authors' released settings;
  // 7: SAC-ERA and SAC on DeepMind Control's walker-run, seed 0, 100 000 steps.
  for (const [i, task] of [[3, 'HalfCheetah-v5'], [4, 'HalfCheetah-v5'], [7, 'dmc/walker-run']]) {
    const { page, errors } = await open('?view=replay', `#r-example-${i}`);
    await page.click(`#r-example-${i}`);
    await page.waitForFunction(() => document.querySelectorAll('#r-runs li').length === 2);
    await page.waitForSelector('#r-eval-return_mean');
    await page.waitForSelector('#r-policy-gaussian_entropy');
    assert.match(await page.textContent('#r-runs'), new RegExp(`sac-era · ${task}`));
    assert.match(await page.textContent('#r-charts'), new RegExp(`sac · ${task} · seed 0: \\d`));
    assert.deepEqual(errors, []);
    await page.close();
  }
});

test('a malformed file gets a message naming its line, and the page keeps working', async () => {
  const { page, errors } = await open('?view=replay', '#r-files');
  await page.setInputFiles('#r-files', [{ name: 'bad.jsonl', mimeType: 'application/json', buffer: Buffer.from('{"type":"record","step":1}\n') }]);
  await page.waitForSelector('.errors li');
  assert.match(await page.textContent('.errors'), /bad\.jsonl:1: /);
  const good = fs.readFileSync(path.join(repo, 'assets', 'runs', 'vision-none.jsonl'));
  await page.setInputFiles('#r-files', [{ name: 'good.jsonl', mimeType: 'application/json', buffer: good }]);
  await page.waitForSelector('#r-eval-top1');
  await page.screenshot({ path: path.join(artifacts, 'replay-error.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('at phone width nothing overflows and the sliders stay usable', async () => {
  const { page, errors } = await open('?view=softmax', '#s-h0', { width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow} px wider than the screen`);
  const box = await page.$eval('#s-h0', (e) => e.getBoundingClientRect().width);
  assert.ok(box > 100, `slider only ${box} px wide`);
  await page.screenshot({ path: path.join(artifacts, 'phone.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('training runs live on the CPU backend when the browser has no WebGPU adapter', async () => {
  const { page, errors } = await open('?view=train', '#t-device');
  await page.waitForFunction(() => /CPU backend/.test(document.getElementById('t-device').textContent));
  await page.click('#t-start');
  const stepOf = () => page.$eval('#t-status', (e) => Number(/step (\d+)/.exec(e.textContent)?.[1] ?? 0));
  await page.waitForFunction(() => Number(/step (\d+)/.exec(document.getElementById('t-status').textContent)?.[1] ?? 0) > 1500, null, { timeout: 120000 });
  // The page stays responsive while it trains: a slider elsewhere still answers.
  const scene = await draws(page, 't-scene');
  assert.ok(scene > 5, `scene drawn ${scene} times`);
  const s0 = await stepOf();
  const t0 = Date.now();
  await page.waitForTimeout(3000);
  figures.live_cpu_steps_per_sec = Math.round(((await stepOf()) - s0) / ((Date.now() - t0) / 1000));
  // H₀ changed mid-run: the entropy chart's target moves with it.
  await page.focus('#t-h0');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => document.getElementById('t-h0-value').textContent === '0.05');
  await page.screenshot({ path: path.join(artifacts, 'train-cpu.png'), fullPage: true });
  assert.match(await page.textContent('#t-status'), /steps\/s/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('training runs on WebGPU when the browser gives an adapter', async () => {
  const gpu = await launchChromium(['--enable-unsafe-webgpu']);
  const page = await gpu.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${session.base}/?view=train`);
  await page.waitForFunction(() => /WebGPU \(/.test(document.getElementById('t-device')?.textContent ?? ''), null, { timeout: 30000 });
  await page.click('#t-start');
  await page.waitForFunction(() => Number(/step (\d+)/.exec(document.getElementById('t-status').textContent)?.[1] ?? 0) > 1100, null, { timeout: 240000 });
  const stepOf = () => page.$eval('#t-status', (e) => Number(/step (\d+)/.exec(e.textContent)?.[1] ?? 0));
  const s0 = await stepOf();
  const t0 = Date.now();
  await page.waitForTimeout(5000);
  figures.live_webgpu_steps_per_sec = Math.round(((await stepOf()) - s0) / ((Date.now() - t0) / 1000));
  figures.webgpu_adapter = await page.textContent('#t-device');
  await page.screenshot({ path: path.join(artifacts, 'train-webgpu.png'), fullPage: true });
  assert.doesNotMatch(await page.textContent('#t-status'), /training stopped/);
  assert.deepEqual(errors, []);
  await gpu.close();
});

test('files dropped on the replay page open like picked ones', async () => {
  const { page, errors } = await open('?view=replay', '.dropzone');
  const text = fs.readFileSync(path.join(repo, 'assets', 'runs', 'vision-era.jsonl'), 'utf8');
  const transfer = await page.evaluateHandle((t) => {
    const d = new DataTransfer();
    d.items.add(new File([t], 'dropped.jsonl', { type: 'application/json' }));
    return d;
  }, text);
  await page.dispatchEvent('.dropzone', 'drop', { dataTransfer: transfer });
  await page.waitForSelector('#r-pred-entropy_min');
  assert.match(await page.textContent('#r-runs'), /small-cnn-era · mnist-embedded · seed 0/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the live-training settings come from the URL', async () => {
  const { page, errors } = await open('?view=train&env=FiveLinkArm-v0&algo=ppo&era=off&h0d=-0.5', '#t-env');
  assert.equal(await page.$eval('#t-env', (e) => e.value), 'FiveLinkArm-v0');
  assert.equal(await page.$eval('#t-algo', (e) => e.value), 'ppo');
  assert.equal(await page.$eval('#t-era', (e) => e.checked), false);
  assert.equal(await page.textContent('#t-h0-value'), '-0.50');
  assert.deepEqual(errors, []);
  await page.close();
});
