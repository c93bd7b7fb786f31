// Frame payload codecs (rill-stream(5): 0 none, 1 zstd, 2 gzip): compressing a frame's payload when
// writing, and decompressing a stored payload when reading, with a hard limit on the decompressed
// size so a small frame cannot expand into gigabytes (a "zip bomb"). gzip is node:zlib; zstd is the
// zstd-napi addon, loaded only when a zstd frame is met, so a rill whose addon failed to build still
// reads and writes the other codecs.
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync } from 'node:zlib';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { RillError } from '../errors.js';
import { CODEC, CODEC_NAMES, MAX_FRAME_PAYLOAD } from './frame.js';

/** A codec by the name used in flags (`--compress`) and in the session hello. */
export type CodecName = keyof typeof CODEC;

/** Default and allowed compression levels: zstd's 3 and gzip's 6 are the libraries' own defaults. */
export const LEVELS: Record<Exclude<CodecName, 'none'>, { min: number; max: number; default: number }> = {
  zstd: { min: 1, max: 19, default: 3 },
  gzip: { min: 1, max: 9, default: 6 },
};

/** Payloads shorter than this are never worth compressing (a codec's own header eats the gain). */
const MIN_COMPRESS = 64;

/** zstd window the decoder allows: 2^26 = MAX_FRAME_PAYLOAD, so no frame rill writes needs more. */
const ZSTD_WINDOW_LOG_MAX = 26;

/** Why a stored payload could not be decoded; the parser wraps it with the frame's position. */
export class PayloadError extends Error {}

/** Turns a frame's record bytes into a stored payload; why: one object the encoder calls per frame. */
export interface PayloadCompressor {
  /** The codec number written in the frame head. */
  readonly codec: number;
  /** The compressed payload, or undefined when it would not be shorter than the input. */
  compress(pieces: Buffer[], length: number): Buffer | undefined;
}

let zstdModule: typeof ZstdBinding | Error | undefined;

