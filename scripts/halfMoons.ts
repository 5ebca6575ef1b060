// Writes examples/data/half-moons.csv: the two interleaving half circles of the classic toy
// classification problem (600 points, Gaussian noise 0.15), from the project's seeded RNG so the
// file is the same on every machine. Run: npx tsx scripts/halfMoons.ts
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fillGaussian, fillUniform, Stream } from "../shared/math/rng.ts";

export function halfMoons(rows: number, noise: number, seed: number): string {
  const at = { seed, stream: Stream.data, iteration: 0, member: 0 };
  const u = new Float64Array(rows),
    z = new Float64Array(2 * rows);
  fillUniform(u, at);
  fillGaussian(z, { ...at, member: 1 });
  const lines = ["x1,x2,moon"];
  for (let i = 0; i < rows; i++) {
    const moon = i % 2;
    const t = Math.PI * u[i];
    const x = moon === 0 ? Math.cos(t) : 1 - Math.cos(t);
    const y = moon === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
    lines.push(
      `${(x + noise * z[2 * i]).toFixed(5)},${(y + noise * z[2 * i + 1]).toFixed(5)},${moon === 0 ? "upper" : "lower"}`,
    );
  }
  return lines.join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = fileURLToPath(new URL("../examples/data/half-moons.csv", import.meta.url));
  writeFileSync(out, halfMoons(600, 0.15, 7));
  console.log(`wrote ${out}`);
}
