// The GPU option (`-c gpu=true`): an AWS Batch job queue on an EC2 GPU compute environment
// (Fargate has no GPUs) and a job definition whose container runs the evaluate handler with the
// gpu backend (functions/gpu/Dockerfile). The state machine's GPU branch submits one job per shard.
// Topology only; the container's code is functions/ and shared/.

import { join } from "node:path";
import { Duration, Size, Stack } from "aws-cdk-lib";
import * as batch from "aws-cdk-lib/aws-batch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";

export interface GpuBatchProps {
  bucket: s3.IBucket;
  /** the compute environment's ceiling in vCPUs (it scales to 0 when idle) */
  maxvCpus?: number;
  /** EC2 GPU instance types (default g5.xlarge: one NVIDIA A10G, 4 vCPUs, 16 GiB) */
  instanceTypes?: string[];
  /** run on Spot capacity (reclaimed jobs are retried by the job definition) */
  spot?: boolean;
  /** seconds one evaluate job may run */
  timeout?: number;
}

export class GpuBatch extends Construct {
  readonly jobQueue: batch.JobQueue;
  readonly jobDefinition: batch.EcsJobDefinition;

  constructor(scope: Construct, id: string, props: GpuBatchProps) {
    super(scope, id);
    const root = join(import.meta.dirname, "..");
    // public subnets and no NAT gateway: the instances pull the image and reach S3 directly
    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "public", subnetType: ec2.SubnetType.PUBLIC }],
      flowLogs: {
        all: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, "FlowLogs", { retention: logs.RetentionDays.ONE_MONTH }),
          ),
        },
      },
    });
    vpc.addGatewayEndpoint("S3", { service: ec2.GatewayVpcEndpointAwsService.S3 });
    const types = (props.instanceTypes ?? ["g5.xlarge"]).map((t) => new ec2.InstanceType(t));
    const compute = new batch.ManagedEc2EcsComputeEnvironment(this, "Compute", {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceTypes: types,
      useOptimalInstanceClasses: false,
      images: [{ imageType: batch.EcsMachineImageType.ECS_AL2_NVIDIA }],
      minvCpus: 0,
      maxvCpus: props.maxvCpus ?? 64,
      spot: props.spot ?? false,
    });
    this.jobQueue = new batch.JobQueue(this, "Queue", {
      computeEnvironments: [{ computeEnvironment: compute, order: 1 }],
    });

    // the job role: exactly the evaluate Lambda function's rights (read the job, write partials)
    const jobRole = new iam.Role(this, "JobRole", { assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com") });
    jobRole.addToPolicy(
      new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: [props.bucket.arnForObjects("*")] }),
    );
    jobRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ["s3:PutObject", "s3:PutObjectTagging"],
        resources: [
          props.bucket.arnForObjects("*/rounds/*/partials/*"),
          props.bucket.arnForObjects("*/rounds/*/trials/*"),
        ],
      }),
    );

    this.jobDefinition = new batch.EcsJobDefinition(this, "Evaluate", {
      container: new batch.EcsEc2ContainerDefinition(this, "Container", {
        image: ecs.ContainerImage.fromAsset(root, { file: "functions/gpu/Dockerfile", platform: Platform.LINUX_AMD64 }),
        cpu: 4,
        memory: Size.mebibytes(15_000),
        gpu: 1,
        jobRole,
        logging: ecs.LogDriver.awsLogs({
          streamPrefix: "evaluate",
          logGroup: new logs.LogGroup(this, "Logs", { retention: logs.RetentionDays.ONE_MONTH }),
        }),
      }),
      timeout: Duration.seconds(props.timeout ?? 900),
      // Spot reclaims and host failures are retried here; the handler's own errors are not
      retryAttempts: 3,
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.CANNOT_PULL_CONTAINER),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.NON_ZERO_EXIT_CODE),
      ],
    });

    NagSuppressions.addResourceSuppressions(
      this,
      [
        {
          id: "AwsSolutions-IAM4",
          reason:
            "Batch's service-linked policy and the ECS instance and task-execution roles' AWS managed " +
            "policies (pull the image, write logs) are what Batch documents for these roles.",
        },
        {
          id: "AwsSolutions-IAM5",
          reason:
            "Object-key patterns under the jobs bucket, the same as the evaluate function's; the " +
            "execution role's log-stream and image-layer actions as the ECS integration writes them.",
          appliesTo: [{ regex: "/^Resource::(<Jobs[A-Za-z0-9]+\\.Arn>\\/\\*.*|\\*)$/g" }],
        },
      ],
      true,
    );
  }

  /** What the state machine's `batch:submitJob.sync` tasks need (CDK's own integration grants these). */
  grantSubmit(role: iam.IGrantable): void {
    const stack = Stack.of(this);
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["batch:SubmitJob"],
        resources: [this.jobQueue.jobQueueArn, this.jobDefinition.jobDefinitionArn],
      }),
    );
    // DescribeJobs takes no resource-level permissions; TerminateJob (a stopped execution's jobs) does
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ["batch:DescribeJobs"], resources: ["*"] }),
    );
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["batch:TerminateJob"],
        resources: [stack.formatArn({ service: "batch", resource: "job", resourceName: "*" })],
      }),
    );
    role.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        resources: [
          stack.formatArn({
            service: "events",
            resource: "rule",
            resourceName: "StepFunctionsGetEventsForBatchJobsRule",
          }),
        ],
      }),
    );
  }
}