/** The zstd-napi binding, loaded once on first use; an Error when it cannot be loaded. */
function zstdBinding(): typeof ZstdBinding | Error {
  if (zstdModule === undefined) {
    try {
      zstdModule = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;
    } catch (err) {
      zstdModule = new Error(`the zstd-napi addon did not load (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return zstdModule;
}

/** Codecs this rill can decode, best first; why: what a sink offers in its session hello. */
export function decodableCodecs(): CodecName[] {
  return zstdBinding() instanceof Error ? ['gzip', 'none'] : ['zstd', 'gzip', 'none'];
}

/** Parses the text of a codec flag; why: one clear usage error for `--compress` and friends. */
export function parseCodec(text: string, flag = '--compress'): CodecName {
  if (text === 'none' || text === 'zstd' || text === 'gzip') return text;
  throw new RillError('usage', `${flag} ${JSON.stringify(text)}: not a codec (zstd, gzip or none)`);
}

/** A compressor for the codec at the level (default per codec); undefined for none. Throws for a bad level or a missing zstd. */
export function payloadCompressor(name: CodecName, level?: number): PayloadCompressor | undefined {
  if (name === 'none') return undefined;
  const range = LEVELS[name];
  const lvl = level ?? range.default;
  if (!Number.isInteger(lvl) || lvl < range.min || lvl > range.max) {
    throw new RillError('usage', `compression level ${lvl} is out of range for ${name} (${range.min}..${range.max})`);
  }
  if (name === 'gzip') return gzipCompressor(lvl);
  const zstd = zstdBinding();
  if (zstd instanceof Error) {
    throw new RillError('unimplemented', `zstd compression is not available: ${zstd.message}`, { hint: 'use --compress gzip, or reinstall rill' });
  }
  return zstdCompressor(zstd, lvl);
}

function joined(pieces: Buffer[], length: number): Buffer {
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, length);
}

function gzipCompressor(level: number): PayloadCompressor {
  return {
    codec: CODEC.gzip,
    compress(pieces, length) {
      if (length < MIN_COMPRESS) return undefined;
      const out = gzipSync(joined(pieces, length), { level });
      return out.length < length ? out : undefined;
    },
  };
}

function zstdCompressor(zstd: typeof ZstdBinding, level: number): PayloadCompressor {
  const cctx = new zstd.CCtx();
  return {
    codec: CODEC.zstd,
    compress(pieces, length) {
      if (length < MIN_COMPRESS) return undefined;
      const out = Buffer.allocUnsafe(zstd.compressBound(length));
      // compress() writes one frame with the content size in its header (the decoder checks it).
      const n = cctx.compress(out, joined(pieces, length), level);
      return n < length ? out.subarray(0, n) : undefined;
    },
  };
}

/**
 * Decodes a stored payload of the codec; throws PayloadError for an unknown codec, bad compressed
 * data, or output beyond `limit` bytes (checked while decoding: at most limit + 1 bytes are made).
 */
export function decompressPayload(codec: number, stored: Buffer, limit = MAX_FRAME_PAYLOAD): Buffer {
  if (codec === CODEC.none) return stored;
  if (codec === CODEC.gzip) return gunzip(stored, limit);
  if (codec === CODEC.zstd) return unzstd(stored, limit);
  throw new PayloadError(`payload codec ${codec} is unknown to this rill (it reads ${Object.entries(CODEC_NAMES).map(([n, s]) => `${n} ${s}`).join(', ')})`);
}

function tooLarge(name: string, limit: number): PayloadError {
  return new PayloadError(`${name} payload decompresses to more than the ${limit}-byte limit (a damaged or hostile frame)`);
}

function gunzip(stored: Buffer, limit: number): Buffer {
  try {
    return gunzipSync(stored, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge('gzip', limit);
    throw new PayloadError(`gzip payload does not decompress: ${(err as Error).message}`);
  }
}

let dctx: ZstdBinding.DCtx | undefined;

function unzstd(stored: Buffer, limit: number): Buffer {
  const zstd = zstdBinding();
  if (zstd instanceof Error) throw new PayloadError(`zstd payload cannot be read: ${zstd.message}`);
  try {
    if (dctx === undefined) {
      dctx = new zstd.DCtx();
      dctx.setParameter(zstd.DParameter.windowLogMax, ZSTD_WINDOW_LOG_MAX);
    }
    dctx.reset(zstd.ResetDirective.sessionOnly);
    // The declared content size (rill's writer always sets it) sizes the output at once; a size
    // over the limit is refused before anything is allocated. Without one, the buffer grows.
    const declared = zstd.getFrameContentSize(stored);
    if (declared !== null && declared > limit) throw tooLarge('zstd', limit);
    let out = Buffer.allocUnsafe(declared !== null ? declared : Math.min(limit + 1, Math.max(64 * 1024, stored.length * 4)));
    let len = 0;
    let rest = stored;
    for (;;) {
      if (len === out.length) {
        if (len > limit) throw tooLarge('zstd', limit);
        const bigger = Buffer.allocUnsafe(Math.min(limit + 1, Math.max(64 * 1024, out.length * 2)));
        out.copy(bigger, 0, 0, len);
        out = bigger;
      }
      const [left, produced, consumed] = dctx.decompressStream(out.subarray(len), rest);
      if (produced === 0 && consumed === 0 && len < out.length) throw new PayloadError('zstd decoder made no progress');
      len += produced;
      rest = rest.subarray(consumed);
      if (left === 0 && rest.length === 0) break; // the last frame ended exactly at the end of the payload
      if (rest.length === 0 && len < out.length) throw new PayloadError('zstd payload is cut short (the compressed frame does not end)');
    }
    if (len > limit) throw tooLarge('zstd', limit);
    return len === out.length ? out : out.subarray(0, len);
  } catch (err) {
    dctx?.reset(zstd.ResetDirective.sessionOnly);
    if (err instanceof PayloadError) throw err;
    throw new PayloadError(`zstd payload does not decompress: ${(err as Error).message}`);
  }
}
