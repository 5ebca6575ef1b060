// Crash consistency of the directory store: every overwrite path (put over an object, put of a new
// object, putIfMatch over an object) is failed at each of its file-system steps, in two ways: the
// step fails with ENOSPC and the store goes on (its error path runs), or the process dies at that
// step (nothing after it happens, the error path included). Afterwards a fresh store must read the
// object with its old value or its new one, never neither; after a failure no temporary file may
// be left and the write must succeed when retried. The faults are injected into Node's
// fs/promises, below the store: each mutating call (open for writing, write, fsync, rename, rm,
// mkdir) is one step.

import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

const faults = vi.hoisted(() => ({ at: -1, steps: 0, mode: "error" as "error" | "crash", dead: false }));

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  const enospc = (what: string) =>
    Object.assign(new Error(`ENOSPC: no space left on device, ${what}`), { code: "ENOSPC" });
  const step = (what: string) => {
    if (faults.dead) throw Object.assign(new Error(`the process died before ${what}`), { code: "EDEAD" });
    if (faults.steps++ === faults.at) {
      if (faults.mode === "crash") faults.dead = true;
      throw enospc(what);
    }
  };
  const reading = (what: string) => {
    if (faults.dead) throw Object.assign(new Error(`the process died before ${what}`), { code: "EDEAD" });
  };
  const mutating =
    <A extends unknown[], R>(name: string, f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      step(name);
      return f(...a);
    };
  const handle = (h: import("node:fs/promises").FileHandle) =>
    new Proxy(h, {
      get(target, prop) {
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "writeFile" || prop === "write" || prop === "sync" || prop === "datasync")
          return mutating(`handle.${prop}`, value.bind(target));
        return value.bind(target);
      },
    });
  return {
    ...real,
    default: real,
    async open(path: string, flags?: string | number, mode?: number) {
      if (typeof flags === "string" && /[wa+]/.test(flags)) step(`open ${flags}`);
      else reading("open");
      return handle(await real.open(path, flags, mode));
    },
    writeFile: mutating("writeFile", real.writeFile),
    appendFile: mutating("appendFile", real.appendFile),
    rename: mutating("rename", real.rename),
    rm: mutating("rm", real.rm),
    unlink: mutating("unlink", real.unlink),
    mkdir: mutating("mkdir", real.mkdir),
    readFile: async (...a: Parameters<typeof real.readFile>) => {
      reading("readFile");
      return real.readFile(...a);
    },
    stat: async (...a: Parameters<typeof real.stat>) => {
      reading("stat");
      return real.stat(...a);
    },
  };
});

const { localStore } = await import("../../shared/store/localStore.ts");
const { NotFoundError } = await import("../../shared/store/blobStore.ts");

const OLD = new TextEncoder().encode(JSON.stringify({ champion: 1, note: "the old value" }));
const NEW = new TextEncoder().encode(JSON.stringify({ champion: 2, note: "the new value, longer than the old one" }));
const KEY = "models/dm.json";

type Scenario = { name: string; old: boolean; write: (s: ReturnType<typeof localStore>) => Promise<unknown> };
const scenarios: Scenario[] = [
  { name: "put over an object", old: true, write: (s) => s.put(KEY, NEW) },
  { name: "put of a new object", old: false, write: (s) => s.put(KEY, NEW) },
  {
    name: "putIfMatch over an object",
    old: true,
    write: async (s) => {
      if ((await s.putIfMatch(KEY, NEW, (await s.getVersioned(KEY))!.version)) === null)
        throw new Error("lost the race");
    },
  },
];

function fresh(): string {
  faults.at = -1;
  faults.dead = false;
  return mkdtempSync(join(tmpdir(), "store-faults-"));
}

async function value(dir: string): Promise<string> {
  faults.at = -1;
  faults.dead = false;
  try {
    return new TextDecoder().decode(await localStore(dir).get(KEY));
  } catch (e) {
    if (e instanceof NotFoundError) return "absent";
    return `unreadable: ${(e as Error).message}`;
  }
}

const leftovers = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.split("/").pop()!.startsWith(".tmp-"));

describe("the directory store under faults at every step of a write", () => {
  for (const sc of scenarios) {
    it(`${sc.name}: old or new after a failure or a crash at any step`, async () => {
      // count the steps of an undisturbed write
      const probe = fresh();
      if (sc.old) await localStore(probe).put(KEY, OLD);
      faults.steps = 0;
      await sc.write(localStore(probe));
      const total = faults.steps;
      expect(total).toBeGreaterThan(2);
      const allowed = [sc.old ? new TextDecoder().decode(OLD) : "absent", new TextDecoder().decode(NEW)];
      const seen = new Set<string>();
      for (const mode of ["error", "crash"] as const) {
        for (let at = 0; at < total; at++) {
          const dir = fresh();
          if (sc.old) await localStore(dir).put(KEY, OLD);
          faults.steps = 0;
          faults.at = at;
          faults.mode = mode;
          const failed = await sc.write(localStore(dir)).then(
            () => false,
            () => true,
          );
          const v = await value(dir);
          expect(allowed, `${mode} at step ${at} of ${total}: ${v}`).toContain(v);
          // a write that reports success has written (a fault in its lock's release is retried)
          if (!failed) expect(v).toBe(allowed[1]);
          seen.add(v);
          if (mode === "error") {
            expect(leftovers(dir), `${mode} at step ${at}: temporary files left`).toEqual([]);
            await sc.write(localStore(dir));
            expect(await value(dir)).toBe(allowed[1]);
          }
        }
      }
      // the faults hit both sides of the switch
      expect([...seen].sort()).toEqual([...allowed].sort());
    });
  }

  it("a full disk is a StoreFullError naming the key, and the object keeps its value", async () => {
    const dir = fresh();
    await localStore(dir).put(KEY, OLD);
    faults.steps = 0;
    faults.at = 0;
    faults.mode = "error";
    await expect(localStore(dir).put(KEY, NEW)).rejects.toMatchObject({
      name: "StoreFullError",
      message: expect.stringContaining(KEY),
    });
    expect(await value(dir)).toBe(new TextDecoder().decode(OLD));
    expect(existsSync(join(dir, "models"))).toBe(true);
  });
});
