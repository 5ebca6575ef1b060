// The CDK app's resources and settings, checked on the synthesized template (bundling skipped),
// and cdk-nag's AwsSolutions pack with only the documented suppressions.
import { App, Aspects } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { EnkfStack } from "../infra/stack.ts";
import { localDefinition } from "../functions/localEngine.ts";

const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
const stack = new EnkfStack(app, "Test", { maxConcurrency: 12 });
Aspects.of(app).add(new AwsSolutionsChecks());
const template = Template.fromStack(stack);

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
function statementsOf(fnLogicalPrefix: string): Statement[] {
  const policies = template.findResources("AWS::IAM::Policy");
  const out: Statement[] = [];
  for (const [id, p] of Object.entries(policies)) {
    if (!id.startsWith(`${fnLogicalPrefix}ServiceRoleDefaultPolicy`)) continue;
    out.push(...(p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
  }
  return out;
}

describe("the CDK app", () => {
  it("makes an encrypted, private, TLS-only jobs bucket whose partials expire", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: [Match.objectLike({ Id: "expire-partials", TagFilters: [{ Key: "enkf-kind", Value: "partial" }], ExpirationInDays: 7, Status: "Enabled" })] },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "jobs/" }),
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } })]) } });
  });

  it("runs every task on Node.js 22, arm64, with the ONNX Runtime layer on evaluate", () => {
    const fns = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs22.x" } });
    expect(Object.keys(fns).length).toBe(5);
    for (const f of Object.values(fns)) expect((f as { Properties: { Architectures: string[] } }).Properties.Architectures).toEqual(["arm64"]);
    template.hasResourceProperties("AWS::Lambda::Function", { MemorySize: 3008, Timeout: 300, Layers: [Match.anyValue()] });
    template.hasResourceProperties("AWS::Lambda::LayerVersion", { CompatibleArchitectures: ["arm64"], CompatibleRuntimes: ["nodejs22.x"] });
  });

  it("deploys the same state machine definition the local engine runs", () => {
    const machines = template.findResources("AWS::StepFunctions::StateMachine");
    const [machine] = Object.values(machines) as { Properties: { StateMachineType: string; DefinitionString: { "Fn::Join": [string, unknown[]] } } }[];
    expect(machine.Properties.StateMachineType).toBe("STANDARD");
    // the deployed text with the ARNs' tokens replaced by the local engine's placeholders
    const parts = machine.Properties.DefinitionString["Fn::Join"][1];
    const names: Record<string, string> = { init: "init", evaluate: "evaluate", reduce: "reduce", finalize: "finalize", recordFailure: "record-failure" };
    const text = parts.map((p) => {
      if (typeof p === "string") return p;
      const id = (p as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      const fn = Object.keys(names).find((n) => id.startsWith(n));
      return `arn:aws:lambda:us-east-1:000000000000:function:enkf-${names[fn!]}`;
    }).join("");
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(localDefinition(12))));
    // retries with full jitter on the Lambda tasks, and failures routed to RecordFailure
    expect(text).toContain('"JitterStrategy":"FULL"');
    expect(text).toContain('"Next":"RecordFailure"');
    // continue-as-new: the machine may start executions of itself, and of nothing else
    const role = Object.values(template.findResources("AWS::IAM::Policy")).find((p) => JSON.stringify(p).includes("states:StartExecution"));
    expect(JSON.stringify(role)).toContain(":stateMachine:Test-workflow");
  });

  it("gives each function least privilege: named actions only, evaluate writes only partials", () => {
    for (const prefix of ["init", "evaluate", "reduce", "finalize", "recordFailure"]) {
      const statements = statementsOf(prefix);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) for (const a of [s.Action].flat()) expect(a).not.toMatch(/\*/);
    }
    const evaluateWrites = statementsOf("evaluate").filter((s) => [s.Action].flat().includes("s3:PutObject"));
    expect(JSON.stringify(evaluateWrites)).toMatch(/rounds\/\*\/partials\/\*/);
    expect(JSON.stringify(evaluateWrites)).not.toMatch(/state\/|result\.json/);
    expect(statementsOf("recordFailure").flatMap((s) => [s.Action].flat())).toEqual(["s3:PutObject"]);
  });

  it("passes cdk-nag's AwsSolutions pack (documented suppressions only)", () => {
    const errors = Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect(errors.map((e) => e.entry.data)).toEqual([]);
    const warnings = Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect(warnings.map((e) => e.entry.data)).toEqual([]);
  });
});
