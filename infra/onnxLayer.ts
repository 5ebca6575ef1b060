// The ONNX Runtime layer of the functions that evaluate: onnxruntime-node with only its Linux arm64 binary.

import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DockerImage } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { Construct } from "constructs";

const root = join(import.meta.dirname, "..");

/** The ONNX Runtime package with only the Linux arm64 binary (25 MB instead of 288 MB). */
export function onnxRuntimeLayer(scope: Construct): lambda.LayerVersion {
  const nm = join(root, "node_modules");
  return new lambda.LayerVersion(scope, "OnnxRuntime", {
    description: "onnxruntime-node with its Linux arm64 binary only",
    compatibleArchitectures: [lambda.Architecture.ARM_64],
    compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
    code: lambda.Code.fromAsset(join(nm, "onnxruntime-node"), {
      bundling: {
        // never Docker: the copy below runs on the synthesizing machine
        image: DockerImage.fromRegistry("public.ecr.aws/docker/library/busybox"),
        local: {
          tryBundle(out: string): boolean {
            const dest = join(out, "nodejs", "node_modules");
            for (const part of ["package.json", "dist", "lib"])
              cpSync(join(nm, "onnxruntime-node", part), join(dest, "onnxruntime-node", part), { recursive: true });
            mkdirSync(join(dest, "onnxruntime-node", "bin", "napi-v6", "linux"), { recursive: true });
            cpSync(
              join(nm, "onnxruntime-node", "bin", "napi-v6", "linux", "arm64"),
              join(dest, "onnxruntime-node", "bin", "napi-v6", "linux", "arm64"),
              { recursive: true },
            );
            cpSync(join(nm, "onnxruntime-common"), join(dest, "onnxruntime-common"), { recursive: true });
            return true;
          },
        },
      },
    }),
  });
}
