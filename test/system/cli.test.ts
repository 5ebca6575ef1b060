// The `enkf` command as a user runs it: a real process, real files.
import { runCli, spawnCli } from "../support/cli.ts";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeNpyFloat64 } from "../../shared/formats/npy.ts";

const root = join(import.meta.dirname, "..", "..");
const tmp = mkdtempSync(join(tmpdir(), "enkf-cli-"));

const enkf = (...args: string[]) => runCli(args, { cwd: tmp });

function jobFile(name: string, spec: unknown): string {
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, typeof spec === "string" ? spec : JSON.stringify(spec));
  return p;
}

const good = {
  name: "quad-small",
  problem: { type: "quadratic", dimension: 40, condition: 30, seed: 1 },
  optimizer: { method: "modified-enkf", ensembleSize: 10, sigma: 0.01, seed: 0 },
  stop: { maxIterations: 60 },
};

describe("enkf <command> --help", () => {
  it("prints that command's own usage on stdout and exits 0, with no error first", () => {
    for (const command of ["run", "resume", "plan", "watch", "report", "data", "serve", "schema"]) {
      const r = enkf(command, "--help");
      expect([r.code, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toMatch(new RegExp(`^usage: enkf ${command}\\b`));
      // its own part only, not the whole list of commands
      expect(r.stdout.match(/^usage:/gm)).toHaveLength(1);
      expect(r.stdout).not.toContain("commands:");
    }
    expect(enkf("run", "-h").stdout).toMatch(/^usage: enkf run <job\.json>/);
  });
});

describe("enkf run", () => {
  it("writes result.json, theta.npy, history.csv and spec.json", () => {
    const out = join(tmp, "run-a");
    const r = enkf("run", jobFile("good", good), "--out", out);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^max_iterations: /);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(result).toMatchObject({ name: "quad-small", status: "max_iterations", iterations: 60 });
    // Φ at the start is member 0 of iteration 0's statistics: no evaluation of its own
    expect(result.evaluations).toBe(
      result.history.reduce((s: number, h: { evaluations: number }) => s + h.evaluations, 0),
    );
    expect(result.metrics.relativeDistance).toBeLessThan(1);
    expect(result.history).toHaveLength(60);
    expect(Object.keys(result.history[0])).toEqual(
      expect.arrayContaining(["objective", "sigma", "gamma", "step", "accepted", "seconds"]),
    );
    const csv = readFileSync(join(out, "history.csv"), "utf8").trim().split("\n");
    expect(csv).toHaveLength(61);
    expect(csv[0].split(",")).toEqual(
      expect.arrayContaining(["iteration", "objective", "sigma", "gamma", "step", "accepted", "seconds"]),
    );
    const theta = decodeNpyFloat64(readFileSync(join(out, "theta.npy")));
    expect(theta).toHaveLength(40);
    expect(theta.every(Number.isFinite)).toBe(true);
  });

  it(
    "is deterministic: the same spec and seed give a bitwise-identical theta.npy, another seed " + "a different one",
    () => {
      const a = join(tmp, "det-a"),
        b = join(tmp, "det-b"),
        c = join(tmp, "det-c");
      expect(enkf("run", jobFile("det", good), "--out", a, "--quiet").code).toBe(0);
      expect(enkf("run", jobFile("det", good), "--out", b, "--quiet").code).toBe(0);
      expect(
        enkf("run", jobFile("det2", { ...good, optimizer: { ...good.optimizer, seed: 1 } }), "--out", c, "--quiet")
          .code,
      ).toBe(0);
      const ta = readFileSync(join(a, "theta.npy")),
        tb = readFileSync(join(b, "theta.npy")),
        tc = readFileSync(join(c, "theta.npy"));
      expect(Buffer.compare(ta, tb)).toBe(0);
      expect(Buffer.compare(ta, tc)).not.toBe(0);
    },
  );

  const numpy = spawnSync("python3", ["-c", "import numpy"]).status === 0;
  it.runIf(numpy)("writes a theta.npy that numpy.load reads as float64", () => {
    const out = join(tmp, "run-a");
    const ours = decodeNpyFloat64(readFileSync(join(out, "theta.npy")));
    const py = spawnSync(
      "python3",
      [
        "-c",
        `import numpy as np, json; t = np.load(${JSON.stringify(join(out, "theta.npy"))}); ` +
          `print(json.dumps([str(t.dtype), list(t.shape), [float(v) for v in t]]))`,
      ],
      { encoding: "utf8" },
    );
    const [dtype, shape, values] = JSON.parse(py.stdout);
    expect(dtype).toBe("float64");
    expect(shape).toEqual([40]);
    expect(values).toEqual(Array.from(ours));
  });

  it("refuses to overwrite a finished run unless --force", () => {
    const out = join(tmp, "run-a");
    const r = enkf("run", jobFile("good", good), "--out", out, "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds a run/);
    expect(enkf("run", jobFile("good", good), "--out", out, "--quiet", "--force").code).toBe(0);
  });

  it("prints plain progress lines when stderr is not a TTY", () => {
    const r = enkf("run", jobFile("good", good), "--out", join(tmp, "progress"));
    expect(r.stderr).toMatch(/^iter 1\/60 +objective [\d.e+-]+ +sigma 1\.000e-2 .*eta/m);
    expect(r.stderr).not.toMatch(/\r/);
  });

  it("a runtime failure exits 1 with a one-line cause and keeps what was done", () => {
    const bad = {
      name: "ekireg",
      problem: { type: "quadratic", dimension: 10, regularization: 1 },
      optimizer: { method: "enkf", ensembleSize: 4 },
    };
    const out = join(tmp, "fail");
    const r = enkf("run", jobFile("ekireg", bad), "--out", out, "--quiet");
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^enkf: run failed: method "enkf" does not support problem.regularization/);
    expect(JSON.parse(readFileSync(join(out, "result.json"), "utf8")).status).toBe("failed");
  });
});

describe("interrupting and impossible jobs", () => {
  it("Ctrl-C (SIGINT) stops after the current iteration, writes everything and exits 130", async () => {
    const slow = {
      name: "slow",
      problem: { type: "quadratic", dimension: 20000, condition: 1000, spectrum: "geometric" },
      optimizer: { method: "modified-enkf", ensembleSize: 40 },
      stop: { maxIterations: 100000 },
    };
    const out = join(tmp, "interrupted");
    const child = spawnCli(["run", jobFile("slow", slow), "--out", out], { cwd: tmp });
    let stderr = "";
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (!sent && /^iter /m.test(stderr)) {
          // an impatient user: Ctrl-C twice, the second while the run is winding down
          sent = true;
          child.kill("SIGINT");
          setTimeout(() => child.kill("SIGINT"), 5);
        }
      });
      child.on("close", resolve);
    });
    expect(code).toBe(130);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8"));
    expect(result.status).toBe("cancelled");
    expect(result.iterations).toBeGreaterThan(0);
    expect(result.iterations).toBeLessThan(100000);
    expect(decodeNpyFloat64(readFileSync(join(out, "theta.npy")))).toHaveLength(20000);
    expect(readFileSync(join(out, "history.csv"), "utf8").trim().split("\n")).toHaveLength(result.iterations + 1);
  });

  it("a job whose ensemble cannot fit in memory is refused up front with a message saying what to reduce", () => {
    const huge = {
      name: "huge",
      problem: { type: "quadratic", dimension: 1_000_000 },
      optimizer: { method: "modified-enkf", ensembleSize: 2000 },
    };
    const r = enkf("run", jobFile("huge", huge), "--out", join(tmp, "huge"), "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /optimizer\.ensembleSize: 1,000,000 parameters × 2001 members is \d+ MiB of member weights/,
    );
    expect(r.stderr).toMatch(/of member weights.*lower K or the model's size/);
  });

  it("an output path that cannot be created is a one-line error naming it", () => {
    const file = jobFile("plain", good);
    const r = enkf("run", file, "--out", join(file, "sub"), "--quiet");
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`enkf: cannot write ${join(file, "sub", "spec.json")}: a parent is not a directory`);
  });
});

