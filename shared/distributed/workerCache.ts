// What a worker keeps between the tasks it runs, in one bounded cache that whoever builds the
// workflow's handlers injects (a Lambda function's module, the local engine's worker): decoded
// shards, a job's whole dataset, an inverse job's problem (its forward probed once), and warm
// ensemble kernels, whose ONNX sessions cost more to build than a small round costs to evaluate.
// Values are shared by key (get); a kernel is leased (lease): one task uses it at a time, and it
// goes back to the cache when released. Past `limit` entries the least recently used idle one is
// dropped (and disposed). A lease for a job drops the idle kernels of other jobs: a worker keeps
// the kernels of the job it works for.

export interface Lease<T> {
  value: T;
  /** hands the value back for the next task (or disposes it, when the cache dropped it meanwhile) */
  release(): Promise<void>;
}

interface Entry {
  key: string;
  value: Promise<unknown>;
  dispose?: (v: unknown) => Promise<void>;
  /** leased values: their job, and whether a task holds them */
  group?: string;
  busy: boolean;
  dropped: boolean;
}

export class WorkerCache {
  private entries: Entry[] = [];

  constructor(private readonly limit = 12) {}

  /** The value under `key`, made once (a failed make is not kept). */
  get<T>(key: string, make: () => Promise<T>): Promise<T> {
    const hit = this.entries.find((e) => e.key === key && e.group === undefined);
    if (hit) {
      this.touch(hit);
      return hit.value as Promise<T>;
    }
    const entry: Entry = { key, value: make(), busy: false, dropped: false };
    entry.value.catch(() => this.remove(entry));
    this.add(entry);
    return entry.value as Promise<T>;
  }

  /**
   * An idle value under `key` of job `group`, or a new one: used by one task until released.
   * The idle values of other jobs are dropped.
   */
  async lease<T>(
    group: string,
    key: string,
    make: () => Promise<T>,
    dispose: (v: T) => Promise<void>,
  ): Promise<Lease<T>> {
    for (const e of this.entries.filter((x) => x.group !== undefined && x.group !== group && !x.busy))
      await this.drop(e);
    let entry = this.entries.find((e) => e.group === group && e.key === key && !e.busy);
    if (entry) this.touch(entry);
    else {
      entry = {
        key,
        group,
        value: make(),
        dispose: dispose as (v: unknown) => Promise<void>,
        busy: false,
        dropped: false,
      };
      entry.value.catch(() => this.remove(entry!));
      this.add(entry);
    }
    entry.busy = true;
    const value = (await entry.value) as T;
    const held = entry;
    return {
      value,
      release: async () => {
        held.busy = false;
        if (held.dropped) await held.dispose?.(value);
        else this.trim();
      },
    };
  }

  /** Drops every idle value (a process that wants its memory back); busy ones go when released. */
  async clear(): Promise<void> {
    for (const e of [...this.entries]) await this.drop(e);
  }

  private add(e: Entry): void {
    this.entries.push(e);
    this.trim();
  }

  private touch(e: Entry): void {
    this.entries.splice(this.entries.indexOf(e), 1);
    this.entries.push(e);
  }

  private trim(): void {
    while (this.entries.length > this.limit) {
      const idle = this.entries.find((e) => !e.busy);
      if (!idle) return;
      void this.drop(idle);
    }
  }

  private remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }

  private async drop(e: Entry): Promise<void> {
    this.remove(e);
    e.dropped = true;
    if (e.busy || !e.dispose) return;
    const v = await e.value.then(
      (x) => ({ x }),
      () => null,
    );
    if (v) await e.dispose(v.x);
  }
}
