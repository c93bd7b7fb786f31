// The one configuration of cbor-x used on the wire: plain RFC 8949 items, no library-private extensions.
import { Encoder, Decoder } from 'cbor-x';

const options = {
  useRecords: false, // no record/structure tags (cbor-x private extension)
  tagUint8Array: false, // typed arrays as plain byte strings
  mapsAsObjects: true,
  variableMapSize: true, // shortest map heads
  pack: false,
  structuredClone: false,
  bundleStrings: false,
};

/** Encoder for single records; the returned buffer is only valid until the next call (copy it at once). */
export const cborEncoder = new Encoder(options);
/** Decoder for records; byte strings come back as slices of the input buffer (no copy). */
export const cborDecoder = new Decoder(options);
