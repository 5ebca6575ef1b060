// Renders a Vega-Lite chart to SVG (vega's headless renderer) and the SVG to PNG (resvg, with the
// system's fonts). No file I/O: bytes out.

import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile } from "vega-lite";
import type { Chart } from "./charts.ts";

export async function chartSvg(chart: Chart): Promise<string> {
  const { spec } = compile(chart.spec as unknown as Parameters<typeof compile>[0]);
  const view = new vega.View(vega.parse(spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export function svgPng(svg: string, scale = 2): Uint8Array {
  return new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
}
