/**
 * HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): the ChaCha20 block function's 20 rounds over
 * constants ‖ key ‖ 16-byte nonce, without the final addition, keeping words 0–3 and 12–15.
 * It turns XChaCha20's 24-byte nonce into a subkey for ordinary ChaCha20-Poly1305 (sodium.ts).
 * No table lookups or secret-dependent branches: only 32-bit adds, xors and rotations.
 */

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]; // "expand 32-byte k"

export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  if (key.length !== 32 || nonce16.length !== 16) throw new RangeError('hchacha20 needs a 32-byte key and a 16-byte nonce');
  const k = new DataView(key.buffer, key.byteOffset, 32);
  const n = new DataView(nonce16.buffer, nonce16.byteOffset, 16);
  const x = new Uint32Array(16);
  for (let i = 0; i < 4; i++) x[i] = SIGMA[i]!;
  for (let i = 0; i < 8; i++) x[4 + i] = k.getUint32(4 * i, true);
  for (let i = 0; i < 4; i++) x[12 + i] = n.getUint32(4 * i, true);

  for (let round = 0; round < 10; round++) {
    // a column round, then a diagonal round (RFC 8439 §2.3)
    quarter(x, 0, 4, 8, 12);
    quarter(x, 1, 5, 9, 13);
    quarter(x, 2, 6, 10, 14);
    quarter(x, 3, 7, 11, 15);
    quarter(x, 0, 5, 10, 15);
    quarter(x, 1, 6, 11, 12);
    quarter(x, 2, 7, 8, 13);
    quarter(x, 3, 4, 9, 14);
  }

  const out = new Uint8Array(32);
  const o = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) {
    o.setUint32(4 * i, x[i]!, true);
    o.setUint32(16 + 4 * i, x[12 + i]!, true);
  }
  x.fill(0); // the state held key words
  return out;
}

function quarter(x: Uint32Array, a: number, b: number, c: number, d: number): void {
  // Uint32Array stores wrap each sum to 32 bits; rotl keeps the values unsigned.
  x[a] = x[a]! + x[b]!;
  x[d] = rotl(x[d]! ^ x[a]!, 16);
  x[c] = x[c]! + x[d]!;
  x[b] = rotl(x[b]! ^ x[c]!, 12);
  x[a] = x[a]! + x[b]!;
  x[d] = rotl(x[d]! ^ x[a]!, 8);
  x[c] = x[c]! + x[d]!;
  x[b] = rotl(x[b]! ^ x[c]!, 7);
}

function rotl(v: number, n: number): number {
  return (v << n) | (v >>> (32 - n));
}
