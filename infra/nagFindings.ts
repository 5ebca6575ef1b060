// The cdk-nag AwsSolutions findings the stack accepts, each with its reason.

import type { Stack } from "aws-cdk-lib";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { NagSuppressions } from "cdk-nag";
import type { IConstruct } from "constructs";

/** Suppresses the accepted findings on the stack, the access-log bucket, the functions and the state machine. */
export function acceptFindings(
  stack: Stack,
  accessLogs: s3.Bucket,
  functions: IConstruct[],
  stateMachine: sfn.StateMachine,
): void {
  // cdk-nag AwsSolutions findings that are accepted, each with its reason
  NagSuppressions.addStackSuppressions(stack, [
    {
      id: "AwsSolutions-IAM4",
      reason: "The functions use AWSLambdaBasicExecutionRole only to write their own CloudWatch logs.",
    },
    {
      id: "AwsSolutions-L1",
      reason:
        "The service targets the Node.js 22 Lambda runtime (the issue's platform decision); the " +
        "bundles are built for node22.",
    },
  ]);
  NagSuppressions.addResourceSuppressions(accessLogs, [
    { id: "AwsSolutions-S1", reason: "This is the access-log bucket itself; logging it into itself would loop." },
  ]);
  NagSuppressions.addResourceSuppressions(
    functions,
    [
      {
        id: "AwsSolutions-IAM5",
        reason:
          "Object-key patterns under the jobs bucket (every job has its own prefix); the actions are " +
          "named one by one, with no wildcard actions.",
        appliesTo: [{ regex: "/^Resource::<Jobs[A-Za-z0-9]+\\.Arn>\\/.*\\*.*$/g" }],
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(
    stateMachine,
    [
      {
        id: "AwsSolutions-IAM5",
        reason: "lambda:InvokeFunction on the job functions' versions and aliases (<arn>:*), as grantInvoke writes it.",
        appliesTo: [{ regex: "/^Resource::<[A-Za-z0-9]+\\.Arn>:\\*$/g" }],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The CloudWatch Logs delivery and X-Ray actions that state-machine logging and tracing " +
          "need, and batch:DescribeJobs (the GPU option's .sync tasks), support no resource-level " +
          "permissions.",
        appliesTo: ["Resource::*"],
      },
      {
        id: "AwsSolutions-IAM5",
        reason: "batch:TerminateJob on this account's Batch jobs: the GPU branch's job ids are generated at run time.",
        appliesTo: [{ regex: "/^Resource::arn:<AWS::Partition>:batch:<AWS::Region>:<AWS::AccountId>:job\\/\\*$/g" }],
      },
      {
        id: "AwsSolutions-IAM5",
        reason:
          "The Distributed Map's child executions of this machine: their names are generated, so " +
          "only the machine-name prefix is known.",
        appliesTo: [
          { regex: "/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*\\/\\*$/g" },
        ],
      },
    ],
    true,
  );
}
