// Models: a named pointer to a champion job, and the list of every decision taken about it (its
// versions: the job, its dataset version, both models' metrics on the job's validation split,
// the time and who decided). One document per model, models/<name>.json, replaced only by a
// conditional write over the version read (BlobStore.putIfMatch: If-Match on S3, a lock and a
// rename on a directory), so two promotions that race never lose an update: one wins, the
// other re-reads, measures against the new champion and decides again.

import type { ModelVersion, ModelView, PromotionRule } from "../spec/api.ts";
import { MODEL_NAME, type JobSpec } from "../spec/job.ts";
import { getJson, type BlobStore } from "../store/blobStore.ts";
import { keys } from "../workflow/jobStore.ts";
import { jobDataset } from "../workflow/shardJob.ts";
import type { ModelCard } from "../predict/modelCard.ts";
import { promotionDecision, validationMetrics, type Rule } from "../predict/promotion.ts";
import { conflict, invalid, notFound, ServiceError } from "./errors.ts";
import type { JobService } from "./jobs.ts";

interface ModelRecord {
  name: string;
  kind: ModelCard["kind"];
  features: string[];
  outputs: string[];
  createdAt: string;
  /** the champion's version number */
  champion: number | null;
  versions: ModelVersion[];
}

/** Model `name`'s document and the version a conditional write must match (null: no such model). */
async function readModel(root: BlobStore, name: string): Promise<{ rec: ModelRecord; version: string } | null> {
  if (!MODEL_NAME.test(name)) return null;
  const r = await root.getVersioned(`models/${name}.json`);
  return r ? { rec: JSON.parse(new TextDecoder().decode(r.bytes)) as ModelRecord, version: r.version } : null;
}

/** The champion of model `name` in a service store (undefined: no such model; null: no champion yet). */
export async function readChampion(
  root: BlobStore,
  name: string,
): Promise<{ job: string; version: number } | null | undefined> {
  const r = await readModel(root, name);
  if (!r) return undefined;
  const v = r.rec.versions.find((x) => x.version === r.rec.champion);
  return v ? { job: v.job, version: v.version } : null;
}

/**
 * Whether a retrain of model `name` on dataset `dataset` would repeat its last decision: that
 * decision's job trained on this dataset version, measured against the champion the model still
 * has, so a new job would start where it started and see the same data. Its reason, or null.
 */
export async function unchangedSince(
  root: BlobStore,
  name: string,
  dataset: { source: string; id?: string },
): Promise<string | null> {
  const r = await readModel(root, name);
  const last = r?.rec.versions[r.rec.versions.length - 1];
  if (!r || !last || last.promoted || last.comparedWith !== r.rec.champion) return null;
  const same =
    dataset.source === "mnist"
      ? last.dataset.source === "mnist"
      : dataset.id !== undefined && last.dataset.id === dataset.id;
  if (!same) return null;
  const data = last.dataset.name
    ? `dataset "${last.dataset.name}" version ${last.dataset.version}`
    : last.dataset.id
      ? `dataset ${last.dataset.id}`
      : "the MNIST digits";
  return (
    `nothing changed since version ${last.version} (job ${last.job}) was measured and not ` +
    `promoted: the same ${data} and the same champion (version ${r.rec.champion}); a retrain ` +
    `would repeat it (promote.always: true retrains anyway)`
  );
}