describe("bad input exits 2 and names the offending field", () => {
  const withOpt = (o: object) => ({ ...good, optimizer: { ...good.optimizer, ...o } });
  const cases: [string, unknown, RegExp][] = [
    ["ensemble size 0", withOpt({ ensembleSize: 0 }), /optimizer\.ensembleSize: /],
    ["ensemble size 1", withOpt({ ensembleSize: 1 }), /optimizer\.ensembleSize: .*>=2/],
    ["unknown method", withOpt({ method: "adam" }), /optimizer\.method: /],
    [
      "ensemble size as a string",
      withOpt({ ensembleSize: "25" }),
      /optimizer\.ensembleSize: .*expected number, received string/,
    ],
    ["negative sigma", withOpt({ sigma: -0.1 }), /optimizer\.sigma: .*>0/],
    ["NaN sigma (as JSON can spell it)", withOpt({ sigma: "NaN" }), /optimizer\.sigma: expected a positive number/],
    [
      "sigma schedule with negative initial",
      withOpt({ sigma: { schedule: "geometric", initial: -1 } }),
      /optimizer\.sigma\.initial: /,
    ],
    ["unknown sigma schedule", withOpt({ sigma: { schedule: "cosine", initial: 1 } }), /optimizer\.sigma\.schedule: /],
    ["missing problem", { name: "x", optimizer: good.optimizer }, /problem: /],
    ["unknown problem type", { ...good, problem: { type: "sphere" } }, /problem\.type: /],
    ["unknown top-level key", { ...good, iterations: 5 }, /iterations: unknown key/],
    ["unknown nested key", withOpt({ learningRate: 0.1 }), /optimizer\.learningRate: unknown key/],
    ["zero iterations", { ...good, stop: { maxIterations: 0 } }, /stop\.maxIterations: /],
    ["bad name", { ...good, name: "has space" }, /name: /],
    ["key of another method", withOpt({ method: "enkf", lineSearch: true }), /optimizer\.lineSearch: unknown key/],
  ];
  it.each(cases)("%s", (label, spec, pattern) => {
    const r = enkf("run", jobFile(label.replace(/\W+/g, "-"), spec), "--out", join(tmp, "never"));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^enkf: invalid job spec /);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(tmp, "never"))).toBe(false);
  });

  it("lists every problem, not just the first", () => {
    const r = enkf(
      "run",
      jobFile("many", {
        ...good,
        optimizer: { ...good.optimizer, ensembleSize: 1, sigma: -1 },
        stop: { maxIterations: -3 },
      }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/optimizer\.ensembleSize/);
    expect(r.stderr).toMatch(/optimizer\.sigma/);
    expect(r.stderr).toMatch(/stop\.maxIterations/);
  });

  it("malformed JSON names line and column", () => {
    const r = enkf("run", jobFile("malformed", '{\n  "name": "x",\n  "problem": { "type": "quadratic" ,, }\n}'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/malformed JSON at line 3, column \d+/);
  });

  it("an unreadable file names the file", () => {
    const missing = join(tmp, "does-not-exist.json");
    const r = enkf("run", missing);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cannot read job file ${missing}: no such file`);
    const dir = join(tmp, "a-directory.json");
    mkdirSync(dir, { recursive: true });
    expect(enkf("run", dir).stderr).toMatch(/it is a directory/);
  });

  it("usage mistakes exit 2", () => {
    expect(enkf().code).toBe(2);
    expect(enkf("frobnicate").stderr).toMatch(/unknown command "frobnicate"/);
    expect(enkf("run").code).toBe(2);
    expect(enkf("run", "a.json", "--bogus").code).toBe(2);
  });
});

describe("compute.backend", () => {
  it("rejects a fast kernel where it does not apply, naming why", () => {
    const quadOnnx = { ...good, compute: { backend: "onnx" } };
    let r = enkf("run", jobFile("quad-onnx", quadOnnx), "--out", join(tmp, "quad-onnx"), "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/compute\.backend "onnx" needs a classification or regression problem/);
    const ekiWasm = { ...good, optimizer: { method: "enkf", ensembleSize: 4 }, compute: { backend: "wasm" } };
    r = enkf("run", jobFile("eki-wasm", ekiWasm), "--out", join(tmp, "eki-wasm"), "--quiet");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/serves the modified EnKF/);
  });

  it.each([
    ["auto", "onnx"],
    ["wasm", "wasm"],
    ["gpu", "gpu"],
    ["reference", "reference"],
  ])("backend %s runs a network job on the %s kernel", (backend, used) => {
    const dir = join(tmp, `backend-${backend}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "d.csv"),
      "a,b,y\n" + Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2}`).join("\n") + "\n",
    );
    const job = {
      name: "tiny",
      problem: {
        type: "classification",
        data: { source: "csv", path: "d.csv", label: "y" },
        model: { type: "mlp", hidden: [4] },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 6 },
      stop: { maxIterations: 3 },
      compute: { backend },
    };
    writeFileSync(join(dir, "job.json"), JSON.stringify(job));
    const r = enkf("run", join(dir, "job.json"), "--out", join(dir, "out"), "--quiet");
    expect(r.code, r.stderr).toBe(0);
    // the gpu kernel appends the gpu.js backend it found ("gpu:webasm" on a machine without WebGL)
    const ran: string = JSON.parse(readFileSync(join(dir, "out", "result.json"), "utf8")).environment.backend;
    expect(ran.split(":")[0]).toBe(used);
    // classification records θ's accuracy on each iteration's batch
    const [header, first] = readFileSync(join(dir, "out", "history.csv"), "utf8").split("\n");
    const acc = Number(first.split(",")[header.split(",").indexOf("batchAccuracy")]);
    expect(acc).toBeGreaterThanOrEqual(0);
    expect(acc).toBeLessThanOrEqual(1);
    // off a GPU, the gpu kernel says in one line that it runs a CPU fallback
    if (/^gpu:(webasm|cpu)$/.test(ran))
      expect(r.stderr).toMatch(/gpu\.js found no WebGL context.*(webasm|cpu) fallback/);
    if (backend === "gpu") expect(ran).toMatch(/^gpu:(headlessgl|webgl2?|webasm|cpu)$/);
  });
});

describe("enkf run through the state machine", () => {
  it("runs a job with compute.shards locally and writes the result into the output directory", () => {
    const dir = join(tmp, "sharded");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "d.csv"),
      "a,b,y\n" + Array.from({ length: 60 }, (_, i) => `${i % 7},${(i * 3) % 5},${i % 2}`).join("\n") + "\n",
    );
    const job = {
      name: "tiny-sharded",
      problem: {
        type: "classification",
        data: { source: "csv", path: "d.csv", label: "y" },
        model: { type: "mlp", hidden: [4] },
      },
      optimizer: { method: "modified-enkf", ensembleSize: 6 },
      stop: { maxIterations: 4 },
      compute: { backend: "reference", shards: 3 },
    };
    writeFileSync(join(dir, "job.json"), JSON.stringify(job));
    const r = enkf("run", join(dir, "job.json"), "--out", join(dir, "out"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/iterations 4, .*3 shards/);
    const result = JSON.parse(readFileSync(join(dir, "out", "result.json"), "utf8"));
    expect(result.environment.engine).toBe("workflow");
    expect(result.iterations).toBe(4);
    expect(
      readFileSync(join(dir, "out", "theta.npy"))
        .subarray(1, 6)
        .toString(),
    ).toBe("NUMPY");
    // a second run into the same directory is refused
    expect(enkf("run", join(dir, "job.json"), "--out", join(dir, "out"), "--quiet").code).toBe(2);
  });

  it("refuses shards for a problem the state machine does not run", () => {
    const r = enkf(
      "run",
      jobFile("quad-sharded", { ...good, compute: { shards: 2 } }),
      "--out",
      join(tmp, "quad-sharded"),
      "--quiet",
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /state machine, which runs the modified EnKF on networks, and the ensemble methods on inverse problems/,
    );
  });
});

describe("enkf schema", () => {
  it("prints the job spec as JSON Schema", () => {
    const r = enkf("schema");
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.required).toEqual(expect.arrayContaining(["name", "problem", "optimizer"]));
    expect(schema.additionalProperties).toBe(false);
    const methods = JSON.stringify(schema.properties.optimizer);
    for (const m of ["modified-enkf", "enkf", "eks", "gradient-descent"]) expect(methods).toContain(`"${m}"`);
  });
});

describe("the smaller things a new user hits", () => {
  it("enkf run --store DIR --out OUT runs through the state machine and copies the results to OUT", () => {
    const file = join(root, "examples", "half-moons.json");
    const spec = JSON.parse(readFileSync(file, "utf8"));
    const job = jobFile("moons-store", {
      ...spec,
      problem: {
        ...spec.problem,
        data: { ...spec.problem.data, path: join(root, "examples", spec.problem.data.path) },
      },
      stop: { maxIterations: 20 },
    });
    const r = enkf("run", job, "--store", join(tmp, "moons-store"), "--out", join(tmp, "moons-out"));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/copied result\.json, theta\.npy, .*model\.json.* to /);
    for (const f of ["result.json", "theta.npy", "history.csv", "model.json"]) {
      expect(readFileSync(join(tmp, "moons-out", f))).toEqual(readFileSync(join(tmp, "moons-store", f)));
    }
  });

  it("enkf plan on a built-in problem says where it runs instead, and exits 0", () => {
    const r = enkf("plan", join(root, "examples", "rosenbrock.json"));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /problem "rosenbrock" is built in .* runs in process on this machine, usually in seconds: /,
    );
    expect(r.stdout).toMatch(/usually in seconds: enkf run .*rosenbrock\.json/);
    expect(r.stdout).toMatch(/nothing to estimate on AWS/);
  });
});
