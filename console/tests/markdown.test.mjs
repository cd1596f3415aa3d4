// The README reader (src/lib/markdown.ts) on its own, without a browser:
// the subset it reads, what it refuses to make a link, and its bounds.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { transformWithOxc } from "vite";

const source = readFileSync(new URL("../src/lib/markdown.ts", import.meta.url), "utf8");
const { code } = await transformWithOxc(source, "markdown.ts", { lang: "ts" });
const file = join(mkdtempSync(join(tmpdir(), "weft-md-")), "markdown.mjs");
writeFileSync(file, code);
const { parse, parseInline, plain, safeUrl } = await import(file);

const text = (t) => ({ t: "text", text: t });

test("headings, paragraphs, emphasis, strong, code and strike-through", () => {
  const doc = parse("# Title #\n\nSome *soft* and **bold** and `x < y` and ~~old~~.\nNext line.\n\nSetext\n---\n");
  assert.deepEqual(doc, [
    { t: "heading", level: 1, children: [text("Title")] },
    {
      t: "paragraph",
      children: [
        text("Some "),
        { t: "em", children: [text("soft")] },
        text(" and "),
        { t: "strong", children: [text("bold")] },
        text(" and "),
        { t: "code", text: "x < y" },
        text(" and "),
        { t: "del", children: [text("old")] },
        text(".\nNext line."),
      ],
    },
    { t: "heading", level: 2, children: [text("Setext")] },
  ]);
});

test("snake_case words and lone stars are not emphasis; escapes are literal", () => {
  assert.deepEqual(parseInline("call send_message_now with 2 * 3 * 4 and \\*not\\*"), [
    text("call send_message_now with 2 * 3 * 4 and *not*"),
  ]);
});

test("lists nest, ordered lists keep their start, code blocks keep their text", () => {
  const doc = parse("- one\n- two\n  - inner\n\n3. three\n4. four\n\n```js\nlet a = '<b>';\n```\n\n    indented\n");
  assert.equal(doc[0].t, "list");
  assert.equal(doc[0].ordered, false);
  assert.equal(doc[0].items.length, 2);
  assert.deepEqual(doc[0].items[1][1], { t: "list", ordered: false, start: 1, items: [[{ t: "paragraph", children: [text("inner")] }]] });
  assert.equal(doc[1].ordered, true);
  assert.equal(doc[1].start, 3);
  assert.deepEqual(doc[2], { t: "code", lang: "js", text: "let a = '<b>';" });
  assert.deepEqual(doc[3], { t: "code", lang: "", text: "indented" });
});

test("quotes, rules and tables", () => {
  const doc = parse("> quoted *text*\n\n---\n\n| a | b |\n|:--|--:|\n| 1 | `2` |\n");
  assert.equal(doc[0].t, "quote");
  assert.deepEqual(doc[1], { t: "rule" });
  assert.deepEqual(doc[2], {
    t: "table",
    align: ["left", "right"],
    head: [[text("a")], [text("b")]],
    rows: [[[text("1")], [{ t: "code", text: "2" }]]],
  });
});

test("only http(s) URLs become links; anything else stays text", () => {
  const inl = parseInline(
    "[ok](https://example.com/a?b=1) [js](javascript:alert(1)) [data](data:text/html,<b>) [rel](docs/x.md) " +
      "[spaced]( JAVASCRIPT:alert(1) ) <https://auto.example> see https://bare.example/path. ![logo](https://x/y.png)",
  );
  const links = inl.filter((n) => n.t === "link");
  assert.deepEqual(
    links.map((l) => l.href),
    ["https://example.com/a?b=1", "https://auto.example/", "https://bare.example/path"],
  );
  assert.ok(inl.some((n) => n.t === "img" && n.alt === "logo"), "an image is its alt text");
  assert.match(plain(inl), /js data rel spaced/);
  for (const u of ["javascript:alert(1)", "java\tscript:alert(1)", " javascript:x", "vbscript:x", "data:text/html,x", "//evil.example", "/local", "file:///etc/passwd"]) {
    assert.equal(safeUrl(u), null, u);
  }
  assert.equal(safeUrl("HTTPS://Example.COM"), "https://example.com/");
});

test("raw HTML is text, and an HTML comment block is dropped", () => {
  const doc = parse("<script>window.__xss=1</script>\n\n<!--\nhidden\n-->\n<img src=x onerror=alert(1)>");
  assert.deepEqual(doc, [
    { t: "paragraph", children: [text("<script>window.__xss=1</script>")] },
    { t: "paragraph", children: [text("<img src=x onerror=alert(1)>")] },
  ]);
});

test("hard breaks", () => {
  const doc = parse("one  \ntwo\\\nthree");
  assert.deepEqual(doc[0].children, [text("one"), { t: "br" }, text("two"), { t: "br" }, text("three")]);
});

test("hostile input is bounded: deep nesting, long delimiter runs, huge documents", () => {
  const started = Date.now();
  parse(">".repeat(5000) + " deep");
  parse("- ".repeat(3000) + "deep");
  parse("*a ".repeat(30000));
  parse("[".repeat(30000) + "](" + "x".repeat(30000));
  parse("`".repeat(1000) + "a" + "``".repeat(1000));
  parse("# " + " ".repeat(100000) + "x");
  parse("|-" + " ".repeat(100000) + "x\n|-" + " ".repeat(100000) + "x");
  parse("a" + "  ".repeat(50000) + "x\nb");
  const huge = parse("word ".repeat(100000));
  assert.match(plain(huge.at(-1).children), /too long to show/);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test("hostile descriptions and READMEs stay linear: long space runs, and nothing but link openers", () => {
  // Found by review: a quadratic regex took 24 s on 200,000 spaces, and 66,000
  // `[](` rescanned 2 KB each (1.5 s). The bound is a hang guard, not a benchmark.
  const t0 = Date.now();
  assert.deepEqual(parseInline("a" + " ".repeat(199_990) + "a").length, 1);
  assert.equal(plain(parseInline("x \n   \n y")), "x y");
  parse("[](".repeat(66_000));
  parse("![](".repeat(50_000));
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
});
