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

/** GET of a path under the repository, resolving to the body's length. */
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
      let n = 0;
      stream.on('data', (c) => {
        n += c.length;
      });
      stream.on('end', () => resolve(n));
      stream.on('error', reject);
    });
  close = () => session.close();
} else {
  const agent = new Agent({ keepAlive: true, maxSockets: 3 });
  get = (path) =>
    new Promise((resolve, reject) => {
      httpGet(new URL(path, url), { agent }, (res) => {
        let n = 0;
        res.on('data', (c) => {
          n += c.length;
        });
        res.on('end', () => resolve(n));
      }).on('error', reject);
    });
  close = () => agent.destroy();
}

const bytes = await Promise.all([get('config'), get('summary'), get('summary.sig')]);
bytes.push(await get(`${dir}superblock`));
bytes.push(await get(`${dir}0`));
close();
console.log(`${bytes.length} requests, ${bytes.reduce((a, b) => a + b, 0)} bytes`);
