// SVG → PNG with resvg (a native module) and the system's fonts. resvg is imported when a PNG is
// first rendered, never at module load: a bundle that holds this module (the Lambda functions)
// does not need resvg unless it draws PNGs, and the deployed functions never do (their reports
// are SVG).

type Resvg = typeof import("@resvg/resvg-js");
let resvg: Promise<Resvg> | undefined;

export async function svgPng(svg: string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await (resvg ??= import("@resvg/resvg-js"));
  return new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
}
