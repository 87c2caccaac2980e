// The floor of any Node.js client for an update pull: the same request chain as a pull makes
// (config ∥ summary ∥ summary.sig, then the from-revision superblock, then its part), with
// Node.js's own HTTP clients, bodies counted and dropped — no decoding, no verification, no
// writes. Run it as a whole process under GNU time, through the link emulator, beside the CLI
// (see BENCHMARKS.md, "Floors"):
//
//   /usr/bin/time -f '%e s %U user %S sys %M KB' node bench/floor.mjs URL DELTA_DIR [CA_FILE]
//
// URL: the repository through the link emulator (https: HTTP/2 over TLS with the CA file, as
// dl.flathub.org serves; http: HTTP/1.1, keep-alive, up to three connections). DELTA_DIR: the
// from-revision delta's directory under the repository (`deltas/XX/…/`). The HTTP/2 session
// uses a 4 MiB stream window and an 8 MiB connection window, as the library does (Node.js's
// default 64 KiB window would make a 2.5 MB part take dozens of round trips).
import { readFileSync } from 'node:fs';
import { Agent, get as httpGet } from 'node:http';
import { connect } from 'node:http2';

const [base, deltaDir, ca] = process.argv.slice(2);
if (base === undefined || deltaDir === undefined) {
  console.error('usage: node bench/floor.mjs URL DELTA_DIR [CA_FILE]');
  process.exit(2);
}
const url = new URL(base);
const dir = deltaDir.endsWith('/') ? deltaDir : `${deltaDir}/`;

/** A response body's length, once it has all arrived. */
const drain = (body) =>
  new Promise((resolve, reject) => {
    let n = 0;
    body.on('data', (c) => {
      n += c.length;
    });
    body.on('end', () => resolve(n));
    body.on('error', reject);
  });

/** GET of a path under the repository: its status and body length. */
let get;
let close;
if (url.protocol === 'https:') {
  const session = connect(url.origin, {
    ...(ca !== undefined ? { ca: readFileSync(ca) } : {}),
    settings: { initialWindowSize: 4 << 20 },
  });
  session.on('connect', () => session.setLocalWindowSize(8 << 20));
  get = (path) =>
    new Promise((resolve, reject) => {
      const stream = session.request({ ':path': url.pathname + path });
      stream.on('response', (headers) => drain(stream).then((bytes) => resolve({ path, status: headers[':status'], bytes }), reject));
      stream.on('error', reject);
    });
  close = () => session.close();
} else {
  const agent = new Agent({ keepAlive: true, maxSockets: 3 });
  get = (path) =>
    new Promise((resolve, reject) => {
      httpGet(new URL(path, url), { agent }, (res) =>
        drain(res).then((bytes) => resolve({ path, status: res.statusCode, bytes }), reject),
      ).on('error', reject);
    });
  close = () => agent.destroy();
}

const got = await Promise.all([get('config'), get('summary'), get('summary.sig')]);
got.push(await get(`${dir}superblock`));
got.push(await get(`${dir}0`));
close();
// A floor measured against missing files would be no floor: the delta must be there.
const missing = got.filter((r) => r.status !== 200 && r.path !== 'summary.sig');
if (missing.length > 0) {
  console.error(`floor: ${missing.map((r) => `${r.path}: HTTP ${r.status}`).join(', ')}`);
  process.exit(1);
}
console.log(`${got.length} requests, ${got.reduce((n, r) => n + r.bytes, 0)} bytes`);
