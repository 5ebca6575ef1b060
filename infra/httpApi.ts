// The HTTP API (API Gateway v2): one router Lambda function (functions/api.ts) behind IAM (SigV4)
// authorization, or a JWT authorizer when an issuer is given; GET /openapi.json is public. The
// schedules the API creates live in their own EventBridge Scheduler group and start the state
// machine through a role that may do only that; schedules declared here (deploy time) use the
// same group, role and Launch input.

import { ENV } from "../shared/config.ts";
import { ArnFormat, Duration, RemovalPolicy, Stack } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer, HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as s3 from "aws-cdk-lib/aws-s3";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import * as targets from "aws-cdk-lib/aws-scheduler-targets";
import type * as sfn from "aws-cdk-lib/aws-stepfunctions";
import { NagSuppressions } from "cdk-nag";
import { Construct } from "constructs";
import { JobSpec } from "../shared/spec/job.ts";
import { parseSchedule } from "../shared/schedule/expression.ts";

export interface DeclaredSchedule {
  name: string;
  expression: string;
  /** the job spec each firing runs (validated at synth) */
  template: unknown;
}

export interface HttpApiProps {
  bucket: s3.IBucket;
  stateMachine: sfn.IStateMachine;
  stateMachineName: string;
  /** the router function (functions/api.ts) */
  router: lambda.Function;
  /** a JWT authorizer instead of IAM: the issuer URL and the accepted audiences */
  jwt?: { issuer: string; audience: string[] };
  /** schedules declared in the app (the API creates more at run time) */
  schedules?: DeclaredSchedule[];
}

export class EnkfHttpApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const authorizer = props.jwt
      ? new HttpJwtAuthorizer("Jwt", props.jwt.issuer, { jwtAudience: props.jwt.audience })
      : new HttpIamAuthorizer();
    this.api = new apigw.HttpApi(this, "Api", {
      description: "enkf-service: jobs, datasets and schedules",
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    const integration = new HttpLambdaIntegration("Router", props.router, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
    });
    this.api.addRoutes({ path: "/{proxy+}", methods: [apigw.HttpMethod.ANY], integration });
    this.api.addRoutes({
      path: "/openapi.json",
      methods: [apigw.HttpMethod.GET],
      integration,
      authorizer: new apigw.HttpNoneAuthorizer(),
    });
    const accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new apigw.HttpStage(this, "Stage", {
      httpApi: this.api,
      stageName: "$default",
      autoDeploy: true,
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
      throttle: { rateLimit: 50, burstLimit: 100 },
    });

    // schedules: a group of their own, and a role that may only start this state machine
    this.scheduleGroup = new scheduler.ScheduleGroup(this, "Schedules", {
      scheduleGroupName: `${stack.stackName}-schedules`,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.schedulerRole = new iam.Role(this, "SchedulerRole", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
      description: "EventBridge Scheduler starts the enkf state machine for a schedule's firing",
    });
    props.stateMachine.grantStartExecution(this.schedulerRole);
    for (const s of props.schedules ?? []) {
      parseSchedule(s.expression, false);
      const template = JobSpec.parse(s.template);
      new scheduler.Schedule(this, `Declared-${s.name}`, {
        scheduleGroup: this.scheduleGroup,
        schedule: scheduler.ScheduleExpression.expression(s.expression, undefined),
        description: `enkf schedule ${s.name} (declared in the CDK app)`,
        target: new targets.StepFunctionsStartExecution(props.stateMachine, {
          role: this.schedulerRole,
          input: scheduler.ScheduleTargetInput.fromObject({
            launch: { name: s.name, template, at: scheduler.ContextAttribute.scheduledTime },
          }),
          retryAttempts: 10,
          maxEventAge: Duration.hours(1),
        }),
      });
    }

    // the router: reads and writes the service's objects, starts, lists and stops executions,
    // and manages the schedules of its group
    const r = props.router;
    r.addEnvironment(ENV.bucket, props.bucket.bucketName);
    r.addEnvironment(ENV.stateMachineArn, props.stateMachine.stateMachineArn);
    r.addEnvironment(ENV.scheduleGroup, this.scheduleGroup.scheduleGroupName);
    r.addEnvironment(ENV.schedulerRoleArn, this.schedulerRole.roleArn);
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      r.addToRolePolicy(new iam.PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
    allow(["s3:GetObject"], [props.bucket.arnForObjects("*")]);
    allow(["s3:ListBucket"], [props.bucket.bucketArn]);
    allow(
      ["s3:PutObject"],
      [
        "jobs/*",
        "index/*",
        "datasets/*",
        "dataset-index/*",
        "dataset-names/*",
        "schedules/*",
        "schedule-firings/*",
        "models/*",
        "blobs/*",
      ].map((p) => props.bucket.arnForObjects(p)),
    );
    // a submission or an upload that fails removes what it wrote; a deleted schedule goes
    allow(
      ["s3:DeleteObject"],
      ["jobs/*", "index/*", "datasets/*", "dataset-index/*", "schedules/*"].map((p) => props.bucket.arnForObjects(p)),
    );
    allow(["s3:DeleteObject"], [props.bucket.arnForObjects("schedules/*")]);
    allow(["states:StartExecution", "states:ListExecutions"], [props.stateMachine.stateMachineArn]);
    allow(
      ["states:StopExecution"],
      [
        stack.formatArn({
          service: "states",
          resource: "execution",
          resourceName: `${props.stateMachineName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    );
    allow(
      ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
      [
        stack.formatArn({
          service: "scheduler",
          resource: "schedule",
          resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
        }),
      ],
    );
    allow(["iam:PassRole"], [this.schedulerRole.roleArn], {
      StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" },
    });

    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: "AwsSolutions-APIG4",
          reason:
            "GET /openapi.json is the API's public description (no data); every other route requires " +
            "IAM or JWT authorization.",
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(
      r,
      [
        {
          id: "AwsSolutions-IAM5",
          reason:
            "Object-key prefixes under the jobs bucket (jobs, index, datasets, schedules), executions " +
            "of this state machine (their names are job ids), and schedules of this service's group; " +
            "every action is named.",
          appliesTo: [
            {
              regex: [
                "/^Resource::(<Jobs[A-Za-z0-9]+\\.Arn>\\/.*\\*",
                "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*:\\*",
                "arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule\\/.*\\/\\*)$/g",
              ].join("|"),
            },
          ],
        },
      ],
      true,
    );
  }
}
