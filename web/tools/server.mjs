// A small static file server for the demo page and the browser tests, on
// 127.0.0.1 only. No framework: node:http and node:fs.
//
//   node tools/server.mjs [--port N]     (default 8080; 0 = any free port)
//
// What it serves:
//   /            web/ (the package: /dist/, the demo at /demo/, the test pages at /test/)
//   /models/     models/data/ (models, photos, labels; tools/fetch-models.sh),
//                and /models/models.json from models/ (how each model is fed)
//   /ort/        onnxruntime-web's dist/ (for the API-compatibility script)
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const webDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoDir = resolve(webDir, '..');

const MOUNTS = [
  ['/models/', join(repoDir, 'models', 'data')],
  ['/ort/', join(webDir, 'node_modules', 'onnxruntime-web', 'dist')],
  ['/', webDir],
];

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8', '.wasm': 'application/wasm',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8', '.onnx': 'application/octet-stream',
  '.map': 'application/json; charset=utf-8', '.ts': 'text/plain; charset=utf-8',
};

function resolvePath(urlPath, mounts) {
  if (urlPath === '/models/models.json') return join(repoDir, 'models', 'models.json');
  for (const [prefix, dir] of mounts) {
    if (!urlPath.startsWith(prefix)) continue;
    const rel = normalize(decodeURIComponent(urlPath.slice(prefix.length)));
    const full = resolve(dir, '.' + sep + rel);
    if (full !== dir && !full.startsWith(dir + sep)) return null;  // no escaping the mount
    return full;
  }
  return null;
}

function notFound(res, path) {
  res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1><p>${path.replace(/[<>&]/g, '')}</p>\n`);
}

// `mounts`: extra [prefix, directory] pairs, matched before the ones above
// (the benchmark serves a second build of the package at /base/).
export function startServer({ port = 8080, host = '127.0.0.1', quiet = true, mounts = [] } = {}) {
  const allMounts = [...mounts, ...MOUNTS];
  const server = createServer((req, res) => {
    let path;
    try {
      path = new URL(req.url, 'http://x').pathname;
    } catch {
      res.writeHead(400); res.end(); return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
    if (path === '/') { res.writeHead(302, { Location: '/demo/' }); res.end(); return; }
    let file = resolvePath(path, allMounts);
    if (file && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file || !existsSync(file) || !statSync(file).isFile()) {
      if (!quiet) console.log(`404 ${path}`);
      notFound(res, path);
      return;
    }
    const size = statSync(file).size;
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': size,
      'Cache-Control': 'no-cache',
      // Cross-origin isolation, so that pages may use SharedArrayBuffer.
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolveStart({ server, url: `http://${host}:${p}/`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const i = args.indexOf('--port');
  const port = i >= 0 ? Number(args[i + 1]) : 8080;
  const { url } = await startServer({ port, quiet: false });
  console.log(`serving ${url} (demo: ${url}demo/) — Ctrl-C to stop`);
}
