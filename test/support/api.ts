// A small client for the HTTP API in tests: bearer-token calls with JSON or CSV bodies, the
// answer's status and parsed JSON body (null when it is not JSON).

export interface ApiAnswer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read fields freely
}

export function apiClient(url: () => string, token: string) {
  return async function call(
    method: string,
    path: string,
    body?: { json?: unknown; csv?: string },
  ): Promise<ApiAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let payload: string | undefined;
    if (body?.json !== undefined) {
      payload = JSON.stringify(body.json);
      headers["content-type"] = "application/json";
    }
    if (body?.csv !== undefined) {
      payload = body.csv;
      headers["content-type"] = "text/csv";
    }
    const res = await fetch(url() + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  };
}

/**
 * Rows of a two-feature classification CSV (a, b → "up" when a + b > 0, a fraction `noise` of labels flipped), seeded.
 */
export function signsCsv(rows: number, seed: number, header = "a,b,y", noise = 0.1): string {
  let s = seed >>> 0;
  const r = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lines = [header];
  for (let i = 0; i < rows; i++) {
    const a = r() - 0.5,
      b = r() - 0.5;
    const up = a + b > 0 !== r() < noise;
    lines.push(`${a.toFixed(4)},${b.toFixed(4)},${up ? "up" : "down"}`);
  }
  return lines.join("\n") + "\n";
}
