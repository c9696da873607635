// The benchmark harness: glint against TensorFlow.js, onnxruntime-web and
// ONNX.js in one headless Chromium, every engine served by the same local
// page server (web/tools/server.mjs: COOP/COEP, so SharedArrayBuffer exists).
// One page per engine × backend × threads configuration; the rounds are
// interleaved (each round runs every configuration once, in a shuffled
// order) so that machine drift and one page's after-effects on the next hit
// every configuration alike. README.md beside this file says how to read it.
//
//   node web/bench/run.mjs [--runs N] [--warmup N] [--only W,...] [--engines E,...]
//                          [--threads 1,2] [--budget S] [--settle MS] [--out DIR] [--no-models]
//                          [--baseline DIR]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../tools/chromium.mjs';
import { startServer } from '../tools/server.mjs';
import { fmtMs, markdownReport, svgChart, referenceFor, TOLERANCE } from './report.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(benchDir, '..');
const repoDir = resolve(webDir, '..');
const modelsDir = join(repoDir, 'models', 'data', 'bench');

const ALL_WORKLOADS = ['squeezenet', 'mobilenetv2', 'mnist', 'silero-vad', 'matmul', 'conv3x3', 'depthwise3x3', 'bert', 'gpt-decode', 'gpt-decode-loop'];
const HELP = `usage: node web/bench/run.mjs [options]
  --runs N        timed runs per configuration and workload (default 20; at least 20 for a report)
  --warmup N      warm-up runs before them (default 3)
  --only W,...    workloads (default all: ${ALL_WORKLOADS.join(',')})
  --engines E,... engines or configurations: glint, ort, tfjs, onnxjs, or e.g. glint-webgl, ort-wasm,
                  tfjs-wasm-2t (default all)
  --threads T,... thread counts for the wasm backends (default 1,2)
  --budget S      seconds per configuration and workload for its warm-ups + timed runs; past it the
                  configuration stops once it has 5 timed runs, marked "(N runs, budget)" (default 15)
  --settle MS     pause after each run of a multi-threaded wasm configuration, so that its workers
                  stop spinning before the next run starts (default 50; 0: none)
  --timeout S     seconds one create or run may take before the configuration is dropped (default 120)
  --out DIR       where bench.json, bench.md and bench.svg go (default bench-results/)
  --no-models     do not run tools/make-bench-models.py first
  --baseline DIR  another build of the package (a web/dist directory, e.g. of the code before a
                  change), measured as engine glint-base beside glint, interleaved: an A/B
  --into          also measure glint-into: glint with every output written into a tensor the
                  page allocated once (run(feeds, {name: tensor}), onnxruntime-web's pre-allocated
                  outputs) instead of a new one each run (a decode loop's carried outputs stay kept)`;

function parseArgs(argv) {
  const o = { runs: 20, warmup: 3, only: ALL_WORKLOADS, engines: null, threads: [1, 2], budget: 15, settle: 50, timeout: 120,
    out: join(repoDir, 'bench-results'), models: true };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const num = (min) => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < min) throw new Error(`${a} needs a number ≥ ${min}`);
      return v;
    };
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    else if (a === '--runs') o.runs = Math.floor(num(1));
    else if (a === '--warmup') o.warmup = Math.floor(num(0));
    else if (a === '--only') o.only = val().split(',').filter(Boolean);
    else if (a === '--engines') o.engines = val().split(',').filter(Boolean);
    else if (a === '--threads') o.threads = val().split(',').map(Number);
    else if (a === '--budget') o.budget = num(0);
    else if (a === '--timeout') o.timeout = num(1);
    else if (a === '--settle') o.settle = num(0);
    else if (a === '--out') o.out = resolve(val());
    else if (a === '--no-models') o.models = false;
    else if (a === '--baseline') o.baseline = resolve(val());
    else if (a === '--into') o.into = true;
    else throw new Error(`unknown option ${a}\n${HELP}`);
  }
  for (const w of o.only) if (!ALL_WORKLOADS.includes(w)) throw new Error(`unknown workload '${w}' (${ALL_WORKLOADS.join(', ')})`);
  if (o.threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error('--threads takes positive integers');
  return o;
}

