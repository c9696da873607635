// `make demo`: serves the demo page at a printed 127.0.0.1 URL, opens it once
// in headless Chromium (WebGL2), and prints SqueezeNet's top-5 for the default
// photo with the timings. Then keeps serving until Ctrl-C when run from a
// terminal; exits when not (CI, scripts) or with --once.
//
//   node tools/demo.mjs [--port N] [--once] [--runs N] [--ep auto|webgl|wasm]   (default auto)
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';
import { startServer } from './server.mjs';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
const port = Number(opt('--port', process.env.GLINT_DEMO_PORT ?? 8080));
const runs = Number(opt('--runs', 3));
const ep = opt('--ep', 'auto');
const once = args.includes('--once') || !process.stdin.isTTY;

if (!existsSync(join(webDir, 'dist', 'glint.wasm'))) {
  console.error('demo: web/dist is missing: make web');
  process.exit(1);
}

let srv;
try {
  srv = await startServer({ port });
} catch (e) {
  if (e.code !== 'EADDRINUSE') throw e;
  srv = await startServer({ port: 0 });  // 8080 taken: any free port
}
const url = `${srv.url}demo/`;
console.log(`demo: serving ${url}`);

const { browser, version } = await launchChromium();
let ok = false;
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`demo: page error: ${e.message}`));
  console.log(`demo: opening it in headless ${version} (${ep}, WebGL2 on SwiftShader; ${runs} timing runs on the photo)…`);
  await page.goto(`${url}?ep=${ep}&runs=${runs}`);
  await page.waitForFunction(() => {
    const r = document.getElementById('results');
    return r && (r.dataset.state === 'error' || r.dataset.bench === 'done');
  }, null, { timeout: 600000, polling: 250 });
  const d = await page.evaluate(() => window.glintDemo);
  if (d.state !== 'done') {
    console.error(`demo: the page reports an error: ${d.error}`);
  } else {
    console.log(`\n${d.model} on ${d.image}, provider ${d.provider} (${d.renderer}): ${d.reason}`);
    for (const [i, t] of d.top.entries()) {
      const bar = '#'.repeat(Math.round(t.prob * 40));
      console.log(`  ${i + 1}. ${(100 * t.prob).toFixed(1).padStart(5)}%  ${t.label.split(',')[0].padEnd(22)} ${bar}`);
    }
    const t = d.timings;
    const f = (x) => (x === undefined || x === null ? '–' : `${x.toFixed(1)} ms`);
    console.log(`timings: load ${f(t.fetchMs + t.loadMs)} (download ${f(t.fetchMs)}, parse ${f(t.loadMs)}), ` +
                `compile ${f(t.compileMs)}, session create ${f(t.createMs)}, first run ${f(t.firstRunMs)}, ` +
                `median run ${f(t.medianRunMs)} (${d.runs} runs)`);
    ok = true;
  }
} finally {
  await browser.close();
}
if (once) {
  await srv.close();
  process.exit(ok ? 0 : 1);
}
console.log(`\ndemo: still serving ${url} — open it in a browser; Ctrl-C to stop`);
process.on('SIGINT', async () => { await srv.close(); process.exit(0); });
