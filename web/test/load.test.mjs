// Load test in headless Chromium: SqueezeNet on the webgl provider run
// GLINT_LOAD_RUNS times (default 1000; about 0.4 s a run on SwiftShader),
// each output identical to the first, while an MNIST session is created, run
// and released beside it every 50 runs (test/load-page.mjs). Memory must stay
// flat: at each checkpoint (every 100 runs) the GL executor's textures and
// bytes, the JS heap after a full GC and the wasm heap; the checkpoint after
// the warm-up (the first one at run 100, or the first at all for shorter
// runs) is compared with the last, and a line fitted through the checkpoints
// from the warm-up on must not climb by more than the same tolerance.
//
//   GLINT_LOAD_RUNS=200 node test/load.test.mjs
//
// Prints progress every 100 runs and a table of the checkpoints. Exits 77
// (CTest's "skipped") when web/dist, the models or web/node_modules are missing.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');

const runs = Number(process.env.GLINT_LOAD_RUNS ?? 1000);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`load test: GLINT_LOAD_RUNS must be a positive integer, got '${process.env.GLINT_LOAD_RUNS}'`);
  process.exit(2);
}
for (const [path, hint] of [
  [join(webDir, 'dist', 'glint.wasm'), 'build the package: make web'],
  [join(repoDir, 'models', 'data', 'squeezenet1.1-fp16.onnx'), 'fetch the models: make models'],
  [join(webDir, 'node_modules', 'playwright-core'), 'install the npm packages: (cd web && npm ci)'],
]) {
  if (!existsSync(path)) { console.error(`load test: ${path} is missing: ${hint}`); process.exit(77); }
}
const { launchChromium } = await import('../tools/chromium.mjs');
const { startServer } = await import('../tools/server.mjs');

const MiB = 2 ** 20;
// What may differ between the warm-up checkpoint and the last one (and what
// the fitted line may climb over the whole run): the pool's count may move
// by a texture or two with the order sessions free them; the JS heap after a
// GC varies by a little with what V8 keeps compiled.
const TOLERANCE = {
  liveTextures: { abs: 2 },
  pooledTextures: { abs: 2 },
  textureBytes: { abs: 1 * MiB },
  jsHeapBytes: { abs: 2 * MiB, rel: 0.1 },
  wasmHeapBytes: { abs: 0 },  // the wasm heap never shrinks: any growth after the warm-up stays
};

function allowed(key, base) {
  const t = TOLERANCE[key];
  return Math.max(t.abs, (t.rel ?? 0) * base);
}

// Least-squares slope of ys over xs.
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; ++i) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}

function table(checkpoints) {
  const head = ['run', 'seconds', 'live tex', 'pooled tex', 'texture MiB', 'programs', 'JS heap MiB', 'wasm heap MiB'];
  const rows = checkpoints.map((c) => [c.run, c.seconds.toFixed(0), c.liveTextures, c.pooledTextures,
    (c.textureBytes / MiB).toFixed(2), c.programs, (c.jsHeapBytes / MiB).toFixed(2), (c.wasmHeapBytes / MiB).toFixed(0)].map(String));
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(width[i])).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const t0 = Date.now();
const server = await startServer({ port: 0 });
// gc() for the page, and exact heap figures (performance.memory is coarse and cached otherwise).
const { browser, version } = await launchChromium({ extraArgs: ['--js-flags=--expose-gc', '--enable-precise-memory-info'] });
console.log(`load test: ${version}, ${runs} SqueezeNet runs (webgl), an MNIST session created and released every 50`);
const failures = [];
let result = null;
try {
  const page = await (await browser.newContext()).newPage();
  page.on('console', (m) => {
    if (m.text().startsWith('load: ')) console.log(m.text());
    else if (m.type() === 'error' && !/404 \(Not Found\)/.test(m.text())) failures.push(`page console: ${m.text()}`);  // the favicon
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  await page.goto(`${server.url}test/index.html`);
  try {
    result = await page.evaluate(async (n) => (await import('/test/load-page.mjs')).runLoad({ runs: n }), runs);
  } catch (e) {
    failures.push(e.message.split('\n')[0]);
  }
} finally {
  await browser.close();
  await server.close();
}

if (result) {
  const cps = result.checkpoints;
  console.log(table(cps));
  const end = cps[cps.length - 1];
  // Run 0 is before the first MNIST session and the pool's first reuse: not warm.
  const warm = cps.find((c) => c.run >= 100 && c !== end) ?? cps[Math.min(1, cps.length - 1)];
  const since = cps.slice(cps.indexOf(warm));
  console.log(`after the warm-up (run ${warm.run}) vs the end (run ${end.run}), ${result.sideSessions} MNIST sessions beside:`);
  for (const key of Object.keys(TOLERANCE)) {
    const tol = allowed(key, warm[key]);
    const growth = end[key] - warm[key];
    const climb = since.length > 2 ? slope(since.map((c) => c.run), since.map((c) => c[key])) * (end.run - warm.run) : growth;
    const fmt = (v) => (/Bytes$/.test(key) ? `${(v / MiB).toFixed(2)} MiB` : String(Math.round(v * 100) / 100));
    const ok = growth <= tol && climb <= tol;
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${key}: ${fmt(warm[key])} -> ${fmt(end[key])} (growth ${fmt(growth)}, fitted climb ${fmt(climb)}, allowed ${fmt(tol)})`);
    if (!ok) failures.push(`${key} grew from ${fmt(warm[key])} to ${fmt(end[key])} (fitted climb ${fmt(climb)}; allowed ${fmt(tol)})`);
  }
}
console.log(`load test took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failures.length) {
  for (const f of failures) console.log(`FAIL ${f}`);
  process.exit(1);
}
console.log(`ok: ${runs} runs, memory flat`);
