// A line diff (Myers' O(ND) algorithm, after trimming the common head and
// tail), and its hunks with a few lines of context, as `diff -u` shows them.
//
// Self-contained (no imports): tests/diff.test.mjs loads it in Node.

export type DiffLine = {
  op: "same" | "add" | "del";
  text: string;
  /** Line number in the old text (1-based), for `same` and `del`. */
  a?: number;
  /** Line number in the new text (1-based), for `same` and `add`. */
  b?: number;
};

export type Hunk = { aStart: number; aLines: number; bStart: number; bLines: number; lines: DiffLine[] };

/** Past this many differing lines the middle is shown as all removed, then all added. */
const MAX_EDITS = 2000;

/** Splits a text into lines (a final newline does not make an empty last line). */
export function lines(text: string): string[] {
  if (text === "") return [];
  const l = text.split(/\r?\n/);
  if (l[l.length - 1] === "") l.pop();
  return l;
}

/** The shortest edit script between two lists of lines, in order. */
export function diffLines(oldLines: string[], newLines: string[]): DiffLine[] {
  let head = 0;
  while (head < oldLines.length && head < newLines.length && oldLines[head] === newLines[head]) head++;
  let tail = 0;
  while (
    tail < oldLines.length - head &&
    tail < newLines.length - head &&
    oldLines[oldLines.length - 1 - tail] === newLines[newLines.length - 1 - tail]
  ) tail++;
  const a = oldLines.slice(head, oldLines.length - tail);
  const b = newLines.slice(head, newLines.length - tail);

  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ op: "same", text: oldLines[i], a: i + 1, b: i + 1 });
  for (const e of middle(a, b)) {
    if (e.op === "same") out.push({ op: "same", text: e.text, a: head + e.i + 1, b: head + e.j + 1 });
    else if (e.op === "del") out.push({ op: "del", text: e.text, a: head + e.i + 1 });
    else out.push({ op: "add", text: e.text, b: head + e.j + 1 });
  }
  for (let k = tail; k > 0; k--) {
    const i = oldLines.length - k, j = newLines.length - k;
    out.push({ op: "same", text: oldLines[i], a: i + 1, b: j + 1 });
  }
  return out;
}

type Edit = { op: DiffLine["op"]; text: string; i: number; j: number };

/** Myers: the furthest-reaching path per diagonal for each number of edits d,
 * kept per d so the path can be walked back. */
function middle(a: string[], b: string[]): Edit[] {
  const n = a.length, m = b.length;
  if (n === 0) return b.map((text, j) => ({ op: "add", text, i: 0, j }));
  if (m === 0) return a.map((text, i) => ({ op: "del", text, i, j: 0 }));
  const max = Math.min(n + m, MAX_EDITS);
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d]: the diagonals -d-1..d+1 of v before round d (all the walk back reads).
  const trace: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d++) {
    trace.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }
  if (found < 0) {
    // Too different to be worth the search: all of the old, then all of the new.
    return [...a.map((text, i): Edit => ({ op: "del", text, i, j: 0 })), ...b.map((text, j): Edit => ({ op: "add", text, i: n, j }))];
  }
  // Walk back from (n, m).
  const edits: Edit[] = [];
  let x = n, y = m;
  for (let d = found; d > 0; d--) {
    const vd = (k: number) => trace[d][k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd(k - 1) < vd(k + 1)) ? k + 1 : k - 1;
    const prevX = vd(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      edits.push({ op: "same", text: a[x], i: x, j: y });
    }
    if (x === prevX) edits.push({ op: "add", text: b[prevY], i: x, j: prevY });
    else edits.push({ op: "del", text: a[prevX], i: prevX, j: y });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    x--;
    y--;
    edits.push({ op: "same", text: a[x], i: x, j: y });
  }
  return edits.reverse();
}

/** The changes with `context` unchanged lines around each; none when the texts are equal. */
export function hunks(diff: DiffLine[], context = 3): Hunk[] {
  const out: Hunk[] = [];
  let i = 0;
  while (i < diff.length) {
    while (i < diff.length && diff[i].op === "same") i++;
    if (i >= diff.length) break;
    let start = Math.max(0, i - context);
    // Extend while the next change is within 2 × context unchanged lines.
    let end = i;
    for (;;) {
      while (end < diff.length && diff[end].op !== "same") end++;
      let same = end;
      while (same < diff.length && diff[same].op === "same") same++;
      if (same < diff.length && same - end <= 2 * context) end = same;
      else {
        end = Math.min(diff.length, end + context);
        break;
      }
    }
    const lines = diff.slice(start, end);
    const firstA = lines.find((l) => l.a !== undefined)?.a;
    const firstB = lines.find((l) => l.b !== undefined)?.b;
    const aLines = lines.filter((l) => l.op !== "add").length;
    const bLines = lines.filter((l) => l.op !== "del").length;
    // `diff -u` numbers an empty side by the line before it.
    const aStart = firstA ?? (start > 0 ? (diff.slice(0, start).reverse().find((l) => l.a !== undefined)?.a ?? 0) : 0);
    const bStart = firstB ?? (start > 0 ? (diff.slice(0, start).reverse().find((l) => l.b !== undefined)?.b ?? 0) : 0);
    out.push({ aStart, aLines, bStart, bLines, lines });
    i = end;
    start = end;
  }
  return out;
}

/** The diff as unified text (`@@ -a,n +b,m @@`, then ` `, `-` and `+` lines). */
export function unified(hs: Hunk[]): string {
  return hs
    .map((h) => [`@@ -${h.aStart},${h.aLines} +${h.bStart},${h.bLines} @@`, ...h.lines.map((l) => (l.op === "add" ? "+" : l.op === "del" ? "-" : " ") + l.text)].join("\n"))
    .join("\n");
}
