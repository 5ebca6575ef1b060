// IDX, the format of the MNIST family (LeCun's MNIST, Fashion-MNIST, KMNIST): a big-endian header,
// two zero bytes, the element type (0x08: unsigned bytes), the number of dimensions, each dimension
// as a uint32, then the elements in row-major order. Images are 0x00000803 (count × rows × cols),
// labels 0x00000801 (count). Only unsigned bytes are read: what the family ships.
// Pure: bytes in, a view of them out (no copy).

export interface IdxArray {
  /** the dimensions as the header gives them: [count, …] */
  shape: number[];
  /** the elements, a view of the bytes given */
  data: Uint8Array;
}

export class IdxError extends Error {
  override name = "IdxError";
}

const UNSIGNED_BYTE = 0x08;

/**
 * Decodes an IDX file of unsigned bytes with `dims` dimensions (3: images, 1: labels).
 *
 * @example
 * ```ts
 * const images = decodeIdx(gunzipSync(readFileSync("train-images-idx3-ubyte.gz")), 3, "train-images");
 * images.shape; // [60000, 28, 28]
 * ```
 */
export function decodeIdx(bytes: Uint8Array, dims: number, file: string): IdxArray {
  const expected = `0x0000080${dims}`;
  if (bytes.length < 4) throw new IdxError(`${file}: not an IDX file (${bytes.length} bytes, no header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UNSIGNED_BYTE || bytes[3] !== dims) {
    const got = `0x${magic.toString(16).padStart(8, "0")}`;
    throw new IdxError(
      `${file}: magic number ${got}, expected ${expected} (IDX of unsigned bytes with ${dims} ` +
        `dimension${dims === 1 ? "" : "s"}: ${dims === 1 ? "labels" : "images"})`,
    );
  }
  const header = 4 + 4 * dims;
  if (bytes.length < header) throw new IdxError(`${file}: truncated in its header (${bytes.length} bytes)`);
  const shape = Array.from({ length: dims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - header < count)
    throw new IdxError(
      `${file}: truncated: the header promises ${shape.join(" × ")} = ${count} bytes of data, the file holds ` +
        `${bytes.length - header}`,
    );
  if (bytes.length - header > count)
    throw new IdxError(`${file}: ${bytes.length - header - count} bytes after the ${count} the header promises`);
  return { shape, data: bytes.subarray(header, header + count) };
}
