// The CDK app's resources and settings, checked on the synthesized template (bundling skipped),
// and cdk-nag's AwsSolutions pack with only the documented suppressions.
import { App, Aspects } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { EnkfStack } from "../../infra/stack.ts";
import { localDefinition, localGpu } from "../../local/engine.ts";

const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
const stack = new EnkfStack(app, "Test", { maxConcurrency: 12 });
Aspects.of(app).add(new AwsSolutionsChecks());
const template0 = {
  name: "nightly",
  problem: { type: "classification", data: { source: "mnist" }, model: { type: "mlp", hidden: [16] } },
  optimizer: { method: "modified-enkf", ensembleSize: 20 },
  stop: { maxIterations: 50 },
};
const gpuStack = new EnkfStack(app, "TestGpu", {
  maxConcurrency: 12,
  gpu: { maxvCpus: 32, instanceTypes: ["g5.xlarge", "g6.xlarge"] },
  jwt: { issuer: "https://issuer.example.com/", audience: ["enkf"] },
  schedules: [{ name: "nightly", expression: "cron(0 3 * * ? *)", template: template0 }],
  forwardFunctions: ["arn:aws:lambda:eu-west-1:123456789012:function:lorenz96"],
});
const template = Template.fromStack(stack);
const gpuTemplate = Template.fromStack(gpuStack);

