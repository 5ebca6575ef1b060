// NumPy .npy: encoding of float64 arrays of any shape (format 1.0), and decoding of little-endian numeric
// arrays of any shape (formats 1.0–3.0).
// Pure: bytes in, bytes out.

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A float64 array's .npy bytes; `shape` (row-major, C order) defaults to 1-D. */
export function encodeNpyFloat64(data: Float64Array, shape: readonly number[] = [data.length]): Uint8Array {
  if (shape.reduce((a, b) => a * b, 1) !== data.length)
    throw new RangeError(`shape (${shape.join(", ")}) does not hold ${data.length} values`);
  const dims = shape.join(", ") + (shape.length === 1 ? "," : "");
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${dims}), }`;
  const pad = (64 - ((10 + header.length + 1) % 64)) % 64;
  header += " ".repeat(pad) + "\n";
  const out = new Uint8Array(10 + header.length + data.length * 8);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  return out;
}

export type NpyData =
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

export interface NpyArray {
  /** NumPy dtype descriptor, e.g. "<f4" */
  descr: string;
  shape: number[];
  /** the values in C order */
  data: NpyData;
}

const DTYPES: Record<
  string,
  { size: number; read: (dv: DataView, at: number) => number | bigint; make: (n: number) => NpyData }
> = {
  "<f8": { size: 8, read: (dv, at) => dv.getFloat64(at, true), make: (n) => new Float64Array(n) },
  "<f4": { size: 4, read: (dv, at) => dv.getFloat32(at, true), make: (n) => new Float32Array(n) },
  "<i4": { size: 4, read: (dv, at) => dv.getInt32(at, true), make: (n) => new Int32Array(n) },
  "<u4": { size: 4, read: (dv, at) => dv.getUint32(at, true), make: (n) => new Uint32Array(n) },
  "<i2": { size: 2, read: (dv, at) => dv.getInt16(at, true), make: (n) => new Int16Array(n) },
  "<u2": { size: 2, read: (dv, at) => dv.getUint16(at, true), make: (n) => new Uint16Array(n) },
  "|i1": { size: 1, read: (dv, at) => dv.getInt8(at), make: (n) => new Int8Array(n) },
  "|u1": { size: 1, read: (dv, at) => dv.getUint8(at), make: (n) => new Uint8Array(n) },
  "<i8": { size: 8, read: (dv, at) => dv.getBigInt64(at, true), make: (n) => new BigInt64Array(n) },
};

/** Decodes a .npy file (format 1.0–3.0, little-endian numeric dtypes, C order). */
export function decodeNpy(bytes: Uint8Array, name = "array"): NpyArray {
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i]) throw new Error(`${name}: not a .npy file (bad magic)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const pre = major === 1 ? 10 : 12;
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = pre + headerLen;
  const header = new TextDecoder("latin1").decode(bytes.subarray(pre, start));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (!descr) throw new Error(`${name}: .npy header without a dtype: ${header.trim()}`);
  if (/'fortran_order':\s*True/.test(header))
    throw new Error(`${name}: Fortran-ordered arrays are not supported; save with numpy.ascontiguousarray`);
  const dtype = DTYPES[descr === "<b1" || descr === "|b1" ? "|u1" : descr];
  if (!dtype)
    throw new Error(`${name}: unsupported dtype ${descr} (use float32/64, int8–64 or uint8–32, little-endian)`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) throw new Error(`${name}: .npy header without a shape: ${header.trim()}`);
  const shape = shapeText
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "")
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength - start !== count * dtype.size)
    throw new Error(
      `${name}: payload has ${bytes.byteLength - start} bytes, expected ${count * dtype.size} ` +
        `for shape (${shape.join(", ")})`,
    );
  const data = dtype.make(count);
  for (let i = 0; i < count; i++) (data as unknown as (number | bigint)[])[i] = dtype.read(dv, start + i * dtype.size);
  return { descr, shape, data };
}

/** Decodes a 1-D float64 .npy (as written by encodeNpyFloat64). */
export function decodeNpyFloat64(bytes: Uint8Array): Float64Array {
  const a = decodeNpy(bytes);
  if (a.descr !== "<f8" || a.shape.length !== 1)
    throw new Error(`expected a 1-D float64 array, got ${a.descr} with shape (${a.shape.join(", ")})`);
  return a.data as Float64Array;
}
