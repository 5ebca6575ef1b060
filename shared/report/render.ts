// Renders a Vega-Lite chart to SVG with vega's headless renderer (PNG: png.ts). No file I/O.

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