/** The deployed definition's text with every ARN token replaced by the local engine's placeholder. */
function deployedDefinition(t: Template): string {
  const [machine] = Object.values(t.findResources("AWS::StepFunctions::StateMachine")) as {
    Properties: { DefinitionString: { "Fn::Join": [string, unknown[]] } };
  }[];
  const names: Record<string, string> = {
    launch: "launch",
    init: "init",
    evaluate: "evaluate",
    reduce: "reduce",
    finalize: "finalize",
    recordFailure: "record-failure",
    outcome: "outcome",
  };
  return machine.Properties.DefinitionString["Fn::Join"][1]
    .map((p) => {
      if (typeof p === "string") return p;
      const id = (p as { Ref?: string }).Ref ?? (p as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      if (id.startsWith("GpuQueue")) return localGpu.jobQueue;
      if (id.startsWith("GpuEvaluate")) return localGpu.jobDefinition;
      if (id.startsWith("JobOutcomes")) return "enkf-local";
      const fn = Object.keys(names).find((n) => id.startsWith(n));
      return `arn:aws:lambda:us-east-1:000000000000:function:enkf-${names[fn!]}`;
    })
    .join("");
}

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
function statementsOf(fnLogicalPrefix: string, t = template, policy = "ServiceRoleDefaultPolicy"): Statement[] {
  const policies = t.findResources("AWS::IAM::Policy");
  const out: Statement[] = [];
  for (const [id, p] of Object.entries(policies)) {
    if (!id.startsWith(`${fnLogicalPrefix}${policy}`)) continue;
    out.push(
      ...(p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );
  }
  return out;
}

describe("the CDK app", () => {
  it("makes an encrypted, private, TLS-only jobs bucket whose partials expire", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Id: "expire-partials",
            TagFilters: [{ Key: "enkf-kind", Value: "partial" }],
            ExpirationInDays: 7,
            Status: "Enabled",
          }),
        ],
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: "jobs/" }),
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("runs every task on Node.js 22, arm64, with the ONNX Runtime layer on evaluate", () => {
    const fns = template.findResources("AWS::Lambda::Function", { Properties: { Runtime: "nodejs22.x" } });
    expect(Object.keys(fns).length).toBe(8);
    for (const f of Object.values(fns))
      expect((f as { Properties: { Architectures: string[] } }).Properties.Architectures).toEqual(["arm64"]);
    template.hasResourceProperties("AWS::Lambda::Function", {
      MemorySize: 3008,
      Timeout: 300,
      Layers: [Match.anyValue()],
    });
    template.hasResourceProperties("AWS::Lambda::LayerVersion", {
      CompatibleArchitectures: ["arm64"],
      CompatibleRuntimes: ["nodejs22.x"],
    });
  });

  it("deploys the same state machine definition the local engine runs", () => {
    template.hasResourceProperties("AWS::StepFunctions::StateMachine", { StateMachineType: "STANDARD" });
    // the deployed text with the ARNs' tokens replaced by the local engine's placeholders; without
    // the GPU option the machine has no Batch branch
    const text = deployedDefinition(template);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(localDefinition(12, false))));
    expect(text).not.toContain("batch:submitJob");
    // retries with full jitter on the Lambda tasks, and failures routed to RecordFailure
    expect(text).toContain('"JitterStrategy":"FULL"');
    expect(text).toContain('"Next":"RecordFailure"');
    // continue-as-new: the machine may start executions of itself, and of nothing else
    const role = Object.values(
      template.findResources("AWS::IAM::Policy", {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp("^WorkflowRole") }] },
      }),
    ).find((p) => JSON.stringify(p).includes("states:StartExecution"));
    expect(JSON.stringify(role)).toContain(":stateMachine:Test-workflow");
  });

  it("gives each function least privilege: named actions only, evaluate writes only partials", () => {
    for (const prefix of ["launch", "init", "evaluate", "reduce", "finalize", "recordFailure", "outcome", "api"]) {
      const statements = statementsOf(prefix);
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) for (const a of [s.Action].flat()) expect(a).not.toMatch(/\*/);
    }
    const evaluateWrites = statementsOf("evaluate").filter((s) => [s.Action].flat().includes("s3:PutObject"));
    expect(JSON.stringify(evaluateWrites)).toMatch(/rounds\/\*\/partials\/\*/);
    expect(JSON.stringify(evaluateWrites)).not.toMatch(/state\/|result\.json/);
    expect(statementsOf("recordFailure").flatMap((s) => [s.Action].flat())).toEqual(["s3:PutObject"]);
    // the outcome writes its outcome.json and the model registry, nothing of a job's run
    const outcomeWrites = JSON.stringify(
      statementsOf("outcome").filter((s) => [s.Action].flat().includes("s3:PutObject")),
    );
    expect(outcomeWrites).toContain("/jobs/*/outcome.json");
    expect(outcomeWrites).toContain("/models/*");
    expect(outcomeWrites).not.toMatch(/state\/|result\.json|theta/);
    // the API's router writes the service's prefixes, never a job's state or result objects alone
    const api = statementsOf("api");
    const apiWrites = JSON.stringify(api.filter((s) => [s.Action].flat().includes("s3:PutObject")));
    for (const prefix of ["jobs", "index", "datasets", "dataset-names", "schedules", "models"])
      expect(apiWrites).toContain(`/${prefix}/*`);
    const passRole = api.find((s) => [s.Action].flat().includes("iam:PassRole")) as Statement & { Condition?: unknown };
    expect(passRole.Condition).toEqual({ StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } });
    expect(JSON.stringify(api.find((s) => [s.Action].flat().includes("scheduler:CreateSchedule"))?.Resource)).toContain(
      "-schedules/*",
    );
  });

  it("publishes each job's outcome on its own EventBridge bus, which only the state machine may put events on", () => {
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "Test-outcomes" });
    const text = deployedDefinition(template);
    const def = JSON.parse(text) as {
      States: Record<
        string,
        {
          Type: string;
          Resource?: string;
          Next?: string;
          Parameters?: { Entries: { Source: string; DetailType: string; EventBusName: string }[] };
        }
      >;
    };
    expect(def.States["Publish outcome"].Resource).toBe("arn:aws:states:::events:putEvents");
    expect(def.States["Publish outcome"].Parameters!.Entries[0]).toMatchObject({
      Source: "enkf",
      DetailType: "enkf job outcome",
      EventBusName: "enkf-local",
    });
    expect(def.States.Finalize.Next).toBe("Outcome");
    expect(def.States.RecordFailure.Next).toBe("Outcome");
    const puts = Object.values(
      template.findResources("AWS::IAM::Policy", {
        Properties: { Roles: [{ Ref: Match.stringLikeRegexp("^WorkflowRole") }] },
      }),
    )
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
      )
      .filter((s) => [s.Action].flat().includes("events:PutEvents"));
    expect(puts).toHaveLength(1);
    expect(JSON.stringify(puts[0].Resource)).toContain("JobOutcomes");
  });

  it(
    "serves the HTTP API through one router function, IAM-authorized except the OpenAPI " +
      "document, with access logs",
    () => {
      template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: "ANY /{proxy+}",
        AuthorizationType: "AWS_IAM",
      });
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: "GET /openapi.json",
        AuthorizationType: "NONE",
      });
      template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
        StageName: "$default",
        AutoDeploy: true,
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      });
      template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: {
          Variables: Match.objectLike({
            ENKF_STATE_MACHINE_ARN: Match.anyValue(),
            ENKF_SCHEDULE_GROUP: Match.anyValue(),
          }),
        },
      });
      // the optional JWT authorizer replaces IAM
      gpuTemplate.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
        AuthorizerType: "JWT",
        JwtConfiguration: { Issuer: "https://issuer.example.com/", Audience: ["enkf"] },
      });
      gpuTemplate.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: "ANY /{proxy+}",
        AuthorizationType: "JWT",
      });
    },
  );

  it(
    "puts schedules in their own EventBridge Scheduler group, started through a role that may " +
      "only start this machine",
    () => {
      template.resourceCountIs("AWS::Scheduler::ScheduleGroup", 1);
      const roles = template.findResources("AWS::IAM::Role", {
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [Match.objectLike({ Principal: { Service: "scheduler.amazonaws.com" } })],
          },
        },
      });
      const [roleId] = Object.keys(roles);
      const policies = Object.values(
        template.findResources("AWS::IAM::Policy", { Properties: { Roles: [{ Ref: roleId }] } }),
      ) as { Properties: { PolicyDocument: { Statement: Statement[] } } }[];
      expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s) => [s.Action].flat()))).toEqual([
        "states:StartExecution",
      ]);
      // a schedule declared in the app launches its template through the state machine
      gpuTemplate.hasResourceProperties("AWS::Scheduler::Schedule", {
        ScheduleExpression: "cron(0 3 * * ? *)",
        Target: Match.objectLike({ Input: Match.stringLikeRegexp('"launch":\\{"name":"nightly"') }),
      });
    },
  );

  it.each([
    ["without", stack],
    ["with", gpuStack],
  ])("passes cdk-nag's AwsSolutions pack %s the GPU option (documented suppressions only)", (_, s) => {
    const errors = Annotations.fromStack(s).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect(errors.map((e) => e.entry.data)).toEqual([]);
    const warnings = Annotations.fromStack(s).findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect(warnings.map((e) => e.entry.data)).toEqual([]);
  });
});

