// The OCR demo page (demo/ocr.html) in headless Chromium: it reads
// models/data/images/page.png with PP-OCRv4 detection + recognition on the
// wasm provider (with the direction classifier) and on the webgl provider
// (WebGL2 on SwiftShader here). Checks that the first line says
// "Region-based segmentation", that at least 80% of a list of words from the
// page are read, and that both providers read the same text; prints the
// lines and the time of each stage.
//
//   node test/ocr.test.mjs [wasm] [webgl] [--screenshots DIR]
//
// (default: both; a screenshot of each page goes to DIR/ocr-EP.png, DIR
// defaulting to build/web-test).
//
// Exits 77 (CTest's "skipped") when web/dist, the OCR models or
// web/node_modules are missing.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tools/chromium.mjs';
import { startServer } from '../tools/server.mjs';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');
const data = join(repoDir, 'models', 'data');

const ALL = ['wasm', 'webgl'];
const args = process.argv.slice(2);
const si = args.indexOf('--screenshots');
const shotDir = si >= 0 ? args.splice(si, 2)[1] : join(repoDir, 'build', 'web-test');
const selected = args.length ? args : ALL;
for (const n of selected) if (!ALL.includes(n)) { console.error(`unknown run '${n}' (have: ${ALL.join(', ')})`); process.exit(2); }

// The pipeline's pure parts, under Node (no browser, no models): the
// dictionary, CTC decoding, boxes of a synthetic probability map.
import * as ocr from '../demo/ocr-pipeline.mjs';
{
  const fail = (what) => { console.error(`ocr test: pipeline: ${what}`); process.exit(1); };
  const classes = ocr.parseDictionary('a\nb\n');
  if (JSON.stringify(classes) !== JSON.stringify(['', 'a', 'b', ' '])) fail(`parseDictionary gave ${JSON.stringify(classes)}`);
  // Columns' most likely classes a a blank a b space b b: "aab b", repeats collapsed only when adjacent.
  const seq = [1, 1, 0, 1, 2, 3, 2, 2];
  const probs = new Float32Array(seq.length * 4).fill(0.1);
  seq.forEach((c, t) => { probs[t * 4 + c] = 0.7; });
  const [decoded] = ocr.ctcGreedy(probs, [1, seq.length, 4], classes);
  if (decoded.text !== 'aab b' || Math.abs(decoded.score - 0.7) > 1e-6) fail(`ctcGreedy gave ${JSON.stringify(decoded)}`);
  // Three bars in a 200 x 80 map: two on one line (the right one first in
  // memory order), one below tilted by 4 degrees.
  const W = 200, H = 80, map = new Float32Array(W * H);
  const bar = (x0, x1, y0, h, slope) => {
    for (let x = x0; x < x1; ++x) for (let y = 0; y < h; ++y) map[Math.round(y0 + (x - x0) * slope + y) * W + x] = 0.9;
  };
  bar(110, 180, 10, 6, 0);
  bar(10, 90, 11, 6, 0);
  bar(20, 160, 40, 6, Math.tan((4 * Math.PI) / 180));
  const boxes = ocr.dbBoxes(map, W, H, { unclipRatio: 0 });
  const angle = (b) => (Math.atan2(b.quad[1][1] - b.quad[0][1], b.quad[1][0] - b.quad[0][0]) * 180) / Math.PI;
  if (boxes.length !== 3) fail(`dbBoxes found ${boxes.length} boxes, expected 3`);
  if (!(boxes[0].x0 < 20 && boxes[1].x0 > 100 && boxes[2].y0 > 30)) fail(`reading order: ${JSON.stringify(boxes.map((b) => [b.x0, b.y0]))}`);
  if (Math.abs(angle(boxes[2]) - 4) > 1 || Math.abs(boxes[2].w - 140) > 3 || Math.abs(boxes[2].h - 6) > 2) {
    fail(`the tilted bar's box: angle ${angle(boxes[2]).toFixed(2)}, ${boxes[2].w.toFixed(1)} x ${boxes[2].h.toFixed(1)}`);
  }
  const grown = ocr.dbBoxes(map, W, H, { unclipRatio: 2 })[0];  // grown by 80 * 6 * 2 / (2 * 86) = 5.6 on each side
  if (Math.abs(grown.w - 91.2) > 1 || Math.abs(grown.h - 17.2) > 1) fail(`unclip: ${grown.w.toFixed(1)} x ${grown.h.toFixed(1)}`);
  console.log('ocr test: pipeline checks (dictionary, CTC, boxes, reading order, unclip) passed');
}

for (const [path, hint] of [
  [join(webDir, 'dist', 'glint.wasm'), 'build the package: make web'],
  [join(data, 'ocr', 'ch_PP-OCRv4_det_infer.onnx'), 'fetch the models: make models'],
  [join(data, 'ocr', 'ch_PP-OCRv4_rec_infer.onnx'), 'fetch the models: make models'],
  [join(data, 'ocr', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), 'fetch the models: make models'],
  [join(data, 'ocr', 'ppocr_keys_v1.txt'), 'fetch the models: make models'],
  [join(data, 'images', 'page.png'), 'fetch the models: make models'],
  [join(webDir, 'node_modules', 'playwright-core'), 'install the npm packages: (cd web && npm ci)'],
]) {
  if (!existsSync(path)) { console.error(`ocr test: ${path} is missing: ${hint}`); process.exit(77); }
}

