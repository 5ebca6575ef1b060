// Two promotions racing on one model from two service instances that share no memory, as two
// Lambda functions or two servers would: both decisions must be recorded, the later one measured
// against the earlier champion (it lost the conditional write, re-read and decided again), and
// the pointer must name the champion that the decisions imply.
// A barrier holds both first reads of the model's document until both have read, so the race is
// real every run: both decide on the same version, and only one conditional write can win.
import { expect } from "vitest";
import type { Service } from "../../shared/service/service.ts";
import { ModelService } from "../../shared/service/models.ts";
import type { BlobStore } from "../../shared/store/blobStore.ts";

/** The store, with the first `parties` reads of `key` (getVersioned) released together. */
function barrier(store: BlobStore, key: string, gate: { waiting: (() => void)[]; parties: number }): BlobStore {
  return {
    ...store,
    async getVersioned(k) {
      const r = await store.getVersioned(k);
      if (k === key && gate.parties > 0) {
        gate.parties--;
        await new Promise<void>((resolve) => {
          gate.waiting.push(resolve);
          if (gate.parties === 0) for (const w of gate.waiting) w();
        });
      }
      return r;
    },
  };
}

/** Two services (no memory shared) promote jobs a and b by the default rule at once. */
export async function raceAndCheck(service: () => Service, [a, b]: string[]): Promise<{ lost: number }> {
  const rule = { metric: "validationLoss" as const, minImprovement: 0 };
  const gate = { waiting: [] as (() => void)[], parties: 2 };
  let lost = 0;
  const racer = () => {
    const s = service();
    const root = barrier(s.root, "models/race.json", gate);
    const counted: BlobStore = {
      ...root,
      async putIfMatch(...args) {
        const v = await root.putIfMatch(...args);
        if (v === null) lost++;
        return v;
      },
    };
    return new ModelService(counted, s.jobs, Date.now);
  };
  const [ea, eb] = await Promise.all([
    racer().promote("race", a, { rule, by: "racer a" }),
    racer().promote("race", b, { rule, by: "racer b" }),
  ]);
  // both read "no model" and wrote create-only: exactly one lost and decided again
  expect(lost).toBe(1);
  const v = await service().models.versions("race");
  expect(v.versions.map((x) => x.job).sort()).toEqual([a, b].sort());
  expect(new Set([ea.version, eb.version])).toEqual(new Set([1, 2]));
  const [v1, v2] = v.versions;
  // the first writer became the first version; the second re-read and was measured against it
  expect(v1).toMatchObject({ version: 1, promoted: true, comparedWith: null });
  expect(v2).toMatchObject({ version: 2, comparedWith: 1 });
  expect(v2.metrics.champion!.validationLoss).toBeGreaterThan(0);
  expect(v2.promoted).toBe(v2.metrics.challenger!.validationLoss <= v2.metrics.champion!.validationLoss);
  expect(v.champion).toBe(v2.promoted ? 2 : 1);
  expect((await service().models.get("race")).champion!.job).toBe(v2.promoted ? v2.job : v1.job);
  return { lost };
}
