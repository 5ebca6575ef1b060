// SVG → PNG with resvg (a native module) and the system's fonts. Kept apart from render.ts so
// that the HTML report, which needs SVG only, never loads it.

import { Resvg } from "@resvg/resvg-js";

export function svgPng(svg: string, scale = 2): Uint8Array {
  return new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
}
