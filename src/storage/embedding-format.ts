import { createHash } from 'node:crypto';
import { endianness } from 'node:os';

/*
 * One cached embedding as stored (storage/embedding-cache.ts), little-endian throughout:
 *
 *   u32 magic 'GEMB' | u32 version | u32 count | u32 length × count (floats per array)
 *   | 32 bytes sha256 | float32 data of each array, in order
 *
 * The sha256 covers the entry's key, everything before it and the data: a truncated,
 * damaged or misplaced object (stored under another key) fails the check and is not used.
 */

const MAGIC = 0x424d4547; // 'GEMB' read as a little-endian u32
const VERSION = 1;
const FIXED = 12;
const DIGEST_BYTES = 32;
/** More arrays than any extractor has outputs: a count above it is a damaged header. */
const MAX_ARRAYS = 1024;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function digestOf(key: string, bytes: Buffer, headEnd: number): Buffer {
  return createHash('sha256')
    .update(key)
    .update(bytes.subarray(0, headEnd))
    .update(bytes.subarray(headEnd + DIGEST_BYTES))
    .digest();
}

export function encodeEmbedding(key: string, outputs: readonly Float32Array[]): Buffer {
  if (outputs.length > MAX_ARRAYS) throw new Error(`too many arrays to cache: ${outputs.length}`);
  const headEnd = FIXED + 4 * outputs.length;
  const dataBytes = outputs.reduce((sum, output) => sum + output.byteLength, 0);
  const bytes = Buffer.alloc(headEnd + DIGEST_BYTES + dataBytes);
  bytes.writeUInt32LE(MAGIC, 0);
  bytes.writeUInt32LE(VERSION, 4);
  bytes.writeUInt32LE(outputs.length, 8);
  let offset = headEnd + DIGEST_BYTES;
  for (const [i, output] of outputs.entries()) {
    bytes.writeUInt32LE(output.length, FIXED + 4 * i);
    if (LITTLE_ENDIAN_HOST) {
      bytes.set(new Uint8Array(output.buffer, output.byteOffset, output.byteLength), offset);
    } else {
      for (let j = 0; j < output.length; j++) bytes.writeFloatLE(output[j]!, offset + 4 * j);
    }
    offset += output.byteLength;
  }
  digestOf(key, bytes, headEnd).copy(bytes, headEnd);
  return bytes;
}

/** The arrays stored in `bytes` under `key`, or undefined when anything about them is wrong. */
export function decodeEmbedding(key: string, bytes: Buffer): Float32Array[] | undefined {
  if (bytes.byteLength < FIXED + DIGEST_BYTES) return undefined;
  if (bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== VERSION) return undefined;
  const count = bytes.readUInt32LE(8);
  const headEnd = FIXED + 4 * count;
  if (count > MAX_ARRAYS || bytes.byteLength < headEnd + DIGEST_BYTES) return undefined;
  const lengths = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(FIXED + 4 * i));
  const dataBytes = lengths.reduce((sum, length) => sum + 4 * length, 0);
  if (bytes.byteLength !== headEnd + DIGEST_BYTES + dataBytes) return undefined;
  const stored = bytes.subarray(headEnd, headEnd + DIGEST_BYTES);
  if (!stored.equals(digestOf(key, bytes, headEnd))) return undefined;
  let offset = headEnd + DIGEST_BYTES;
  return lengths.map((length) => {
    // A copy: the buffer's offset need not be a multiple of 4, and it may be pooled.
    const output = new Float32Array(length);
    if (LITTLE_ENDIAN_HOST) {
      new Uint8Array(output.buffer).set(bytes.subarray(offset, offset + 4 * length));
    } else {
      for (let j = 0; j < length; j++) output[j] = bytes.readFloatLE(offset + 4 * j);
    }
    offset += 4 * length;
    return output;
  });
}
