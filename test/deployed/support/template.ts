// The synthesized CloudFormation template as the deployed-artifacts stage reads it: each Lambda
// function's asset, layers, memory, timeout and environment, and the state machine's definition,
// with the intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub) resolved against stand-in
// names: function ARNs in a fixed account and region, the bucket the test S3 server serves.

import { readFileSync } from "node:fs";
import { join } from "node:path";

export const REGION = "us-east-1";
export const ACCOUNT = "000000000000";

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
}

export interface TemplateFunction {
  /** the logical ID, which is also the stand-in's function name */
  id: string;
  /** the role in the app ("api", "evaluate", …): the logical ID without CDK's hash suffix */
  role: string;
  arn: string;
  /** the asset directory (the task root), absolute */
  asset: string;
  /** the layers' asset directories, in the template's order */
  layers: string[];
  handler: string;
  memory: number;
  timeout: number;
  architecture: string;
  environment: Record<string, string>;
}

export interface Template {
  functions: TemplateFunction[];
  /** the state machine's ASL definition, resolved */
  definition: Record<string, unknown>;
  stateMachineArn: string;
  /** physical names the stand-ins answer to, by logical ID */
  names: Record<string, string>;
}

export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

/** Resolves the intrinsic functions in `value`. `ref` and `attr` give a resource's Ref and attributes. */
export function resolveIntrinsics(
  value: Json,
  ref: (id: string) => string,
  attr: (id: string, name: string) => string,
): Json {
  const go = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(go);
    if (v === null || typeof v !== "object") return v;
    const o = v as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys;
      const arg = o[k];
      if (k === "Ref") return ref(arg as string);
      if (k === "Fn::GetAtt") {
        const [id, name] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(".");
        return attr(id, name);
      }
      if (k === "Fn::Join") {
        const [sep, parts] = arg as [string, Json[]];
        return (go(parts) as Json[]).map(String).join(sep);
      }
      if (k === "Fn::Sub") {
        const [text, vars] = typeof arg === "string" ? [arg, {}] : (arg as [string, Record<string, Json>]);
        const bound = go(vars) as Record<string, string>;
        return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
          if (name in bound) return bound[name];
          const [id, att] = name.split(".");
          return att ? attr(id, att) : ref(id);
        });
      }
      if (k.startsWith("Fn::")) throw new Error(`the deployed-artifacts stage does not resolve ${k}`);
    }
    return Object.fromEntries(keys.map((key) => [key, go(o[key])]));
  };
  return go(value);
}

/**
 * Reads `<stack>.template.json` in the cloud assembly `dir`. `bucket` is the name the jobs bucket
 * resolves to (the test S3 server's bucket).
 */
export function readTemplate(dir: string, stack: string, bucket: string): Template {
  const raw = JSON.parse(readFileSync(join(dir, `${stack}.template.json`), "utf8")) as {
    Resources: Record<string, Resource>;
  };
  const resources = raw.Resources;
  const typed = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const machineId = typed("AWS::StepFunctions::StateMachine")[0]?.[0];
  if (!machineId) throw new Error(`${stack}: no state machine in the template`);
  const machineName = String(resources[machineId].Properties?.StateMachineName ?? machineId);
  const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${machineName}`;
  const names: Record<string, string> = {};
  const pseudo: Record<string, string> = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": stack,
  };
  const ref = (id: string): string => {
    if (id in pseudo) return pseudo[id];
    const r = resources[id];
    if (!r) throw new Error(`${stack}: Ref to a missing resource ${id}`);
    if (r.Type === "AWS::S3::Bucket") return id.startsWith("Jobs") ? bucket : id.toLowerCase();
    if (r.Type === "AWS::StepFunctions::StateMachine") return stateMachineArn;
    if (r.Type === "AWS::Events::EventBus") return String(r.Properties?.Name ?? id);
    return id;
  };
  const attr = (id: string, name: string): string => {
    const r = resources[id];
    if (!r) throw new Error(`${stack}: Fn::GetAtt of a missing resource ${id}`);
    if (name === "Arn" || name === "FunctionArn") {
      if (r.Type === "AWS::Lambda::Function") return functionArn(id);
      if (r.Type === "AWS::S3::Bucket") return `arn:aws:s3:::${ref(id)}`;
      if (r.Type === "AWS::IAM::Role") return `arn:aws:iam::${ACCOUNT}:role/${id}`;
      if (r.Type === "AWS::Events::EventBus") return `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${ref(id)}`;
      if (r.Type === "AWS::StepFunctions::StateMachine") return stateMachineArn;
    }
    if (name === "Name") return ref(id);
    return `${id}.${name}`;
  };
  const resolve = (v: Json) => resolveIntrinsics(v, ref, attr);

  const functions = typed("AWS::Lambda::Function")
    .filter(([, r]) => typeof r.Metadata?.["aws:asset:path"] === "string")
    .map(([id, r]): TemplateFunction => {
      const p = r.Properties ?? {};
      const layers = ((p.Layers ?? []) as { Ref: string }[]).map((l) => {
        const path = resources[l.Ref]?.Metadata?.["aws:asset:path"];
        if (typeof path !== "string") throw new Error(`${id}: layer ${l.Ref} has no asset`);
        return join(dir, path);
      });
      const env = resolve((p.Environment as { Variables?: Json } | undefined)?.Variables ?? {}) as Record<
        string,
        string
      >;
      names[id] = id;
      return {
        id,
        role: id.replace(/[0-9A-F]{8}$/, ""),
        arn: functionArn(id),
        asset: join(dir, r.Metadata!["aws:asset:path"] as string),
        layers,
        handler: String(p.Handler ?? "index.handler"),
        memory: Number(p.MemorySize ?? 128),
        timeout: Number(p.Timeout ?? 3),
        architecture: ((p.Architectures as string[] | undefined) ?? ["x86_64"])[0],
        environment: env,
      };
    });
  const body = resources[machineId].Properties?.DefinitionString;
  const definition = JSON.parse(String(resolve(body))) as Record<string, unknown>;
  return { functions, definition, stateMachineArn, names };
}
