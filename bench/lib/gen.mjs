// Deterministic content for the benchmark inputs (same bytes on every machine and run).
//
// - text: "words" from a fixed pseudo vocabulary, lines of varying length (xz: ~4×)
// - code: machine-code-like bytes, a skewed byte distribution plus short back-references (xz: ~2–3×)
// - random: incompressible
// - sparse: long runs of zeros and short repeated patterns (xz: > 50×)

/** mulberry32: small, fast, good enough for test data. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sta',
  'ten',
  'vor',
  'ix',
  'pla',
  'gre',
  'don',
  'fu',
  'sel',
  'tra',
  'qui',
  'ber',
  'an',
  'os',
  'ly',
];

function vocabulary(rand, n) {
  const words = [];
  for (let i = 0; i < n; i++) {
    let w = '';
    const k = 1 + Math.floor(rand() * 4);
    for (let j = 0; j < k; j++) w += SYLLABLES[Math.floor(rand() * SYLLABLES.length)];
    words.push(w);
  }
  return words;
}

const VOCAB = vocabulary(prng(7), 600);

export function text(size, seed) {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  let line = 0;
  const lineLen = () => 20 + Math.floor(rand() * 90);
  let target = lineLen();
  while (pos < size) {
    // Zipf-like word choice: frequent words dominate, as in real text.
    const r = rand();
    const w = VOCAB[Math.floor(r * r * r * VOCAB.length)];
    const piece = line === 0 ? w : ` ${w}`;
    pos += out.write(piece, pos, 'latin1');
    line += piece.length;
    if (line >= target && pos < size) {
      out[pos++] = 0x0a;
      line = 0;
      target = lineLen();
    }
  }
  return out.subarray(0, size);
}

const HOT = [0x00, 0xff, 0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x85, 0x84, 0x24, 0x45, 0xc3, 0x41, 0x4c, 0x01, 0x10];

export function code(size, seed) {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  while (pos < size) {
    const r = rand();
    if (r < 0.3 && pos > 64) {
      // back-reference: copy 4–24 bytes from up to 4 KiB earlier
      const len = Math.min(4 + Math.floor(rand() * 20), size - pos);
      const from = pos - 1 - Math.floor(rand() * Math.min(pos - 1, 4096));
      for (let i = 0; i < len; i++) out[pos + i] = out[from + i];
      pos += len;
    } else if (r < 0.75) {
      out[pos++] = HOT[Math.floor(rand() * HOT.length)];
    } else {
      out[pos++] = Math.floor(rand() * 256);
    }
  }
  return out;
}

export function random(size, seed) {
  const rand = prng(seed);
  const out = Buffer.allocUnsafe(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) out.writeUInt32LE((rand() * 4294967296) >>> 0, i);
  for (; i < size; i++) out[i] = Math.floor(rand() * 256);
  return out;
}

export function sparse(size, seed) {
  const rand = prng(seed);
  const out = Buffer.alloc(size);
  let pos = 0;
  while (pos < size) {
    pos += Math.floor(rand() * 8192); // zeros
    const len = Math.min(16 + Math.floor(rand() * 256), Math.max(0, size - pos));
    const period = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < len; i++) out[pos + i] = (i % period) * 17 + 1;
    pos += len;
  }
  return out;
}

const KINDS = { text, code, random, sparse };

/** `size` bytes of the given kind. */
export function content(kind, size, seed) {
  return KINDS[kind](size, seed);
}

/**
 * The "mixed" payload: 1 MiB chunks, 45 % text, 35 % code, 10 % random, 10 % sparse, in a
 * deterministic shuffled order (roughly what a Flatpak app's files look like to xz).
 */
export function mixed(size, seed = 42) {
  const rand = prng(seed);
  const chunks = [];
  let total = 0;
  let i = 0;
  while (total < size) {
    const n = Math.min(1 << 20, size - total);
    const r = rand();
    const kind = r < 0.45 ? 'text' : r < 0.8 ? 'code' : r < 0.9 ? 'random' : 'sparse';
    chunks.push(content(kind, n, seed * 1000 + i++));
    total += n;
  }
  return Buffer.concat(chunks, total);
}
