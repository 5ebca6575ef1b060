// The reduction tree of a round's shard partials. One reducer reading S partials of K(K+1)/2 values
// reads S·K²/2 numbers (40 shards at K = 4096: 2.7 GB in float64), so above a fan-in F the sums are
// formed in levels: level 1 node g sums the partials of shards g·F … g·F + F − 1 in shard order,
// level 2 node g sums level-1 nodes g·F … likewise, until at most F nodes are left, which the
// reducer sums. The grouping is a function of S and F only, so the result is deterministic; it
// differs from the single reducer's left-to-right sum by rounding (the order of the additions).

import { partialBytes, type PartialPrecision } from "./partialCodec.ts";

/** The most bytes of partials one reduction task reads when the job does not set a fan-in. */
export const REDUCE_READ_BYTES = 512 * 2 ** 20;

/** One level of the tree: `level` (1, 2, …) and its nodes' indices 0..nodes−1. */
export interface TreeLevel {
  level: number;
  nodes: number[];
}

/** The partials one reduction task sums: the job's compute.reduceFanIn, or as many as fit in
 *  REDUCE_READ_BYTES (at least 2). */
export function fanInOf(k: number, precision: PartialPrecision, reduceFanIn?: number): number {
  if (reduceFanIn !== undefined) return reduceFanIn;
  return Math.max(2, Math.floor(REDUCE_READ_BYTES / partialBytes(k, precision)));
}

/** The levels between the shards and the reducer (none when the reducer reads every shard). */
export function treeLevels(shards: number, fanIn: number): TreeLevel[] {
  if (!Number.isInteger(fanIn) || fanIn < 2) throw new RangeError(`a reduction fan-in of ${fanIn}: it must be ≥ 2`);
  const levels: TreeLevel[] = [];
  for (let count = shards; count > fanIn;) {
    count = Math.ceil(count / fanIn);
    levels.push({ level: levels.length + 1, nodes: Array.from({ length: count }, (_, i) => i) });
  }
  return levels;
}

/** The children (indices one level down) that node `node` of a level sums, of `below` there. */
export function childrenOf(node: number, fanIn: number, below: number): number[] {
  const start = node * fanIn,
    end = Math.min(below, start + fanIn);
  if (start >= end) throw new RangeError(`node ${node} has no children among ${below}`);
  return Array.from({ length: end - start }, (_, i) => start + i);
}
