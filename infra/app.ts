// The CDK app (`npx cdk synth`, offline, no credentials needed): the EnkfService stack, checked
// by cdk-nag's AwsSolutions rules. Sizes come from context: -c evaluateMemory=3008 -c maxConcurrency=40;
// -c gpu=true adds the GPU option (AWS Batch); -c forwardFunctions, -c jwtIssuer, -c jwtAudience
// and -c schedules below.

import { readFileSync } from "node:fs";
import { App, Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { EnkfStack } from "./stack.ts";

const app = new App();
const num = (key: string) => {
  const v = app.node.tryGetContext(key);
  return v === undefined ? undefined : Number(v);
};
const jwtIssuer = app.node.tryGetContext("jwtIssuer") as string | undefined;
const schedulesFile = app.node.tryGetContext("schedules") as string | undefined;
new EnkfStack(app, "EnkfService", {
  // -c jwtIssuer=https://… -c jwtAudience=a,b: a JWT authorizer instead of IAM on the HTTP API
  jwt: jwtIssuer
    ? {
        issuer: jwtIssuer,
        audience: String(app.node.tryGetContext("jwtAudience") ?? "")
          .split(",")
          .filter(Boolean),
      }
    : undefined,
  // -c schedules=schedules.json: [{ "name", "expression", "template": <job spec> }] declared at deploy time
  schedules: schedulesFile ? JSON.parse(readFileSync(schedulesFile, "utf8")) : undefined,
  evaluateMemory: num("evaluateMemory"),
  memory: num("memory"),
  evaluateTimeout: num("evaluateTimeout"),
  maxConcurrency: num("maxConcurrency"),
  partialsDays: num("partialsDays"),
  // -c forwardFunctions=arn:aws:lambda:…:function:sim,…: the functions inverse jobs may use as their forward
  forwardFunctions: String(app.node.tryGetContext("forwardFunctions") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean),
  // -c forwardHosts=sim.example.com,10.0.0.5:8080: the hosts inverse jobs' http forwards may call (none by default)
  forwardHosts: String(app.node.tryGetContext("forwardHosts") ?? "")
    .split(",")
    .map((a) => a.trim())
    .filter(Boolean),
  // -c gpu=true adds the AWS Batch GPU option; -c gpuMaxvCpus=64 -c gpuInstanceTypes=g5.xlarge,g6.xlarge -c
  // gpuSpot=true
  gpu:
    String(app.node.tryGetContext("gpu") ?? "false") === "true"
      ? {
          maxvCpus: num("gpuMaxvCpus"),
          instanceTypes: app.node.tryGetContext("gpuInstanceTypes")?.split(","),
          spot: String(app.node.tryGetContext("gpuSpot")) === "true",
        }
      : false,
});
Aspects.of(app).add(new AwsSolutionsChecks());
app.synth();
