// A job's record (jobs/<id>/job.json): what the service knows of it beyond its own store, written
// last when the job is submitted, so a job exists once its record does.

import type { PromotionRule } from "../spec/api.ts";

export interface JobRecord {
  id: string;
  name: string;
  createdAt: string;
  bodySha256: string;
  idempotencyKey?: string;
  schedule?: string;
  /** the execution that launched it (a schedule's firing on AWS), for cancel */
  execution?: string;
  /** the schedule's promotion rule: the final state promotes the job if it succeeds and wins */
  promote?: PromotionRule;
  /** where θ₀ came from (problem.initial), resolved when the job was created */
  warmStart?: { job: string; model?: string; version?: number };
}

/** A model's champion job (models.ts), for problem.initial.fromModel. */
export type ChampionLookup = (model: string, field: string) => Promise<{ job: string; version: number }>;

export interface SubmitOptions {
  /** the schedule whose firing made it */
  schedule?: string;
  execution?: string;
  /** false: prepare only (the Launch state runs it in its own execution) */
  start?: boolean;
  /** the schedule's promotion rule, kept in the job's record for its final state */
  promote?: PromotionRule;
}
