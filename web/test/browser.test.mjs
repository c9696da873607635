// Browser tests: serves the package from 127.0.0.1 (tools/server.mjs), drives
// Debian's Chromium (headless, WebGL2 on SwiftShader) with playwright-core,
// and runs the in-page tests of test/browser-tests.mjs plus the demo page.
//
//   node test/browser.test.mjs [TEST...] [--json FILE] [--screenshot FILE]
//
// Prints one line per test and closes with "N passed, M failed". Needs
// web/dist (node tools/build.mjs), models/data (tools/fetch-models.sh) and
// web/node_modules (npm ci). Never downloads a browser.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tools/chromium.mjs';
import { startServer } from '../tools/server.mjs';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');

const IN_PAGE = ['mnist-webgl', 'mnist-wasm', 'squeezenet-webgl', 'squeezenet-wasm', 'bad-input-webgl',
  'bad-input-wasm', 'image-options', 'worker', 'no-webgl2-fallback', 'compat-ort-webgl', 'compat-ort-wasm',
  'auto-provider', 'wasm-threads', 'ort-sample', 'ort-options', 'tensor-image', 'threads-timeout',
  'profile-squeezenet-webgl', 'profile-squeezenet-wasm', 'pinned-state-webgl', 'pinned-state-wasm',
  'texture-state-webgl', 'preallocated-webgl',
  // test/device-tests.mjs
  'context-loss-idle', 'context-loss-during-run', 'context-loss-wasm-fallback', 'no-highp',
  'small-device-squeezenet', 'two-sessions-interleaved', 'external-data-webgl'];
const ALL = [...IN_PAGE, 'demo-page'];

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); if (i < 0) return undefined; const v = args[i + 1]; args.splice(i, 2); return v; };
const jsonOut = opt('--json');
const screenshot = opt('--screenshot') ?? join(repoDir, 'build', 'web-test', 'demo.png');
const selected = args.length ? args : ALL;
for (const n of selected) if (!ALL.includes(n)) { console.error(`unknown test '${n}' (have: ${ALL.join(', ')})`); process.exit(2); }

for (const [path, hint] of [
  [join(webDir, 'dist', 'glint.wasm'), 'build the package: make web'],
  [join(repoDir, 'models', 'data', 'squeezenet1.1-fp16.onnx'), 'fetch the models: make models'],
  [join(webDir, 'node_modules', 'playwright-core'), 'install the npm packages: (cd web && npm ci)'],
]) {
  // 77: CTest's SKIP_RETURN_CODE (see test/web/CMakeLists.txt).
  if (!existsSync(path)) { console.error(`browser tests: ${path} is missing: ${hint}`); process.exit(77); }
}

// 'external-data-webgl' reads MNIST with its weights in an external data
// file, written here by test/external-data.py and served at /ext/.
const extDir = join(repoDir, 'build', 'web-test', 'ext');
if (selected.includes('external-data-webgl')) {
  mkdirSync(extDir, { recursive: true });
  execFileSync('/usr/bin/python3', [join(webDir, 'test', 'external-data.py'),
    join(repoDir, 'models', 'data', 'mnist', 'model.onnx'), extDir]);
}

const t0 = Date.now();
const server = await startServer({ port: 0, mounts: [['/ext/', extDir]] });
const { browser, version } = await launchChromium();
console.log(`browser tests: ${version}, serving ${server.url}`);
const results = [];
let failed = 0;

function report(name, r, ms) {
  results.push({ name, ms, ...r });
  const secs = (ms / 1000).toFixed(1);
  if (r.ok) {
    const m = r.metrics ? `  [create ${r.metrics.createMs.toFixed(0)} ms, first run ${r.metrics.firstRunMs.toFixed(1)} ms, median run ${r.metrics.medianRunMs.toFixed(1)} ms]` : '';
    console.log(`ok   ${name} (${secs} s)${r.detail ? ': ' + r.detail : ''}${m}`);
  } else {
    failed += 1;
    console.log(`FAIL ${name} (${secs} s): ${r.error}`);
    if (r.stack) console.log(r.stack.split('\n').slice(0, 4).map((l) => '       ' + l).join('\n'));
  }
}

