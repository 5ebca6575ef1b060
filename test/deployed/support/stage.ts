// One deployed-artifacts environment: the synthesized functions laid out as the runtime sees them
// (layout.ts) behind a Lambda Invoke endpoint (lambdaEndpoint.ts), the synthesized state machine
// behind a Step Functions stand-in (sfnStandIn.ts), EventBridge Scheduler's stand-in, and the
// test S3 server as the jobs bucket: all on one loopback port but S3's. The functions reach them
// through the SDK's service endpoints (AWS_ENDPOINT_URL_*), as they would reach AWS; this process
// does too, for aws-local-stepfunctions' Lambda client.

import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { startS3Server, type S3Server } from "../../support/s3server.ts";
import { LambdaEndpoint, type HostedFunction, type Invocation } from "./lambdaEndpoint.ts";
import { layOut, type LaidOut } from "./layout.ts";
import { SchedulerStandIn } from "./schedulerStandIn.ts";
import { SfnStandIn } from "./sfnStandIn.ts";
import { FAILING_FORWARD_ARN, FORWARD_ARN } from "./jobs.ts";
import { readTemplate, REGION, type Template } from "./template.ts";

export interface StageOptions {
  /** the folder globalSetup.ts made: cdk.out/ and forward/ */
  root: string;
  /** added to executions' input (e.g. { rolloverEvery: 2 }) */
  inputDefaults?: () => Record<string, unknown>;
  /** execution environments per function at a time */
  concurrency?: number;
  /** the runtime's AWS SDK on NODE_PATH (layout.ts) */
  runtimeSdk?: boolean;
}

export interface ApiAnswer {
  status: number;
  headers: Record<string, string>;
  /** the parsed JSON body, or null */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read fields freely
  bytes: Buffer;
}

export interface Stage {
  template: Template;
  functions: LaidOut[];
  lambda: LambdaEndpoint;
  sfn: SfnStandIn;
  scheduler: SchedulerStandIn;
  s3: S3Server;
  /** invokes a function of the app by its role ("api", "outcome", …) through the Invoke API */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  invoke(role: string, event: unknown): Promise<Invocation & { value: any }>;
  /** one HTTP request to the `api` function as API Gateway's HTTP API (payload 2.0) delivers it */
  api(method: string, path: string, body?: { json?: unknown; csv?: string }, query?: string): Promise<ApiAnswer>;
  close(): Promise<void>;
}

export async function startStage(opts: StageOptions): Promise<Stage> {
  const s3 = await startS3Server();
  const template = readTemplate(join(opts.root, "cdk.out"), "EnkfService", s3.bucket);
  const dir = mkdtempSync(join(opts.root, "stage-"));
  mkdirSync(join(dir, "logs"));
  const functions = layOut(template.functions, join(dir, "fns"), { runtimeSdk: opts.runtimeSdk });
  let server: Server | undefined;
  const port = await new Promise<number>((resolve) => {
    server = createServer().listen(0, "127.0.0.1", () => resolve((server!.address() as { port: number }).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = {
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
  const environment: Record<string, string> = {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    ...credentials,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    AWS_ENDPOINT_URL_SFN: endpoint,
    AWS_ENDPOINT_URL_SCHEDULER: endpoint,
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    // the test S3 server stores aws-chunked bodies as sent (NOTES.md); real S3 needs no such setting
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
  };
  Object.assign(process.env, environment);

  const hosted = (l: LaidOut): HostedFunction => ({
    name: l.fn.id,
    arn: l.fn.arn,
    taskRoot: l.taskRoot,
    handler: l.fn.handler,
    nodePath: l.nodePath,
    memory: l.fn.memory,
    timeout: l.fn.timeout,
    environment: l.fn.environment,
  });
  const forward = (arn: string, env: Record<string, string>): HostedFunction => ({
    name: arn.split(":").pop()!,
    arn,
    taskRoot: join(opts.root, "forward"),
    handler: "index.handler",
    nodePath: [],
    memory: 512,
    timeout: 30,
    environment: env,
  });
  const lambda = new LambdaEndpoint({
    functions: [
      ...functions.map(hosted),
      forward(FORWARD_ARN, {}),
      forward(FAILING_FORWARD_ARN, { FORWARD_FAIL: "1" }),
    ],
    environment,
    concurrency: opts.concurrency ?? 3,
    logDir: join(dir, "logs"),
  });
  const sfn = new SfnStandIn({
    stateMachineArn: template.stateMachineArn,
    definition: template.definition,
    inputDefaults: opts.inputDefaults,
  });
  const scheduler = new SchedulerStandIn((arn, name, input) => {
    if (arn !== template.stateMachineArn) throw new Error(`the schedule targets ${arn}, not the state machine`);
    return sfn.start(name, input);
  });
  server!.on("request", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (lambda.handle(req, res, body) || sfn.handle(req, res, body) || scheduler.handle(req, res, body)) return;
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: `no stand-in answers ${req.method} ${req.url}` }));
    });
  });

  const client = new LambdaClient({});
  const byRole = (role: string) => {
    const f = template.functions.find((x) => x.role === role);
    if (!f) throw new Error(`no function "${role}" in the template`);
    return f;
  };
  const invoke: Stage["invoke"] = async (role, event) => {
    const r = await client.send(
      new InvokeCommand({ FunctionName: byRole(role).arn, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const payload = Buffer.from(r.Payload ?? new Uint8Array()).toString("utf8");
    return { payload, functionError: r.FunctionError, value: payload ? JSON.parse(payload) : null };
  };
  const api: Stage["api"] = async (method, path, body, query = "") => {
    const text = body?.json !== undefined ? JSON.stringify(body.json) : body?.csv;
    const now = new Date();
    const event = {
      version: "2.0",
      routeKey: "$default",
      rawPath: path,
      rawQueryString: query,
      cookies: [],
      headers: {
        host: "api.example.com",
        "user-agent": "deployed-stage",
        ...(text === undefined ? {} : { "content-type": body?.json !== undefined ? "application/json" : "text/csv" }),
      },
      requestContext: {
        accountId: "000000000000",
        apiId: "stage",
        domainName: "api.example.com",
        domainPrefix: "api",
        requestId: crypto.randomUUID(),
        routeKey: "$default",
        stage: "$default",
        time: now.toUTCString(),
        timeEpoch: now.getTime(),
        http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "deployed-stage" },
      },
      ...(text === undefined ? {} : { body: Buffer.from(text).toString("base64"), isBase64Encoded: true }),
    };
    const r = await invoke("api", event);
    if (r.functionError)
      throw new Error(`the api function failed: ${r.payload}\n${lambda.log(byRole("api").id).slice(-4000)}`);
    const res = r.value as {
      statusCode: number;
      headers: Record<string, string>;
      body: string;
      isBase64Encoded: boolean;
    };
    const bytes = Buffer.from(res.body ?? "", res.isBase64Encoded ? "base64" : "utf8");
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(bytes.toString("utf8"));
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, headers: res.headers ?? {}, body: parsed, bytes };
  };

  return {
    template,
    functions,
    lambda,
    sfn,
    scheduler,
    s3,
    invoke,
    api,
    async close() {
      await Promise.race([sfn.settle(), new Promise((r) => setTimeout(r, 5_000))]);
      lambda.close();
      await new Promise((r) => server!.close(r));
      await s3.stop();
    },
  };
}
