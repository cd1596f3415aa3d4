// Unit tests of src/lib/diff.ts: the line diff under the versions page.
import assert from "node:assert/strict";
import { test } from "node:test";
import { importTs } from "./ts.mjs";

const { diffLines, hunks, lines, unified } = await importTs("../src/lib/diff.ts");

/** The length of a longest common subsequence, by the textbook table. */
function lcs(a, b) {
  const t = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
  return t[a.length][b.length];
}

/** A tiny deterministic random source, so a failure can be replayed. */
function rng(seed) {
  return () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
}

test("a changed line in the middle: one removal, one addition, numbered on each side", () => {
  const d = diffLines(["a", "b", "c"], ["a", "B", "c"]);
  assert.deepEqual(d, [
    { op: "same", text: "a", a: 1, b: 1 },
    { op: "del", text: "b", a: 2 },
    { op: "add", text: "B", b: 2 },
    { op: "same", text: "c", a: 3, b: 3 },
  ]);
});

test("empty sides, equal texts", () => {
  assert.deepEqual(diffLines([], []), []);
  assert.deepEqual(diffLines([], ["x"]), [{ op: "add", text: "x", b: 1 }]);
  assert.deepEqual(diffLines(["x"], []), [{ op: "del", text: "x", a: 1 }]);
  assert.ok(diffLines(["x", "y"], ["x", "y"]).every((l) => l.op === "same"));
  assert.deepEqual(hunks(diffLines(["x", "y"], ["x", "y"])), []);
});

test("lines() drops the final newline only", () => {
  assert.deepEqual(lines(""), []);
  assert.deepEqual(lines("a\nb\n"), ["a", "b"]);
  assert.deepEqual(lines("a\r\n\nb"), ["a", "", "b"]);
});

test("random edits: the script rebuilds both texts and is as short as the LCS allows", () => {
  const next = rng(42);
  for (let round = 0; round < 400; round++) {
    const alphabet = 2 + Math.floor(next() * 5);
    const gen = () => Array.from({ length: Math.floor(next() * 25) }, () => String.fromCharCode(97 + Math.floor(next() * alphabet)));
    const a = gen(), b = gen();
    const d = diffLines(a, b);
    assert.deepEqual(d.filter((l) => l.op !== "add").map((l) => l.text), a, `old side of ${a} -> ${b}`);
    assert.deepEqual(d.filter((l) => l.op !== "del").map((l) => l.text), b, `new side of ${a} -> ${b}`);
    const same = d.filter((l) => l.op === "same").length;
    assert.equal(same, lcs(a, b), `not minimal: ${a} -> ${b}`);
    // Line numbers count up on each side.
    assert.deepEqual(d.filter((l) => l.a !== undefined).map((l) => l.a), a.map((_, i) => i + 1));
    assert.deepEqual(d.filter((l) => l.b !== undefined).map((l) => l.b), b.map((_, i) => i + 1));
  }
});

test("hunks keep three lines of context and merge changes that are close", () => {
  const a = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
  const b = a.slice();
  b[4] = "changed 5";
  b[9] = "changed 10"; // 4 unchanged lines between: one hunk
  b[25] = "changed 26"; // far: a second hunk
  const hs = hunks(diffLines(a, b));
  assert.equal(hs.length, 2);
  assert.equal(unified(hs).split("\n")[0], "@@ -2,12 +2,12 @@");
  assert.deepEqual(hs[1].lines.map((l) => l.text), ["line 23", "line 24", "line 25", "line 26", "changed 26", "line 27", "line 28", "line 29"]);
  assert.equal(unified([hs[1]]).split("\n")[0], "@@ -23,7 +23,7 @@");
});

test("a pure insertion is numbered like diff -u", () => {
  const hs = hunks(diffLines(["a", "b"], ["a", "x", "b"]));
  assert.equal(unified(hs), "@@ -1,2 +1,3 @@\n a\n+x\n b");
  assert.equal(unified(hunks(diffLines([], ["x"]))), "@@ -0,0 +1,1 @@\n+x");
});

test("very different long texts stay fast and still rebuild both sides", () => {
  const a = Array.from({ length: 6000 }, (_, i) => `a${i}`);
  const b = Array.from({ length: 6000 }, (_, i) => `b${i}`);
  const t = Date.now();
  const d = diffLines(a, b);
  assert.ok(Date.now() - t < 3000, "took too long");
  assert.deepEqual(d.filter((l) => l.op !== "add").map((l) => l.text), a);
  assert.deepEqual(d.filter((l) => l.op !== "del").map((l) => l.text), b);
});