try {
  const context = await browser.newContext();
  for (const name of selected.filter((n) => IN_PAGE.includes(n))) {
    // A fresh page per test: one test's failure (or a wasm abort) cannot leak into the next.
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/404 \(Not Found\)/.test(m.text())) errors.push(m.text()); });
    await page.goto(`${server.url}test/index.html`);
    const start = Date.now();
    let r;
    try {
      r = await page.evaluate(async (n) => (await import('/test/browser-tests.mjs')).run(n), name);
    } catch (e) {
      r = { ok: false, error: `page: ${e.message.split('\n')[0]}` };
    }
    if (r.ok && errors.length) r = { ok: false, error: `page errors: ${errors.join(' | ')}` };
    report(name, r, Date.now() - start);
    await page.close();
  }

  if (selected.includes('demo-page')) {
    // The demo page classifies its default photo on load; read the top-1 label
    // from the page and keep a screenshot.
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const start = Date.now();
    let r;
    try {
      await page.goto(`${server.url}demo/?runs=0`);
      await page.waitForSelector('#results[data-state="done"], #results[data-state="error"]', { timeout: 120000 });
      const state = await page.getAttribute('#results', 'data-state');
      const top1 = (await page.textContent('#results .row:first-child .label') ?? '').trim();
      const ep = await page.getAttribute('#results', 'data-provider');
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
      if (state !== 'done') r = { ok: false, error: `demo page: ${await page.textContent('#status')}` };
      else if (top1 !== 'Egyptian cat') r = { ok: false, error: `demo page top-1 is '${top1}', expected 'Egyptian cat'` };
      else {
        // Switch to wasm, then upload coffee.png through the file input.
        const top1After = async () => {
          await page.waitForFunction(() => {
            const el = document.getElementById('results');
            return el.dataset.state === 'error' || (el.dataset.state === 'done' && el.dataset.bench === 'done');
          }, null, { timeout: 120000 });
          return [await page.getAttribute('#results', 'data-provider'),
                  (await page.textContent('#results .row:first-child .label') ?? '').trim()];
        };
        const reason = await page.textContent('#reason');  // the default, 'auto', and why it chose
        // The profile chart of the last run: a bar per slowest node.
        const profile = await page.evaluate(() => window.glintDemo.profile);
        const bars = await page.$$eval('#profile-chart rect', (els) => els.length);
        // The webcam (Chromium's synthetic camera): frames classified one after another.
        await page.click('#webcam');
        await page.waitForFunction(() => window.glintDemo.webcam && window.glintDemo.webcam.frames >= 4, null, { timeout: 120000 });
        const cam = await page.evaluate(() => window.glintDemo.webcam);
        const fpsText = await page.textContent('#fps');
        await page.click('#webcam');
        await page.evaluate(() => { document.getElementById('results').dataset.state = 'switching'; });
        await page.check('input[name="ep"][value="wasm"]');
        const [ep2, label2] = await top1After();
        await page.evaluate(() => { document.getElementById('results').dataset.state = 'switching'; });
        await page.setInputFiles('#file', join(repoDir, 'models', 'data', 'images', 'coffee.png'));
        const [ep3, label3] = await top1After();
        // Your own .onnx: MNIST through the file input: its inputs, placements and a run.
        await page.setInputFiles('#onnx-file', join(repoDir, 'models', 'data', 'mnist', 'model.onnx'));
        await page.waitForSelector('#custom[data-state="done"], #custom[data-state="error"]', { timeout: 120000 });
        const custom = await page.evaluate(() => ({
          state: document.getElementById('custom').dataset.state,
          status: document.getElementById('custom-status').textContent,
          inputs: [...document.querySelectorAll('#custom-inputs tbody tr')].map((tr) => tr.textContent),
          outputs: [...document.querySelectorAll('#custom-outputs tbody tr')].map((tr) => tr.textContent),
          placements: document.querySelectorAll('#custom-placements tbody tr').length,
        }));
        // The model picker: MNIST (from models/models.json) on the same photo.
        const models = await page.$$eval('#model option', (os) => os.map((o) => o.value));
        await page.evaluate(() => { document.getElementById('results').dataset.state = 'switching'; });
        await page.selectOption('#model', 'mnist');
        const [ep4, label4] = await top1After();
        const model4 = await page.evaluate(() => window.glintDemo.model);
        if (!models.includes('mnist') || model4 !== 'mnist' || ep4 !== 'wasm' || !/^[0-9]$/.test(label4)) {
          r = { ok: false, error: `model picker: options ${models}, ran ${model4} on ${ep4}, top-1 '${label4}'` };
        } else if (!(cam.fps > 0) || !cam.top1 || !/frames\/s/.test(fpsText)) {
          r = { ok: false, error: `webcam: ${JSON.stringify(cam)}, '${fpsText}'` };
        } else if (ep !== 'wasm' || !/SwiftShader/.test(reason)) r = { ok: false, error: `the default ('auto') ran on ${ep}, reason '${reason}'` };
        else if (ep2 !== 'wasm' || label2 !== 'Egyptian cat') r = { ok: false, error: `after switching to wasm: ${ep2}, '${label2}'` };
        else if (ep3 !== 'wasm' || label3 !== 'espresso') r = { ok: false, error: `after uploading coffee.png: ${ep3}, '${label3}'` };
        else if (custom.state !== 'done') r = { ok: false, error: `own model (mnist): ${custom.status}` };
        else if (!/^Input3float32\[1, 1, 28, 28\]/.test(custom.inputs[0] ?? '') || !/^Plus214_Output_0float32\[1, 10\]/.test(custom.outputs[0] ?? '') || custom.placements === 0) {
          r = { ok: false, error: `own model (mnist): inputs ${JSON.stringify(custom.inputs)}, outputs ${JSON.stringify(custom.outputs)}, ${custom.placements} placements` };
        } else if (!(profile && profile.nodes > 0 && bars > 0)) {
          r = { ok: false, error: `profile chart: ${JSON.stringify(profile)}, ${bars} bars` };
        } else if (errors.length) r = { ok: false, error: `page errors: ${errors.join(' | ')}` };
        else r = { ok: true, detail: `top-1 '${top1}' on ${ep} ('auto': ${reason}), then on wasm; uploaded coffee.png: '${label3}'; webcam: ${fpsText} (${cam.frames} frames, top-1 '${cam.top1}'); picker ${models.join('/')}: mnist top-1 '${label4}'; own model mnist: ${custom.status}; profile: ${profile.nodes} nodes, ${profile.totalMs.toFixed(1)} ms, ${bars} bars; screenshot ${screenshot}` };
      }
    } catch (e) {
      r = { ok: false, error: e.message.split('\n')[0] };
    }
    report('demo-page', r, Date.now() - start);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}

const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.log(`browser tests took ${secs} s`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ version, seconds: Number(secs), results }, null, 2));
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