const sameTheta = (a: Float64Array, b: Float64Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

/** Conditional writes that lose this many races in a row give up (a 409 to retry). */
const MAX_ATTEMPTS = 25;
const show = (v: unknown) => JSON.stringify(v);

export class ModelService {
  constructor(
    private readonly root: BlobStore,
    private readonly jobs: JobService,
    private readonly now: () => number,
  ) {}

  private key(name: string): string {
    return `models/${name}.json`;
  }

  private read(name: string): Promise<{ rec: ModelRecord; version: string } | null> {
    return readModel(this.root, name);
  }

  private async record(name: string): Promise<ModelRecord> {
    const r = await this.read(name);
    if (!r) throw notFound(`model "${name.slice(0, 80)}"`);
    return r.rec;
  }

  private view(rec: ModelRecord): ModelView {
    const champion = rec.versions.find((v) => v.version === rec.champion) ?? null;
    const self = `/models/${rec.name}`;
    return {
      name: rec.name,
      kind: rec.kind,
      features: rec.features,
      outputs: rec.outputs,
      createdAt: rec.createdAt,
      champion,
      versions: rec.versions.length,
      links: {
        self,
        versions: `${self}/versions`,
        model: `${self}/model.onnx`,
        ...(champion ? { job: `/jobs/${champion.job}` } : {}),
      },
    };
  }

  async list(): Promise<ModelView[]> {
    const out: ModelView[] = [];
    for (const k of await this.root.list("models/")) {
      const name = k.slice("models/".length, -".json".length);
      if (!k.endsWith(".json") || name.includes("/")) continue;
      const r = await this.read(name);
      if (r) out.push(this.view(r.rec));
    }
    return out;
  }

  async get(name: string): Promise<ModelView> {
    return this.view(await this.record(name));
  }

  async versions(name: string): Promise<{ name: string; champion: number | null; versions: ModelVersion[] }> {
    const rec = await this.record(name);
    return { name, champion: rec.champion, versions: rec.versions };
  }

  /** The champion's job id; `field` names the input that asked, for the error. */
  async championJob(name: string, field: string): Promise<{ job: string; version: number }> {
    const c = await readChampion(this.root, name);
    if (c === undefined)
      throw invalid(
        `no model named "${name.slice(0, 80)}": a model is created by its first promotion (POST ` +
          `/models/${name.slice(0, 80)}/promote, or a schedule's promote)`,
        [{ path: field, message: "unknown model" }],
      );
    if (c === null) throw invalid(`model "${name}" has no champion yet`, [{ path: field, message: "no champion" }]);
    return c;
  }

  /** The champion's model.json and θ (for GET /models/{name}/model.onnx). */
  async championModel(name: string): Promise<{ card: ModelCard; theta: Float64Array; version: number }> {
    const rec = await this.record(name);
    const v = rec.versions.find((x) => x.version === rec.champion);
    if (!v) throw conflict(`model "${name}" has no champion yet`);
    return { ...(await this.jobs.model(v.job)), version: v.version };
  }

  /**
   * Decides whether job `job` becomes the champion of model `name` (created by its first
   * promotion): by `rule` (both measured on the job's validation split), or unconditionally when
   * rule is null (a manual promotion; the numbers are still recorded). A job already decided by a
   * rule answers that decision again (a retried final state).
   */
  async promote(name: string, job: string, opts: { rule: Rule | null; by: string }): Promise<ModelVersion> {
    if (!MODEL_NAME.test(name))
      throw invalid("a model name is 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", [
        { path: "name", message: "invalid name" },
      ]);
    const jobError = (e: unknown): never => {
      if (e instanceof ServiceError) throw new ServiceError(e.kind, e.message, [{ path: "job", message: e.message }]);
      throw e;
    };
    const challenger = await this.jobs.model(job).catch(jobError);
    const store = this.jobs.jobStore(job);
    const spec = (await getJson(store, keys.spec)) as JobSpec;
    const p = spec.problem as Extract<JobSpec["problem"], { type: "classification" | "regression" }>;
    const dataset = await jobDataset(store);
    const loss = p.loss;
    if (opts.rule?.metric === "validationAccuracy" && challenger.card.kind !== "classification")
      throw invalid("validationAccuracy decides between classifiers; this is a regression model", [
        { path: "promote.metric", message: "use validationLoss" },
      ]);
    const challengerMetrics = await validationMetrics(challenger.card, challenger.theta, dataset, loss);
    const championCache = new Map<string, { metrics: Record<string, number> | null; theta: Float64Array }>();

    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.read(name);
      const rec: ModelRecord = current?.rec ?? {
        name,
        kind: challenger.card.kind,
        features: challenger.card.features,
        outputs: challenger.card.outputs,
        createdAt: new Date(this.now()).toISOString(),
        champion: null,
        versions: [],
      };
      const differs = [
        ...(rec.kind !== challenger.card.kind ? [`kind ${rec.kind}, the job's ${challenger.card.kind}`] : []),
        ...(show(rec.features) !== show(challenger.card.features)
          ? [`features ${show(rec.features)}, the job's ${show(challenger.card.features)}`]
          : []),
        ...(show(rec.outputs) !== show(challenger.card.outputs)
          ? [`outputs ${show(rec.outputs)}, the job's ${show(challenger.card.outputs)}`]
          : []),
      ];
      if (differs.length)
        throw invalid(`job ${job} cannot be a version of model "${name}": the model has ${differs.join("; ")}`, [
          { path: "job", message: "another kind of model" },
        ]);
      const earlier = rec.versions.find((v) => v.job === job);
      if (earlier && (opts.rule !== null || (earlier.promoted && rec.champion === earlier.version))) return earlier;

      const champ = rec.versions.find((v) => v.version === rec.champion) ?? null;
      let championMetrics: Record<string, number> | null = null;
      let championTheta: Float64Array | null = null;
      if (champ) {
        if (!championCache.has(champ.job)) {
          const m = await this.jobs.model(champ.job);
          championCache.set(champ.job, {
            metrics: await validationMetrics(m.card, m.theta, dataset, loss),
            theta: m.theta,
          });
        }
        ({ metrics: championMetrics, theta: championTheta } = championCache.get(champ.job)!);
      }
      let promoted: boolean, decision: string;
      if (opts.rule === null) {
        promoted = true;
        decision = champ
          ? `promoted by hand over version ${champ.version}`
          : "promoted by hand: the model's first version";
      } else if (!challengerMetrics) {
        promoted = false;
        decision =
          "the job has no validation split (data.validationFraction 0), so it cannot be measured against the champion";
      } else if (champ && sameTheta(challenger.theta, championTheta!)) {
        // a warm-started retrain that found nothing better returns its start: the champion itself
        promoted = false;
        decision =
          `kept version ${champ.version}: the retrain found nothing better than its start, the ` + `champion itself`;
      } else {
        const d = promotionDecision(
          opts.rule,
          challengerMetrics[opts.rule.metric],
          champ ? championMetrics?.[opts.rule.metric] : null,
        );
        promoted = d.promote;
        decision = champ
          ? `${d.promote ? "promoted" : `kept version ${champ.version}`}: ${d.reason}`
          : `promoted: ${d.reason}`;
      }
      const data = p.data as { source: string; name?: string; version?: number; id?: string };
      const entry: ModelVersion = {
        version: (rec.versions[rec.versions.length - 1]?.version ?? 0) + 1,
        job,
        dataset: {
          source: data.source,
          ...(data.name !== undefined ? { name: data.name } : {}),
          ...(typeof data.version === "number" ? { version: data.version } : {}),
          ...(data.id !== undefined ? { id: data.id } : {}),
        },
        promoted,
        decision,
        rule: opts.rule,
        comparedWith: champ?.version ?? null,
        metrics: { challenger: challengerMetrics, champion: championMetrics },
        by: opts.by,
        decidedAt: new Date(this.now()).toISOString(),
      };
      const next: ModelRecord = {
        ...rec,
        champion: promoted ? entry.version : rec.champion,
        versions: [...rec.versions, entry],
      };
      const written = await this.root.putIfMatch(
        this.key(name),
        new TextEncoder().encode(JSON.stringify(next, null, 1) + "\n"),
        current?.version ?? null,
        "application/json",
      );
      if (written !== null) return entry;
      // another promotion wrote first: read it again and decide against its champion
    }
    throw conflict(`model "${name}" changed under ${MAX_ATTEMPTS} promotions in a row; try again`);
  }

  /** A schedule's rule as promote takes it. */
  static rule(r: PromotionRule): Rule {
    return { metric: r.metric, minImprovement: r.minImprovement };
  }
}
