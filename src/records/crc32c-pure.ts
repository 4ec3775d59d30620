/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) in plain TypeScript, slicing-by-16:
 * sixteen 256-entry tables let the loop fold 16 input bytes per iteration with 16 independent
 * table loads instead of 16 dependent ones (Intel's "slicing-by-N", as in Kafka's pure-Java
 * `Crc32C` and in Linux's generic crc32c). Large inputs are read as aligned 32-bit words.
 *
 * It is the fallback of {@link crc32c} when the native `@node-rs/crc32` module cannot be
 * loaded, and the path for tiny inputs, where a native call costs more than the checksum.
 *
 * Thread: any (the tables are built once per thread at module load and only read after).
 */

const POLY_REFLECTED = 0x82f63b78
const SLICES = 16

/** Table `k` (at offset k*256) is the CRC of a byte followed by k zero bytes. */
const TABLE: Int32Array = buildTable()

function buildTable(): Int32Array {
  const t = new Int32Array(256 * SLICES)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!
    for (let k = 1; k < SLICES; k++) {
      c = t[c & 0xff]! ^ (c >>> 8)
      t[k * 256 + n] = c
    }
  }
  return t
}

/** Whether 32-bit words read through an Int32Array are little-endian (the tables assume so). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/**
 * Below this many bytes the byte-wise loop wins: building the Int32Array view that the word
 * loop reads through costs about as much as folding a couple of hundred bytes.
 */
const WORD_LOOP_MIN_BYTES = 256

/**
 * CRC-32C of `data` as an unsigned 32-bit number, continuing from `initial` (the CRC of the
 * bytes before `data`, 0 to start), so that `crc(a ++ b) === crc32cPure(b, crc32cPure(a))`.
 */
export function crc32cPure(data: Uint8Array, initial = 0): number {
  const n = data.length
  if (n < WORD_LOOP_MIN_BYTES || !LITTLE_ENDIAN) return ~foldBytes(data, 0, n, ~initial) >>> 0
  // Fold the unaligned head byte by byte, the 4-byte-aligned middle 16 bytes at a time through
  // an Int32Array view (one bounds-checked load per 4 bytes instead of per byte: ~1.7x faster),
  // and the tail byte by byte.
  const head = (4 - (data.byteOffset & 3)) & 3
  let crc = foldBytes(data, 0, head, ~initial)
  const words = ((n - head) >>> 4) << 2
  crc = foldWords(new Int32Array(data.buffer, data.byteOffset + head, words), crc)
  const tail = head + words * 4
  return ~foldBytes(data, tail, n, crc) >>> 0
}

/** Folds `data[from..to)` into the running (inverted) `crc`, 16 bytes per step where it can. */
function foldBytes(data: Uint8Array, from: number, to: number, crc: number): number {
  const t = TABLE
  let i = from
  const blockEnd = to - ((to - from) % SLICES)
  while (i < blockEnd) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))
    crc =
      t[0xf00 + (a & 0xff)]! ^
      t[0xe00 + ((a >>> 8) & 0xff)]! ^
      t[0xd00 + ((a >>> 16) & 0xff)]! ^
      t[0xc00 + (a >>> 24)]! ^
      t[0xb00 + data[i + 4]!]! ^
      t[0xa00 + data[i + 5]!]! ^
      t[0x900 + data[i + 6]!]! ^
      t[0x800 + data[i + 7]!]! ^
      t[0x700 + data[i + 8]!]! ^
      t[0x600 + data[i + 9]!]! ^
      t[0x500 + data[i + 10]!]! ^
      t[0x400 + data[i + 11]!]! ^
      t[0x300 + data[i + 12]!]! ^
      t[0x200 + data[i + 13]!]! ^
      t[0x100 + data[i + 14]!]! ^
      t[data[i + 15]!]!
    i += 16
  }
  while (i < to) crc = t[(crc ^ data[i++]!) & 0xff]! ^ (crc >>> 8)
  return crc
}

/** Folds little-endian words (a multiple of 4 of them) into the running (inverted) `crc`. */
function foldWords(w: Int32Array, crc: number): number {
  const t = TABLE
  const n = w.length
  for (let j = 0; j < n; j += 4) {
    const a = crc ^ w[j]!
    const b = w[j + 1]!
    const c = w[j + 2]!
    const d = w[j + 3]!
    crc =
      t[0xf00 + (a & 0xff)]! ^
      t[0xe00 + ((a >>> 8) & 0xff)]! ^
      t[0xd00 + ((a >>> 16) & 0xff)]! ^
      t[0xc00 + (a >>> 24)]! ^
      t[0xb00 + (b & 0xff)]! ^
      t[0xa00 + ((b >>> 8) & 0xff)]! ^
      t[0x900 + ((b >>> 16) & 0xff)]! ^
      t[0x800 + (b >>> 24)]! ^
      t[0x700 + (c & 0xff)]! ^
      t[0x600 + ((c >>> 8) & 0xff)]! ^
      t[0x500 + ((c >>> 16) & 0xff)]! ^
      t[0x400 + (c >>> 24)]! ^
      t[0x300 + (d & 0xff)]! ^
      t[0x200 + ((d >>> 8) & 0xff)]! ^
      t[0x100 + ((d >>> 16) & 0xff)]! ^
      t[d >>> 24]!
  }
  return crc
}
