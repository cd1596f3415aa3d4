// Automatic layout (dagre, top to bottom) of a workflow graph into Svelte
// Flow nodes; a loop is a box around its body.
import dagre from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/svelte";
import type { Graph } from "./model";

export const NODE_W = 210;
/** A step node's height: its lines (StepNode.svelte: 16 px each) and its padding and border (14 px). */
export const NODE_LINE = 16;
export const NODE_H = 2 * NODE_LINE + 14;

export type StepNodeData = { id: string; kind: string; detail: string; status?: string; problems?: string[]; hints?: string[]; selected?: boolean };

/** The height a step node needs: two lines, and a third for its problems or hints. */
export const nodeHeight = (problems?: string[], hints?: string[]) => NODE_H + (problems?.length || hints?.length ? NODE_LINE : 0);

const PAD = { x: 16, top: 52, bottom: 16 };

type Box = { x: number; y: number; w: number; h: number };

/**
 * Lays out the steps whose parent is `parent` (a loop's body is laid out
 * first, and the loop becomes a box that holds it): positions relative to
 * the parent, into `boxes`; returns the size of the whole.
 */
function place(graph: Graph, parent: string | undefined, boxes: Map<string, Box>, height: (id: string) => number): { w: number; h: number } {
  const here = graph.nodes.filter((n) => n.parent === parent);
  const ids = new Set(here.map((n) => n.id));
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 36, ranksep: 48, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of here) {
    const inner = graph.nodes.some((c) => c.parent === n.id) ? place(graph, n.id, boxes, height) : null;
    const size = inner
      ? { width: Math.max(NODE_W, inner.w + 2 * PAD.x), height: inner.h + PAD.top + PAD.bottom }
      : { width: NODE_W, height: height(n.id) };
    g.setNode(n.id, size);
  }
  for (const e of graph.edges) if (ids.has(e.source) && ids.has(e.target)) g.setEdge(e.source, e.target);
  dagre.layout(g);
  for (const n of here) {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    boxes.set(n.id, { x: p.x - p.width / 2, y: p.y - p.height / 2, w: p.width, h: p.height });
  }
  const info = g.graph() as { width?: number; height?: number };
  return { w: info.width ?? NODE_W, h: info.height ?? NODE_H };
}

/** Svelte Flow nodes and edges for `graph`, placed; `status` colours the nodes of a run. */
export function layout(
  graph: Graph,
  status: Record<string, string> = {},
  problems: Record<string, string[]> = {},
  hints: Record<string, string[]> = {},
): { nodes: Node[]; edges: Edge[] } {
  const boxes = new Map<string, Box>();
  place(graph, undefined, boxes, (id) => nodeHeight(problems[id], hints[id]));
  const loops = new Set(graph.nodes.filter((n) => graph.nodes.some((c) => c.parent === n.id)).map((n) => n.id));
  const depth = (id: string | undefined): number => (id ? 1 + depth(graph.nodes.find((n) => n.id === id)?.parent) : 0);
  // Parents before their children (Svelte Flow needs that order).
  const ordered = [...graph.nodes].sort((a, b) => depth(a.parent) - depth(b.parent));
  const nodes: Node[] = ordered.map((n) => {
    const a = boxes.get(n.id)!;
    const data: StepNodeData = { id: n.id, kind: n.kind, detail: n.detail, status: status[n.id], problems: problems[n.id], hints: hints[n.id] };
    return {
      id: n.id,
      type: loops.has(n.id) ? "loop" : "step",
      position: n.parent ? { x: a.x + PAD.x, y: a.y + PAD.top } : { x: a.x, y: a.y },
      data,
      parentId: n.parent,
      extent: n.parent ? "parent" : undefined,
      width: a.w,
      height: a.h,
      ariaLabel: `${n.kind} step ${n.id}${status[n.id] ? ", " + status[n.id] : ""}`,
    } as Node;
  });
  const edges: Edge[] = graph.edges.map((e) => ({
    id: e.id,
    source: e.source,
    target: e.target,
    label: e.label,
    type: "smoothstep",
    animated: status[e.source] === "running",
    class: e.kind === "branch" ? "branch" : undefined,
  }));
  return { nodes, edges };
}
