// The stream module's public surface: vocabulary, encoder, decoder, inputs. Bytes only, no file-system access.
export * from './events.js';
export * from './path.js';
export { StreamEncoder, newHeader, type EncoderOptions, type HeaderInit } from './encode.js';
export { StreamDecoder, type DecoderOptions } from './decode.js';
export { readRecords, readBatches, type ReadOptions } from './inputs.js';
export { Sequencer } from './sequence.js';