const log = (s) => console.log(s);

// web/test/util.mjs's maxAbsDiff. That module imports web/dist/image.mjs, so
// main() imports it once it has checked that web/dist exists.
let maxAbsDiff;

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function configsFor(opts) {
  const all = [];
  const add = (engine, backend, threads) => all.push({
    id: backend === 'wasm' ? `${engine}-wasm-${threads}t` : `${engine}-${backend}`, engine, backend, threads,
  });
  add('glint', 'webgl', 1);
  for (const t of opts.threads) add('glint', 'wasm', t);
  if (opts.baseline) {
    add('glint-base', 'webgl', 1);
    for (const t of opts.threads) add('glint-base', 'wasm', t);
  }
  if (opts.into) {
    add('glint-into', 'webgl', 1);
    for (const t of opts.threads) add('glint-into', 'wasm', t);
  }
  add('ort', 'webgl', 1);
  for (const t of opts.threads) add('ort', 'wasm', t);
  add('tfjs', 'webgl', 1);
  for (const t of opts.threads) add('tfjs', 'wasm', t);
  add('onnxjs', 'webgl', 1);
  if (!opts.engines) return all;
  return all.filter((c) => opts.engines.some((e) => c.id === e || c.engine === e || `${c.engine}-${c.backend}` === e));
}

