// A static file server for load experiments on copies of a page: serves a folder on 127.0.0.1 the way the
// console serves its site (the precompressed `.gz` copy when the client accepts gzip, `Cache-Control:
// no-cache`, `application/wasm` for wasm), so a page copy loads the same bytes as from the console.
//
// Usage: node end2end/bench/static-server.mjs --root DIR [--port 3620]
// A path that names a folder serves its index.html.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const root = arg('root', '.');
const port = Number(arg('port', '3620'));
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

async function isFile(p) {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  let path = normalize(join(root, decodeURIComponent(url.pathname)));
  if (!path.startsWith(normalize(root))) {
    res.writeHead(403).end();
    return;
  }
  if (!(await isFile(path)) && (await isFile(join(path, 'index.html')))) path = join(path, 'index.html');
  if (!(await isFile(path))) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const headers = { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' };
  const gz = `${path}.gz`;
  if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '') && (await isFile(gz))) {
    headers['content-encoding'] = 'gzip';
    res.writeHead(200, headers).end(await readFile(gz));
  } else {
    res.writeHead(200, headers).end(await readFile(path));
  }
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}`));
