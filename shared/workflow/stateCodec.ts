// One stored object for any state of plain data and Float64Arrays (a run's state, a round's plan):
// the arrays are moved out of the JSON into a binary tail, so θ-sized vectors cost 8 bytes a
// number, and NaN and ±Infinity survive (JSON writes them as their names). Layout: "EKS1", the
// JSON's byte length (uint32), the JSON, zero padding to a multiple of 8, the float64 values.

const MAGIC = "EKS1";

interface ArrayRef {
  $f64: [offset: number, length: number];
}

/** The object's bytes. */
export function encodeState(value: unknown): Uint8Array {
  const arrays: Float64Array[] = [];
  let total = 0;
  const json = JSON.stringify(value, function (key, v: unknown) {
    // JSON.stringify has already turned typed arrays into objects; take the original from the holder
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Float64Array) {
      arrays.push(raw);
      const ref: ArrayRef = { $f64: [total, raw.length] };
      total += raw.length;
      return ref;
    }
    return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
  });
  const text = new TextEncoder().encode(json);
  const head = 8 + text.length,
    start = Math.ceil(head / 8) * 8;
  const out = new Uint8Array(start + 8 * total);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, text.length, true);
  out.set(text, 8);
  const values = new Float64Array(out.buffer, start, total);
  let at = 0;
  for (const a of arrays) {
    values.set(a, at);
    at += a.length;
  }
  return out;
}

/** The object back, its arrays as Float64Arrays; a RangeError when the bytes are not one whole state. */
export function decodeState<T>(bytes: Uint8Array, what = "state"): T {
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC)
    throw new RangeError(`${what} is not a stored state (${bytes.length} bytes)`);
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(4, true);
  const start = Math.ceil((8 + length) / 8) * 8;
  if (start > bytes.length || (bytes.length - start) % 8 !== 0)
    throw new RangeError(`${what} is cut short (${bytes.length} bytes)`);
  const values = new Float64Array(bytes.slice(start).buffer);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + length));
    return JSON.parse(text, (_key, v: unknown) => {
      if (v === "NaN") return NaN;
      if (v === "Infinity") return Infinity;
      if (v === "-Infinity") return -Infinity;
      if (v && typeof v === "object" && "$f64" in v) {
        const [offset, n] = (v as ArrayRef).$f64;
        if (!(offset >= 0 && n >= 0 && offset + n <= values.length))
          throw new RangeError(`${what}: an array reaches past its ${values.length} values`);
        return values.slice(offset, offset + n);
      }
      return v;
    }) as T;
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw new RangeError(`${what} is not readable: ${(e as Error).message}`);
  }
}
