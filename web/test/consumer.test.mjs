// The consumer-app test: the package as a web developer gets it. `npm pack`s
// web/, makes a fresh app in a temporary directory (test/consumer: index.html
// + main.js, no Vite config file, no wasmPaths, no files copied), installs
// the tarball beside Vite, webpack and esbuild (pinned in test/consumer/package-lock.json,
// installed once into build/web-consumer and reused while the lock file is
// unchanged), and in headless Chromium classifies chelsea.png with SqueezeNet
// on wasm and webgl, top-1 'Egyptian cat', from:
//
//   vite-build          `vite build`, served plain
//   vite-build-coi      the same, served cross-origin isolated (COOP/COEP): threads
//   vite-build-partial  cross-origin isolated with one of the threaded files
//                       Vite emits separately missing (each in turn): one
//                       thread, never a hang (Vite inlines the 2 KiB worker
//                       script as a data: URL, which glint starts as a blob:)
//   script-tag          no bundler: the page maps 'glint-onnx' to the package's
//                       dist/index.mjs with an import map; served plain, cross-origin
//                       isolated (threads), and isolated with each threaded file missing
//   vite-dev            the Vite dev server (dependency pre-bundling and all)
//   webpack             `webpack ./main.js --mode production` (webpack-cli, no
//                       config file), served plain and cross-origin isolated
//   esbuild             `esbuild --bundle` plus its one documented step
//                       (cp node_modules/glint-onnx/dist/glint.wasm next to the bundle),
//                       served plain and cross-origin isolated (no threaded files there)
//
// The model, photo and labels come from a second origin (CORS), so nothing
// of them is in the app either.
//
//   node test/consumer.test.mjs [--keep]     (--keep: leave the temporary app)
//
// Prints one line per case and "N passed, M failed"; exit 77 (CTest: skipped)
// when web/dist, the models or web/node_modules are missing.
import { execFileSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { launchChromium } from '../tools/chromium.mjs';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');
const appSrc = join(webDir, 'test', 'consumer');
const modelsDir = join(repoDir, 'models', 'data');
const cacheDir = join(repoDir, 'build', 'web-consumer');
const keep = process.argv.includes('--keep');

for (const [path, hint] of [
  [join(webDir, 'dist', 'glint.wasm'), 'build the package: make web'],
  [join(modelsDir, 'squeezenet1.1-fp16.onnx'), 'fetch the models: make models'],
  [join(modelsDir, 'images', 'chelsea.png'), 'fetch the models: make models'],
  [join(webDir, 'node_modules', 'playwright-core'), 'install the npm packages: (cd web && npm ci)'],
]) {
  if (!existsSync(path)) { console.error(`consumer test: ${path} is missing: ${hint}`); process.exit(77); }
}

const t0 = Date.now();
const step = (what) => console.log(`consumer: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

// --- Vite, webpack and esbuild, from the lock file, installed once ------------
function installTools() {
  const lock = readFileSync(join(appSrc, 'package-lock.json'));
  const want = execFileSync('sha256sum', [join(appSrc, 'package-lock.json')], { encoding: 'utf8' }).split(' ')[0];
  const stamp = join(cacheDir, 'node_modules', '.glint-lock-sha256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return 'cached';
  rmSync(cacheDir, { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  cpSync(join(appSrc, 'package.json'), join(cacheDir, 'package.json'));
  writeFileSync(join(cacheDir, 'package-lock.json'), lock);
  // --ignore-scripts: esbuild finds its binary in its optional dependency.
  run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline', '--loglevel=error'], cacheDir);
  writeFileSync(stamp, want);
  return 'installed with npm ci';
}

// --- static servers -------------------------------------------------------------
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.wasm': 'application/wasm', '.png': 'image/png', '.txt': 'text/plain; charset=utf-8',
  '.onnx': 'application/octet-stream', '.json': 'application/json',
};

function freePort() {
  return new Promise((res, rej) => {
    const s = createNetServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

// Serves `dir`; `isolate` adds COOP/COEP; `hide(path)` answers 404 for files a
// partial deploy lacks; `cors` lets other origins fetch (the models).
function serveDir(dir, { isolate = false, hide = null, cors = false } = {}) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = resolve(dir, '.' + sep + normalize(path));
    if (file !== dir && !file.startsWith(dir + sep)) { res.writeHead(403); res.end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    const headers = {};
    if (isolate) Object.assign(headers, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
    if (cors) Object.assign(headers, { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' });
    if ((hide && hide(path)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }); res.end('404'); return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Content-Length': statSync(file).size, 'Cache-Control': 'no-store' });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
  return new Promise((res) => server.listen(0, '127.0.0.1', () => res({
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  })));
}

// --- the app ----------------------------------------------------------------------
const results = [];
let failed = 0;
function report(name, ok, detail) {
  results.push({ name, ok, detail });
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}: ${detail}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'glint-consumer-'));
const app = join(tmp, 'app');
let browser, modelServer;
const servers = [];
let vite = null;
try {
  step(`Vite, webpack and esbuild: ${installTools()}`);
  // The package exactly as npm would publish it.
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], webDir))[0];
  step(`npm pack: ${packed.filename}, ${(packed.size / 1024).toFixed(0)} KiB, ${packed.entryCount} files`);
  if (!packed.files.some((f) => f.path === 'LICENSE')) report('tarball', false, 'no LICENSE in the tarball');
  // A fresh app: its two source files, the tools (copied, not linked: a
  // linked package would not be pre-bundled by Vite's dev server as an
  // installed one is), and the tarball unpacked where `npm install` puts it.
  mkdirSync(app);
  for (const f of ['index.html', 'main.js', 'package.json']) cpSync(join(appSrc, f), join(app, f));
  cpSync(join(appSrc, 'script-tag'), join(app, 'script-tag'), { recursive: true });
  cpSync(join(appSrc, 'esbuild', 'index.html'), join(app, 'esbuild-out', 'index.html'));
  cpSync(join(cacheDir, 'node_modules'), join(app, 'node_modules'), { recursive: true, verbatimSymlinks: true });
  const pkgDir = join(app, 'node_modules', 'glint-onnx');
  mkdirSync(pkgDir);
  run('tar', ['xzf', join(tmp, packed.filename), '-C', pkgDir, '--strip-components=1'], app);

  run(process.execPath, [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], app);
  step('vite build (no config file)');
  run(process.execPath, [join(app, 'node_modules', 'esbuild', 'bin', 'esbuild'), 'main.js', '--bundle', '--format=esm',
    '--outdir=esbuild-out', '--log-level=warning'], app);
  // esbuild's one documented step: it does not emit files named by new URL(..., import.meta.url).
  cpSync(join(pkgDir, 'dist', 'glint.wasm'), join(app, 'esbuild-out', 'glint.wasm'));
  step('esbuild --bundle + cp glint.wasm');
  cpSync(join(appSrc, 'webpack', 'index.html'), join(app, 'webpack-out', 'index.html'));
  run(process.execPath, [join(app, 'node_modules', 'webpack-cli', 'bin', 'cli.js'), './main.js', '--mode', 'production',
    '--output-path', 'webpack-out', '--stats', 'errors-only'], app);
  step('webpack (no config file)');

  modelServer = await serveDir(modelsDir, { cors: true });
  const { browser: b, version } = await launchChromium();
  browser = b;
  step(`${version}`);
  const context = await browser.newContext();

  // Opens the page and waits for the app to classify (or fail). Returns the
  // app's result object, or throws with its error.
  async function classify(url, ep) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      const start = Date.now();
      await page.goto(`${url}${url.includes('?') ? '&' : '?'}ep=${ep}&models=${encodeURIComponent(modelServer.url)}`);
      await page.waitForSelector('body[data-state="done"], body[data-state="error"]', { timeout: 90000 });
      const state = await page.getAttribute('body', 'data-state');
      if (state !== 'done') throw new Error(await page.getAttribute('body', 'data-error'));
      if (errors.length) throw new Error(`page errors: ${errors.join(' | ')}`);
      return { ...JSON.parse(await page.getAttribute('body', 'data-result')), pageMs: Date.now() - start };
    } finally {
      await page.close();
    }
  }

  async function check(name, url, ep, expect = {}) {
    try {
      const r = await classify(url, ep);
      const problems = [];
      if (r.top1 !== 'Egyptian cat') problems.push(`top-1 '${r.top1}'`);
      if (r.provider !== ep) problems.push(`ran on ${r.provider}`);
      if (expect.threads !== undefined && r.threads !== expect.threads) problems.push(`${r.threads} thread(s), expected ${expect.threads}`);
      if (expect.isolated !== undefined && r.isolated !== expect.isolated) problems.push(`crossOriginIsolated ${r.isolated}`);
      report(`${name} ${ep}`, problems.length === 0, `${problems.length ? problems.join(', ') + '; ' : ''}top-1 '${r.top1}' ` +
        `${(100 * r.prob).toFixed(1)}% on ${r.provider}, ${r.threads} thread(s), create ${r.createMs.toFixed(0)} ms, page ${(r.pageMs / 1000).toFixed(1)} s`);
    } catch (e) {
      report(`${name} ${ep}`, false, e.message.split('\n')[0]);
    }
  }

  const dist = join(app, 'dist');
  const plain = await serveDir(dist); servers.push(plain);
  await check('vite-build', plain.url, 'wasm', { threads: 1 });
  await check('vite-build', plain.url, 'webgl');
  const coi = await serveDir(dist, { isolate: true }); servers.push(coi);
  await check('vite-build-coi', coi.url, 'wasm', { isolated: true, threads: 2 });
  await check('vite-build-coi', coi.url, 'webgl', { isolated: true });
  // A partial deploy: each threaded file Vite emits missing in turn (it
  // names them glint-threaded-HASH.wasm / .mjs).
  for (const [what, re] of [['.wasm', /glint-threaded-[^/]*\.wasm$/], ['.mjs', /glint-threaded-[^/]*\.mjs$/]]) {
    const s = await serveDir(dist, { isolate: true, hide: (p) => re.test(p) }); servers.push(s);
    await check(`vite-build-partial (no glint-threaded${what})`, s.url, 'wasm', { isolated: true, threads: 1 });
  }

  // No bundler: the package's files as they are, through an import map.
  const tag = await serveDir(app); servers.push(tag);
  await check('script-tag', `${tag.url}script-tag/`, 'wasm', { threads: 1 });
  const tagCoi = await serveDir(app, { isolate: true }); servers.push(tagCoi);
  await check('script-tag-coi', `${tagCoi.url}script-tag/`, 'wasm', { isolated: true, threads: 2 });
  for (const f of ['glint-threaded.mjs', 'glint-threaded.wasm', 'glint-threaded.worker.js']) {
    const s = await serveDir(app, { isolate: true, hide: (p) => p.endsWith(`/dist/${f}`) }); servers.push(s);
    await check(`script-tag-partial (no ${f})`, `${s.url}script-tag/`, 'wasm', { isolated: true, threads: 1 });
  }

  // The Vite dev server, as `vite` starts it with no config file.
  const { createServer: createViteServer } = await import(pathToFileURL(join(app, 'node_modules', 'vite', 'dist', 'node', 'index.js')).href);
  vite = await createViteServer({ root: app, configFile: false, logLevel: 'warn', server: { host: '127.0.0.1', port: await freePort(), strictPort: true } });
  await vite.listen();
  const devUrl = vite.resolvedUrls.local[0];
  step(`vite dev server at ${devUrl}`);
  await check('vite-dev', devUrl, 'wasm');
  await check('vite-dev', devUrl, 'webgl');

  const wp = await serveDir(join(app, 'webpack-out')); servers.push(wp);
  await check('webpack', wp.url, 'wasm', { threads: 1 });
  await check('webpack', wp.url, 'webgl');
  const wpCoi = await serveDir(join(app, 'webpack-out'), { isolate: true }); servers.push(wpCoi);
  await check('webpack-coi', wpCoi.url, 'wasm', { isolated: true, threads: 2 });

  const esb = await serveDir(join(app, 'esbuild-out')); servers.push(esb);
  await check('esbuild', esb.url, 'wasm', { threads: 1 });
  await check('esbuild', esb.url, 'webgl');
  const esbCoi = await serveDir(join(app, 'esbuild-out'), { isolate: true }); servers.push(esbCoi);
  await check('esbuild-coi (no threaded files)', esbCoi.url, 'wasm', { isolated: true, threads: 1 });
} catch (e) {
  report('setup', false, e.stderr ? `${e.message.split('\n')[0]}: ${String(e.stderr).trim().split('\n').slice(-5).join(' | ')}` : e.message);
} finally {
  if (browser) await browser.close();
  if (vite) await vite.close();
  for (const s of servers) await s.close();
  if (modelServer) await modelServer.close();
  if (keep) console.log(`consumer: the app is kept in ${app}`);
  else rmSync(tmp, { recursive: true, force: true });
}

step('done');
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