function withTimeout(promise, s, what) {
  let timer;
  return Promise.race([promise, new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${s} s`)), s * 1000);
  })]).finally(() => clearTimeout(timer));
}

function errorText(e) {
  return String(e && e.message ? e.message : e).replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0].slice(0, 240);
}

function median(v) { return percentile(v, 0.5); }
function percentile(v, p) {
  if (!v.length) return undefined;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  log(`bench: ${opts.runs} timed runs after ${opts.warmup} warm-ups; budget ${opts.budget} s per configuration and workload`);
  if (!existsSync(join(webDir, 'dist', 'index.mjs'))) throw new Error('web/dist is missing: run make web');
  ({ maxAbsDiff } = await import('../test/util.mjs'));
  if (!existsSync(join(benchDir, 'node_modules', 'onnxruntime-web'))) {
    throw new Error('web/bench/node_modules is missing: (cd web/bench && npm ci --ignore-scripts)');
  }
  if (opts.models) {
    log('bench: models (tools/make-bench-models.py)');
    execFileSync('/usr/bin/python3', [join(repoDir, 'tools', 'make-bench-models.py')], { stdio: 'inherit' });
  }
  const manifest = JSON.parse(readFileSync(join(modelsDir, 'manifest.json'), 'utf8'));
  const workloads = opts.only.map((n) => {
    const w = manifest.workloads.find((x) => x.name === n);
    if (!w || !w.inputs || !w.outputs) {
      throw new Error(`workload ${n} is not in ${relative(repoDir, modelsDir)}/manifest.json (or in an older format): ` +
        'rerun tools/make-bench-models.py');
    }
    return w;
  });

  const configs = configsFor(opts);
  if (!configs.length) throw new Error('no configuration selected (--engines)');

  if (opts.baseline && !existsSync(join(opts.baseline, 'index.mjs')))
    throw new Error(`--baseline ${opts.baseline}: no index.mjs there (a web/dist directory is expected)`);
  const server = await startServer({ port: 0, mounts: opts.baseline ? [['/base/', opts.baseline]] : [] });
  const { browser, version } = await launchChromium();
  const env = {
    date: new Date().toISOString(), chromium: version, node: process.version, cpu: cpus()[0]?.model,
    cores: cpus().length, versions: {
      glint: JSON.parse(readFileSync(join(webDir, 'package.json'), 'utf8')).version,
      tfjs: packageVersion('@tensorflow/tfjs'), 'tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
      'onnxruntime-web': packageVersion('onnxruntime-web'), onnxjs: packageVersion('onnxjs'),
    },
  };
  const results = { env, options: { ...opts, out: relative(repoDir, opts.out) }, configs: [], workloads: [] };
  try {
    const context = await browser.newContext();
    for (const [order, c] of configs.entries()) {
      c.order = order;
      const page = await context.newPage();
      c.page = page;
      c.console = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') c.console.push(m.text().slice(0, 300)); });
      page.on('pageerror', (e) => c.console.push(`pageerror: ${errorText(e)}`));
      if (c.engine === 'tfjs' && c.backend === 'wasm' && c.threads > 1 && cpus().length < 2 * c.threads) {
        // TF.js wasm caps its thread count by navigator.hardwareConcurrency
        // (2 threads on 2 cores become 1): report enough cores for the count asked.
        const cores = 2 * c.threads;
        await page.addInitScript((n) => Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => n }), cores);
        c.note = `navigator.hardwareConcurrency reported as ${cores} (TF.js caps threads below the core count)`;
      }
      results.configs.push(c.record = { id: c.id, engine: c.engine, backend: c.backend, threads: c.threads });
    }
    const startPage = async (c, first) => {
      // A fresh page per workload: nothing (texture pools, tensors, a hung
      // call) carries over from the workload before.
      const { page } = c;
      try {
        await withTimeout(page.goto(`${server.url}bench/page.html?engine=${c.engine}&backend=${c.backend}&threads=${c.threads}`),
          opts.timeout, `${c.id} page load`);
        await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
        const info = await withTimeout(page.evaluate(() => window.bench.init()), opts.timeout, `${c.id} init`);
        info.version ??= env.versions[c.engine];
        if (c.note) info.notes = [...(info.notes ?? []), c.note];
        if (!env.renderer) env.renderer = await page.evaluate(() => window.bench.renderer());
        c.error = undefined;
        if (first) {
          c.record.info = info;
          log(`bench: page ${c.id}: ${info.version ? `v${info.version}` : ''}` +
              `${info.threads !== undefined ? `, ${info.threads} thread(s)` : ''}` +
              `${info.runtimeMs !== undefined ? `, runtime start ${fmtMs(info.runtimeMs)} ms` : ''}` +
              `${info.notes?.length ? `, ${info.notes.join(', ')}` : ''}` +
              `${info.crossOriginIsolated ? '' : ' (NOT cross-origin isolated)'}`);
        }
      } catch (e) {
        c.error = `cannot start: ${errorText(e)}`;
        if (first || !c.record.error) c.record.error = c.error;
        log(`bench: page ${c.id}: ${c.error}`);
      }
    };
    for (const [i, w] of workloads.entries()) {
      for (const c of configs) await startPage(c, i === 0);
      if (i === 0) log(`bench: Chromium ${version.replace(/^Chromium /, '')}; WebGL: ${env.renderer}`);
      results.workloads.push(await runWorkload(w, configs.filter((c) => !c.error), configs.filter((c) => c.error), opts));
    }
    await context.close();
  } finally {
    await browser.close();
    await server.close();
  }
  results.totalSeconds = (Date.now() - t0) / 1000;

  mkdirSync(opts.out, { recursive: true });
  const md = markdownReport(results);
  writeFileSync(join(opts.out, 'bench.json'), JSON.stringify(results, null, 1) + '\n');
  writeFileSync(join(opts.out, 'bench.md'), md);
  writeFileSync(join(opts.out, 'bench.svg'), svgChart(results));
  log('');
  log(md);
  log(`bench: wrote ${['bench.json', 'bench.md', 'bench.svg'].map((f) => relative(process.cwd(), join(opts.out, f))).join(', ')}` +
      ` (${results.totalSeconds.toFixed(0)} s in all)`);
}

// `list` in an order drawn from `seed` (a string): the same every time the
// bench runs, different from round to round (mulberry32 over a string hash,
// then Fisher-Yates).
function shuffled(list, seed) {
  let h = 2166136261;
  for (let i = 0; i < seed.length; ++i) h = Math.imul(h ^ seed.charCodeAt(i), 16777619);
  const random = () => {
    h = (h + 0x6d2b79f5) | 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; --i) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

async function runWorkload(w, live, dead, opts) {
  const tag = `[${w.name}]`;
  const wt0 = Date.now();
  log(`bench: ${tag} ${w.description}`);
  const rows = new Map([...live, ...dead].sort((a, b) => a.order - b.order).map((c) => [c.id, undefined]));  // the rows in configuration order
  // Each row names its configuration (id, engine, backend, threads), for the report.
  const rowOf = (c, fields) => ({ config: c.id, engine: c.engine, backend: c.backend, threads: c.threads, ...fields });
  for (const c of dead) rows.set(c.id, rowOf(c, { error: c.error, times: [] }));
  // TF.js runs the workloads make-bench-models.py translated (tfOps); for
  // the others the row says why not (tfSkip), and nothing is timed.
  const skipped = live.filter((c) => c.engine === 'tfjs' && !w.tfOps);
  for (const c of skipped) {
    rows.set(c.id, rowOf(c, { skipped: w.tfSkip ?? 'no TF.js port of this workload', times: [] }));
    log(`bench: ${tag} ${c.id}: n/a: ${rows.get(c.id).skipped}`);
  }
  live = live.filter((c) => !skipped.includes(c));
  const call = (c, fn, arg, what) => withTimeout(c.page.evaluate(fn, arg), opts.timeout, `${c.id} ${what}`);
  // A configuration that fails or hangs is dropped for this workload (its
  // page is loaded afresh for the next one).
  const fail = (c, row, e, what) => {
    row.error = `${what}: ${errorText(e)}`;
    const tail = c.console.slice(-3).join(' | ');
    log(`bench: ${tag} ${c.id}: ${row.error}${tail ? `  (console: ${tail})` : ''}`);
  };

  const active = [];
  for (const c of live) {
    const row = rowOf(c, { times: [], warmupMs: [], budgetStopped: false });
    rows.set(c.id, row);
    c.console.length = 0;
    try {
      const r = await call(c, (wl) => window.bench.create(wl),
        { name: w.name, inputs: w.inputs, outputs: w.outputs, tfSkip: w.tfSkip, carry: w.carry }, 'create');
      row.createMs = r.createMs;
    } catch (e) {
      fail(c, row, e, 'cannot load');
      continue;
    }
    try {
      const r = await call(c, () => window.bench.run(true), undefined, 'first run');
      row.firstMs = r.ms;
      row.outputs = r.outputs.map((b64) => Buffer.from(b64, 'base64'));
      log(`bench: ${tag} ${c.id}: create ${fmtMs(row.createMs)} ms, first run ${fmtMs(row.firstMs)} ms`);
    } catch (e) {
      fail(c, row, e, 'first run failed');
      await call(c, () => window.bench.release(), undefined, 'release').catch(() => {});
      continue;
    }
    row.spent = 0;
    active.push(c);
  }

  const runOnce = async (c, kind) => {
    const row = rows.get(c.id);
    try {
      const r = await call(c, () => window.bench.run(false), undefined, kind);
      row.spent += r.ms;
      // A multi-threaded wasm page's workers may go on spinning after its
      // run, on the cores the next run needs: wait until they sleep (see
      // "How it measures" in README.md).
      if (c.backend === 'wasm' && c.threads > 1 && opts.settle > 0) await new Promise((res) => setTimeout(res, opts.settle));
      return r.ms;
    } catch (e) {
      fail(c, row, e, `${kind} failed`);
      active.splice(active.indexOf(c), 1);
      return undefined;
    }
  };
  for (let i = 0; i < opts.warmup; ++i) {
    const line = [];
    for (const c of [...active]) {
      const ms = await runOnce(c, 'warm-up');
      if (ms !== undefined) { rows.get(c.id).warmupMs.push(ms); line.push(`${c.id} ${fmtMs(ms)}`); }
    }
    log(`bench: ${tag} warm-up ${i + 1}/${opts.warmup}: ${line.join(' · ')}`);
  }
  // Each round runs the configurations in its own order, shuffled with a
  // fixed seed: no configuration always runs right after the same other
  // one, whose after-effects (a thread pool still spinning, SwiftShader's
  // GPU-process threads finishing a webgl run, caches it filled) would
  // otherwise fall on it alone. Rotating the start (A B C, B C A, …) was not
  // enough: B still followed A in every round but one in three, and on the
  // transformer workloads, where ORT's webgl cannot load, glint wasm 1t was
  // the run right after every glint webgl run.
  for (let r = 0; r < opts.runs && active.length; ++r) {
    const line = [];
    for (const c of shuffled(active, `${tag} ${r}`)) {
      const row = rows.get(c.id);
      const ms = await runOnce(c, 'run');
      if (ms === undefined) continue;
      row.times.push(ms);
      line.push(`${c.id} ${fmtMs(ms)}`);
      if (row.spent > opts.budget * 1000 && row.times.length >= 5 && r + 1 < opts.runs) {
        row.budgetStopped = true;
        active.splice(active.indexOf(c), 1);
        line.push(`(${c.id} stops: ${row.times.length} runs, budget ${opts.budget} s spent)`);
      }
    }
    log(`bench: ${tag} round ${r + 1}/${opts.runs}: ${line.join(' · ')}`);
  }

  for (const c of live) {
    const row = rows.get(c.id);
    if (row.error || row.createMs === undefined) continue;
    try {
      row.memory = await call(c, () => window.bench.memory(), undefined, 'memory');
      await call(c, () => window.bench.release(), undefined, 'release');
    } catch (e) {
      log(`bench: ${tag} ${c.id}: memory/release: ${errorText(e)}`);
    }
  }

  // Correctness: every output against onnxruntime-web wasm's. maxAbsDiff is
  // the largest over the outputs, diffs each output's (by name).
  const ref = referenceFor([...rows.values()]);
  const f32 = (buf) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  for (const row of rows.values()) {
    if (row.times.length) {
      row.medianMs = median(row.times);
      row.p90Ms = percentile(row.times, 0.9);
    }
    if (!row.outputs) continue;
    if (!ref) { row.maxAbsDiff = null; continue; }
    row.diffs = {};
    const notes = [];
    for (const [k, o] of w.outputs.entries()) {
      const a = f32(row.outputs[k]);
      const b = f32(ref.outputs[k]);
      if (a.length !== b.length) {
        row.diffs[o.name] = null;
        notes.push(`${w.outputs.length > 1 ? `${o.name}: ` : ''}output has ${a.length} values, reference ${b.length}`);
      } else {
        row.diffs[o.name] = maxAbsDiff(a, b);
      }
    }
    const diffs = Object.values(row.diffs);
    // NaN (a NaN in an output) counts as the worst.
    row.maxAbsDiff = notes.length ? null : diffs.reduce((m, d) => (Number.isNaN(d) || d > m ? d : m), 0);
    if (notes.length) row.diffNote = notes.join('; ');
    if (w.outputs.length > 1 && row.maxAbsDiff !== null && row.maxAbsDiff !== 0) {  // NaN included
      row.worstOutput = w.outputs[diffs.findIndex((d) => d === row.maxAbsDiff || Number.isNaN(d))].name;
    }
    row.reference = ref.config;
  }
  const out = { name: w.name, description: w.description, outputs: w.outputs.map((o) => o.name), rows: [] };
  for (const row of rows.values()) {
    const { outputs, spent, ...keep } = row;
    out.rows.push(keep);
    if (row.maxAbsDiff !== undefined && row.maxAbsDiff !== null && !(row.maxAbsDiff <= TOLERANCE)) {
      log(`bench: ${tag} ${row.config}: output differs from ${row.reference} by ${row.maxAbsDiff} (> ${TOLERANCE})`);
    }
  }
  log(`bench: ${tag} done in ${((Date.now() - wt0) / 1000).toFixed(0)} s`);
  return out;
}

main().catch((e) => {
  console.error(`bench: error: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
