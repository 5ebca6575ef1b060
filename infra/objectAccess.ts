// Least privilege on the jobs bucket: every workflow function reads the job's objects; each writes only its own keys.

import { ENV } from "../shared/config.ts";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as s3 from "aws-cdk-lib/aws-s3";

type Functions = Record<
  "launch" | "init" | "evaluate" | "reduce" | "finalize" | "recordFailure" | "outcome" | "api",
  lambda.Function
>;

/** Grants each function the bucket access its handler needs, and names the bucket to those that look it up. */
export function grantJobObjects(bucket: s3.Bucket, fns: Functions): void {
  // least privilege: every function reads the job's objects; each writes only its own keys
  const objects = (...patterns: string[]) => patterns.map((p) => bucket.arnForObjects(p));
  const allow = (f: lambda.IFunction, actions: string[], resources: string[]) =>
    f.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
  const workflowFns = [fns.launch, fns.init, fns.evaluate, fns.reduce, fns.finalize, fns.outcome];
  // ListBucket lets a read of a missing key answer 404 (without it S3 answers 403)
  for (const f of workflowFns) {
    allow(f, ["s3:GetObject"], objects("*"));
    allow(f, ["s3:ListBucket"], [bucket.bucketArn]);
  }
  fns.launch.addEnvironment(ENV.bucket, bucket.bucketName);
  // jobs' dataset files go once to the content-addressed blobs/; a submission that fails removes what it wrote
  allow(fns.launch, ["s3:PutObject"], objects("jobs/*", "index/*", "schedule-firings/*", "blobs/*"));
  allow(fns.launch, ["s3:DeleteObject"], objects("jobs/*", "index/*"));
  allow(fns.init, ["s3:PutObject"], objects("*/state/*", "*/rounds/*/plan.json", "*/rounds/*/point.f64"));
  // shards' partials and trial shares; an inverse job's member blocks
  allow(
    fns.evaluate,
    ["s3:PutObject", "s3:PutObjectTagging"],
    objects("*/rounds/*/partials/*", "*/rounds/*/trials/*", "*/rounds/*/blocks/*"),
  );
  allow(
    fns.reduce,
    ["s3:PutObject"],
    objects("*/state/*", "*/rounds/*/plan.json", "*/rounds/*/point.f64", "*/best.theta.f64"),
  );
  allow(
    fns.reduce,
    ["s3:PutObject", "s3:PutObjectTagging"],
    objects("*/rounds/*/partials/*", "*/rounds/*/trials/*", "*/rounds/*/blocks/*"),
  );
  allow(
    fns.finalize,
    ["s3:PutObject"],
    objects("*/result.json", "*/theta.npy", "*/theta-last.npy", "*/model.json", "*/history.csv"),
  );
  // a finished job keeps its results and final state; its rounds' objects go
  allow(fns.finalize, ["s3:DeleteObject"], objects("*/rounds/*", "*/state/*"));
  allow(fns.recordFailure, ["s3:PutObject"], objects("*/failure.json"));
  // the outcome, and the model registry's pointer documents (conditional writes)
  fns.outcome.addEnvironment(ENV.bucket, bucket.bucketName);
  allow(fns.outcome, ["s3:PutObject"], objects("jobs/*/outcome.json", "models/*"));
}
