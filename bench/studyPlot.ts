// A line chart of a study's series as a standalone SVG (no dependencies): one polyline per series,
// axes with their ranges, and a legend.

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

/** The chart of `series`, x and y scaled to their ranges over every series. */
export function studyPlot(series: Series[], labels: { title: string; x: string; y: string }): string {
  const W = 720,
    H = 420,
    L = 60,
    R = 260,
    T = 40,
    B = 50;
  const all = series.flatMap((s) => s.points);
  const [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  const [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const lines = series.map((s, i) => {
    const pts = s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    const c = COLORS[i % COLORS.length];
    return (
      `<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${pts}"/>` +
      `<rect x="${W - R + 16}" y="${T + 18 * i}" width="12" height="3" fill="${c}"/>` +
      `<text x="${W - R + 34}" y="${T + 18 * i + 5}" font-size="11">${esc(s.name)}</text>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">` +
    `<rect width="${W}" height="${H}" fill="white"/>` +
    `<text x="${L}" y="22" font-size="13">${esc(labels.title)}</text>` +
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>` +
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>` +
    `<text x="${L}" y="${H - B + 16}" font-size="11">${x0}</text>` +
    `<text x="${W - R}" y="${H - B + 16}" font-size="11" text-anchor="end">${x1}</text>` +
    `<text x="${(L + W - R) / 2}" y="${H - 12}" font-size="11" text-anchor="middle">${esc(labels.x)}</text>` +
    `<text x="${L - 6}" y="${H - B}" font-size="11" text-anchor="end">${y0.toFixed(3)}</text>` +
    `<text x="${L - 6}" y="${T + 4}" font-size="11" text-anchor="end">${y1.toFixed(3)}</text>` +
    `<text x="14" y="${(T + H - B) / 2}" font-size="11" transform="rotate(-90 14 ${(T + H - B) / 2})" ` +
    `text-anchor="middle">${esc(labels.y)}</text>` +
    lines.join("") +
    `</svg>\n`
  );
}
