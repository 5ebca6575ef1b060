// NumPy .npy (format 1.0) encoding and decoding of 1-D float64 arrays, little-endian.
// Pure: bytes in, bytes out.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpyFloat64(data: Float64Array): Uint8Array {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${data.length},), }`;
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += " ".repeat(pad) + "\n";
  const out = new Uint8Array(10 + header.length + data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1; out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  return out;
}

export function decodeNpyFloat64(bytes: Uint8Array): Float64Array {
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error("not a .npy file");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLen;
  const header = new TextDecoder("latin1").decode(bytes.subarray(major === 1 ? 10 : 12, start));
  if (!/'descr':\s*'<f8'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`unsupported .npy header ${header.trim()}`);
  const shape = /'shape':\s*\((\d+),?\s*\)/.exec(header);
  if (!shape) throw new Error(`only 1-D arrays are supported, header ${header.trim()}`);
  const n = Number(shape[1]);
  if (bytes.byteLength - start !== n * 8) throw new Error(`.npy payload has ${bytes.byteLength - start} bytes, expected ${n * 8}`);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(start + i * 8, true);
  return out;
}