// What page.png says (its first line, and words from the lines below it).
const FIRST_LINE = /region\s*[-‐‑–—]?\s*based\s*segmentation/i;
const WORDS = ['markers', 'coins', 'background', 'pixels', 'label', 'unambiguously', 'object', 'histogram', 'grey', 'values'];

function check(o, ep) {
  if (o.state !== 'done') return `the page reports: ${o.error}`;
  if (o.provider !== ep) return `ran on ${o.provider}, asked for ${ep}`;
  if (!o.lines.length) return 'no lines read';
  if (!FIRST_LINE.test(o.lines[0].text)) return `first line '${o.lines[0].text}', expected 'Region-based segmentation'`;
  const text = o.lines.map((l) => l.text).join(' ').toLowerCase();
  const missing = WORDS.filter((w) => !text.includes(w));
  if (missing.length > WORDS.length * 0.2) return `words not read: ${missing.join(', ')}`;
  return null;
}

const f = (x) => (x === undefined ? '–' : `${x.toFixed(0)} ms`);
function print(o, ep, secs) {
  if (o.state !== 'done') { console.log(`\n${ep}: ${o.state}: ${o.error}, after ${secs.toFixed(1)} s`); return; }
  console.log(`\n${ep}: ran on ${o.provider} (${o.renderer || 'no WebGL'}), ${secs.toFixed(1)} s in the page`);
  for (const [i, l] of o.lines.entries()) {
    const angle = l.verdict ? `  [${l.verdict.angle}° ${(100 * l.verdict.score).toFixed(0)}%${l.angle === 180 ? ', turned' : ''}]` : '';
    console.log(`  ${String(i + 1).padStart(2)}. ${(100 * l.score).toFixed(1).padStart(5)}%  ${l.text}${angle}`);
  }
  const t = o.times;
  const shape = (s) => (s ? `[${s.join(',')}]` : '');
  console.log(`  stages: det ${f(t.det)} ${shape(o.shapes.det)}, boxes ${f(t.boxes)}, ` +
    `${t.cls !== undefined ? `cls ${f(t.cls)} ${shape(o.shapes.cls)}, ` : ''}rec ${f(t.rec)} ${shape(o.shapes.rec)}, ` +
    `decode ${f(t.decode)}, total ${f(t.total)}`);
  const c = Object.entries(o.created).map(([k, v]) => `${k} ${(v.bytes / 1e6).toFixed(1)} MB, download ${f(v.fetchMs)}, compile ${f(v.compileMs)}, ${v.threads} thread(s)`);
  if (c.length) console.log(`  sessions: ${c.join('; ')}`);
}

const t0 = Date.now();
const server = await startServer({ port: 0 });
const { browser, version } = await launchChromium();
console.log(`ocr test: ${version}, serving ${server.url}`);
const failures = [];
const texts = {};
try {
  const context = await browser.newContext();
  for (const ep of selected) {
    // wasm with the direction classifier on (the lines vote; page.png is
    // upright, so nothing is turned); webgl without it (on SwiftShader every
    // shader is compiled by the CPU on the first run: minutes).
    const cls = ep === 'wasm';
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error' && !/404 \(Not Found\)/.test(m.text())) errors.push(m.text()); });
    const start = Date.now();
    try {
      await page.goto(`${server.url}demo/ocr.html?ep=${ep}${cls ? '&cls=1' : ''}`);
      await page.waitForFunction(() => {
        const el = document.getElementById('lines');
        return el && (el.dataset.state === 'done' || el.dataset.state === 'error');
      }, null, { timeout: 400000, polling: 250 });
      const o = await page.evaluate(() => window.glintOcr);
      mkdirSync(shotDir, { recursive: true });
      await page.screenshot({ path: join(shotDir, `ocr-${ep}.png`), fullPage: true });
      print(o, cls ? `${ep} + direction classifier` : ep, (Date.now() - start) / 1000);
      let why = check(o, ep);
      if (!why && cls && o.pageAngle !== 0) why = `the lines voted the page ${o.pageAngle} degrees`;
      if (!why && cls && o.lines.some((l) => !l.verdict)) why = 'a line has no direction verdict';
      if (!why && errors.length) why = `page errors: ${errors.join(' | ')}`;
      if (why) failures.push(`${ep}: ${why}`);
      if (o.lines) texts[ep] = o.lines.map((l) => l.text);
    } catch (e) {
      failures.push(`${ep}: ${e.message.split('\n')[0]}`);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}

if (texts.wasm && texts.webgl) {
  const same = texts.wasm.length === texts.webgl.length && texts.wasm.every((t, i) => t === texts.webgl[i]);
  console.log(`\nwasm and webgl read ${same ? 'the same text' : 'different text'}`);
  if (!same) {
    for (let i = 0; i < Math.max(texts.wasm.length, texts.webgl.length); ++i) {
      if (texts.wasm[i] !== texts.webgl[i]) console.log(`  line ${i + 1}: wasm '${texts.wasm[i]}' / webgl '${texts.webgl[i]}'`);
    }
    failures.push('wasm and webgl read different text');
  }
}
console.log(`ocr test took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
for (const x of failures) console.log(`FAIL ${x}`);
console.log(failures.length ? 'FAILED' : 'passed');
process.exit(failures.length ? 1 : 0);