describe("the GPU option (-c gpu=true)", () => {
  it(
    "adds an EC2 GPU compute environment that scales to zero, a job queue, and a one-GPU job " +
      "definition built from the GPU container",
    () => {
      expect(Object.keys(template.findResources("AWS::Batch::JobQueue"))).toEqual([]);
      gpuTemplate.hasResourceProperties("AWS::Batch::ComputeEnvironment", {
        Type: "managed",
        ComputeResources: Match.objectLike({
          Type: "EC2",
          MinvCpus: 0,
          MaxvCpus: 32,
          InstanceTypes: ["g5.xlarge", "g6.xlarge"],
          Ec2Configuration: [{ ImageType: "ECS_AL2_NVIDIA" }],
        }),
      });
      gpuTemplate.resourceCountIs("AWS::Batch::JobQueue", 1);
      gpuTemplate.hasResourceProperties("AWS::Batch::JobDefinition", {
        Type: "container",
        PlatformCapabilities: ["EC2"],
        ContainerProperties: Match.objectLike({
          ResourceRequirements: Match.arrayWith([{ Type: "GPU", Value: "1" }]),
          Image: Match.anyValue(),
        }),
        RetryStrategy: Match.objectLike({ Attempts: 3 }),
      });
      // the image is the repository's functions/gpu/Dockerfile, built at deploy time
      const assets = JSON.stringify(
        gpuStack.node
          .findAll()
          .filter((c) => c.node.id === "AssetImage")
          .map((c) => (c as unknown as { assetPath?: string }).assetPath ?? c.node.path),
      );
      expect(assets.length).toBeGreaterThan(2);
      // init knows whether gpu jobs can run here
      gpuTemplate.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: { ENKF_GPU_OPTION: "on" } },
      });
      template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: { ENKF_GPU_OPTION: "off" } },
      });
    },
  );

  it(
    "deploys the local engine's definition with the Batch branch, and lets the machine submit " +
      "only to its queue and job definition",
    () => {
      const text = deployedDefinition(gpuTemplate);
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(localDefinition(12, true))));
      expect(text).toContain('"Resource":"arn:aws:states:::batch:submitJob.sync"');
      const policies = JSON.stringify(
        gpuTemplate.findResources("AWS::IAM::Policy", {
          Properties: { Roles: [{ Ref: Match.stringLikeRegexp("^WorkflowRole") }] },
        }),
      );
      const submit = JSON.parse(policies) as Record<
        string,
        { Properties: { PolicyDocument: { Statement: Statement[] } } }
      >;
      const statements = Object.values(submit).flatMap((p) => p.Properties.PolicyDocument.Statement);
      const submitJob = statements.filter((s) => [s.Action].flat().includes("batch:SubmitJob"));
      expect(submitJob.length).toBe(1);
      expect(JSON.stringify(submitJob[0].Resource)).toMatch(/GpuQueue.*GpuEvaluate|GpuEvaluate.*GpuQueue/);
      for (const s of statements) for (const a of [s.Action].flat()) expect(a).not.toMatch(/\*/);
    },
  );

  it(
    "lets the state machine invoke exactly the forward functions the deployment names, and " +
      "tells the API and Launch which they are",
    () => {
      const invokes = (t: Template) =>
        Object.values(
          t.findResources("AWS::IAM::Policy", {
            Properties: { Roles: [{ Ref: Match.stringLikeRegexp("^WorkflowRole") }] },
          }),
        )
          .flatMap(
            (p) =>
              (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
          )
          .filter((s) => [s.Action].flat().includes("lambda:InvokeFunction"))
          .flatMap((s) => [s.Resource].flat())
          .filter((r) => typeof r === "string");
      expect(invokes(gpuTemplate)).toEqual(["arn:aws:lambda:eu-west-1:123456789012:function:lorenz96"]);
      // without the context, the machine invokes only its own functions (Fn::GetAtt resources)
      expect(invokes(template)).toEqual([]);
      gpuTemplate.hasResourceProperties("AWS::Lambda::Function", {
        Environment: {
          Variables: Match.objectLike({
            ENKF_FORWARD_FUNCTIONS: "arn:aws:lambda:eu-west-1:123456789012:function:lorenz96",
            ENKF_STATE_MACHINE_ARN: Match.anyValue(),
          }),
        },
      });
      expect(
        Object.keys(
          gpuTemplate.findResources("AWS::Lambda::Function", {
            Properties: { Environment: { Variables: Match.objectLike({ ENKF_FORWARD_FUNCTIONS: Match.anyValue() }) } },
          }),
        )
          .map((id) => id.replace(/[A-F0-9]{8}$/, ""))
          .sort(),
      ).toEqual(["api", "launch"]);
      // the member branch's states are in the deployed definition
      const def = JSON.parse(deployedDefinition(gpuTemplate)) as {
        States: Record<string, { ItemProcessor?: { States: Record<string, { Resource?: string }> } }>;
      };
      expect(def.States["Round (members, lambda)"].ItemProcessor!.States["Forward (lambda)"].Resource).toBe(
        "arn:aws:states:::lambda:invoke",
      );
      expect(
        () =>
          new EnkfStack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "Bad", {
            forwardFunctions: ["not-an-arn"],
          }),
      ).toThrow(/forwardFunctions: "not-an-arn" is not a Lambda function's ARN/);
    },
  );

  it("gives the container's job role the evaluate function's rights: read the job, write partials", () => {
    const statements = statementsOf("GpuJobRole", gpuTemplate, "DefaultPolicy");
    expect(statements.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      "s3:GetObject",
      "s3:PutObject",
      "s3:PutObjectTagging",
    ]);
    const writes = statements.filter((s) => [s.Action].flat().includes("s3:PutObject"));
    expect(JSON.stringify(writes)).toMatch(/rounds\/\*\/partials\/\*/);
    expect(JSON.stringify(writes)).not.toMatch(/state\/|result\.json/);
  });
});
