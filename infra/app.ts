// The CDK app (`npx cdk synth`, offline, no credentials needed): the EnkfService stack, checked
// by cdk-nag's AwsSolutions rules. Sizes come from context: -c evaluateMemory=3008 -c maxConcurrency=40.

import { App, Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { EnkfStack } from "./stack.ts";

const app = new App();
const num = (key: string) => {
  const v = app.node.tryGetContext(key);
  return v === undefined ? undefined : Number(v);
};
new EnkfStack(app, "EnkfService", {
  evaluateMemory: num("evaluateMemory"),
  memory: num("memory"),
  evaluateTimeout: num("evaluateTimeout"),
  maxConcurrency: num("maxConcurrency"),
  partialsDays: num("partialsDays"),
});
Aspects.of(app).add(new AwsSolutionsChecks());
app.synth();
