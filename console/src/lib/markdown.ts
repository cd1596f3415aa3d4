// A small Markdown reader for package READMEs and descriptions: the text is
// parsed into a tree of tokens, which `Markdown.svelte` renders as elements
// whose text goes through Svelte's escaping. No HTML from the source ever
// reaches the page as markup: raw HTML stays visible text, images are shown
// as their alt text, and a link is a link only when its URL is http(s).
//
// The subset: ATX and setext headings, paragraphs, hard breaks, bullet and
// ordered lists (nested), fenced and indented code, block quotes, rules,
// GitHub tables; inline code, emphasis, strong, strike-through, links,
// autolinks (<https://…> and bare https://…), images (alt text). HTML
// comment blocks are dropped. Bounded: at most `MAX_SOURCE` characters and
// `MAX_DEPTH` levels of nesting; matching delimiters is O(n log n).

export type Inline =
  | { t: "text"; text: string }
  | { t: "code"; text: string }
  | { t: "br" }
  | { t: "em" | "strong" | "del"; children: Inline[] }
  | { t: "link"; href: string; children: Inline[] }
  | { t: "img"; alt: string };

export type Align = "left" | "center" | "right" | null;

export type Block =
  | { t: "heading"; level: number; children: Inline[] }
  | { t: "paragraph"; children: Inline[] }
  | { t: "list"; ordered: boolean; start: number; items: Block[][] }
  | { t: "code"; lang: string; text: string }
  | { t: "quote"; children: Block[] }
  | { t: "rule" }
  | { t: "table"; align: Align[]; head: Inline[][]; rows: Inline[][][] };

export const MAX_SOURCE = 200_000;
const MAX_DEPTH = 8;
const MAX_URL = 2048;

/** The URL as an `href` when it is an absolute http(s) URL; otherwise null. */
export function safeUrl(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
}

/** The blocks of a Markdown document. */
export function parse(source: string): Block[] {
  let text = (source ?? "").replace(/\r\n?/g, "\n").replace(/\u0000/g, "\uFFFD");
  let cut = false;
  if (text.length > MAX_SOURCE) {
    text = text.slice(0, MAX_SOURCE);
    cut = true;
  }
  const lines = text.split("\n").map(expandTabs);
  const blocks = parseBlocks(lines, 0);
  if (cut) blocks.push({ t: "paragraph", children: [{ t: "text", text: "(The rest of this document is too long to show.)" }] });
  return blocks;
}

/** Inline Markdown of one line (a description), without blocks. */
export function parseInline(source: string): Inline[] {
  // Lines joined in linear time (a regex over runs of spaces is quadratic).
  const text = (source ?? "").slice(0, MAX_SOURCE);
  return inlines(text.includes("\n") ? text.split("\n").map((l) => l.trim()).filter((l) => l !== "").join(" ") : text, 0);
}

function expandTabs(line: string): string {
  if (!line.includes("\t")) return line;
  let out = "";
  for (const ch of line) {
    if (ch === "\t") out += " ".repeat(4 - (out.length % 4));
    else out += ch;
  }
  return out;
}

const blank = (l: string) => /^\s*$/.test(l);
const indentOf = (l: string) => l.length - l.trimStart().length;
const FENCE = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?= |$)/;
const RULE = /^ {0,3}([-*_])(?:[ ]*\1){2,}[ ]*$/;
const QUOTE = /^ {0,3}> ?/;
const ITEM = /^( {0,3})([-*+]|\d{1,9}[.)])( +|$)/;
const TABLE_SEP = /^ {0,3}\|?[ ]*:?-+:?[ ]*(\|[ ]*:?-+:?[ ]*)*\|?[ ]*$/;

// Regular expressions that could backtrack are tried on short lines only.
const short = (l: string) => l.length <= 1000;

function startsBlock(l: string): boolean {
  if ((short(l) && FENCE.test(l)) || HEADING.test(l) || RULE.test(l) || QUOTE.test(l)) return true;
  const m = ITEM.exec(l);
  // An ordered item interrupts a paragraph only when it starts at 1.
  return !!m && !blank(l.slice(m[0].length)) && (/^[-*+]$/.test(m[2]) || /^1[.)]$/.test(m[2]));
}

function parseBlocks(lines: string[], depth: number): Block[] {
  const out: Block[] = [];
  if (depth > MAX_DEPTH) {
    const text = lines.join("\n").trim();
    if (text) out.push({ t: "paragraph", children: [{ t: "text", text }] });
    return out;
  }
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (blank(line)) {
      i++;
      continue;
    }
    // An HTML comment block is dropped.
    if (/^ {0,3}<!--/.test(line)) {
      while (i < lines.length && !lines[i].includes("-->")) i++;
      i++;
      continue;
    }
    let m: RegExpExecArray | null;
    if (short(line) && (m = FENCE.exec(line))) {
      const [, indent, fence, lang] = m;
      const body: string[] = [];
      i++;
      while (i < lines.length) {
        const close = /^ {0,3}(`{3,}|~{3,})$/.exec(lines[i].trimEnd());
        if (close && close[1][0] === fence[0] && close[1].length >= fence.length) break;
        body.push(lines[i].slice(Math.min(indent.length, indentOf(lines[i]))));
        i++;
      }
      i++;
      out.push({ t: "code", lang, text: body.join("\n") });
      continue;
    }
    if ((m = HEADING.exec(line))) {
      // The text, without a closing run of #.
      let text = line.slice(m[0].length).trim();
      let j = text.length;
      while (j > 0 && text[j - 1] === "#") j--;
      if (j === 0 || text[j - 1] === " ") text = text.slice(0, j).trimEnd();
      out.push({ t: "heading", level: m[1].length, children: inlines(text, depth) });
      i++;
      continue;
    }
    if (RULE.test(line)) {
      out.push({ t: "rule" });
      i++;
      continue;
    }
    if (QUOTE.test(line)) {
      const inner: string[] = [];
      while (i < lines.length && !blank(lines[i]) && (QUOTE.test(lines[i]) || !startsBlock(lines[i]))) {
        inner.push(lines[i].replace(QUOTE, ""));
        i++;
      }
      out.push({ t: "quote", children: parseBlocks(inner, depth + 1) });
      continue;
    }
    if (ITEM.test(line)) {
      i = parseList(lines, i, depth, out);
      continue;
    }
    if (indentOf(line) >= 4) {
      const body: string[] = [];
      while (i < lines.length && (blank(lines[i]) || indentOf(lines[i]) >= 4)) body.push(lines[i++].slice(4));
      while (body.length && blank(body[body.length - 1])) body.pop();
      out.push({ t: "code", lang: "", text: body.join("\n") });
      continue;
    }
    if (line.includes("|") && i + 1 < lines.length && short(lines[i + 1]) && TABLE_SEP.test(lines[i + 1]) && lines[i + 1].includes("-")) {
      const head = cells(line);
      const align = cells(lines[i + 1]).map((c): Align => {
        const l = c.startsWith(":");
        const r = c.endsWith(":");
        return l && r ? "center" : r ? "right" : l ? "left" : null;
      });
      if (head.length === align.length) {
        i += 2;
        const rows: Inline[][][] = [];
        while (i < lines.length && !blank(lines[i]) && lines[i].includes("|")) {
          const row = cells(lines[i]).slice(0, head.length);
          while (row.length < head.length) row.push("");
          rows.push(row.map((c) => inlines(c, depth)));
          i++;
        }
        out.push({ t: "table", align, head: head.map((c) => inlines(c, depth)), rows });
        continue;
      }
    }
    // A paragraph, or a setext heading.
    const para: string[] = [];
    let level = 0;
    while (i < lines.length && !blank(lines[i])) {
      if (para.length && /^ {0,3}=+[ ]*$/.test(lines[i])) level = 1;
      else if (para.length && /^ {0,3}-+[ ]*$/.test(lines[i])) level = 2;
      if (level) {
        i++;
        break;
      }
      if (para.length && startsBlock(lines[i])) break;
      para.push(lines[i].trim() === "" ? "" : lines[i].replace(/^ +/, ""));
      i++;
    }
    const children = paragraphInlines(para, depth);
    out.push(level ? { t: "heading", level, children } : { t: "paragraph", children });
  }
  return out;
}

function cells(row: string): string[] {
  let r = row.trim();
  if (r.startsWith("|")) r = r.slice(1);
  if (r.endsWith("|") && !r.endsWith("\\|")) r = r.slice(0, -1);
  const out: string[] = [];
  let cur = "";
  for (let k = 0; k < r.length; k++) {
    if (r[k] === "\\" && r[k + 1] === "|") {
      cur += "|";
      k++;
    } else if (r[k] === "|") {
      out.push(cur.trim());
      cur = "";
    } else cur += r[k];
  }
  out.push(cur.trim());
  return out;
}

function parseList(lines: string[], i: number, depth: number, out: Block[]): number {
  const first = ITEM.exec(lines[i])!;
  const ordered = !/^[-*+]$/.test(first[2]);
  const kind = ordered ? first[2].slice(-1) : first[2];
  const start = ordered ? parseInt(first[2], 10) : 1;
  const items: Block[][] = [];
  while (i < lines.length) {
    const m = ITEM.exec(lines[i]);
    if (!m) break;
    const marker = m[2];
    if ((ordered ? marker.slice(-1) : marker) !== kind || /^[-*+]$/.test(marker) === ordered) break;
    if (RULE.test(lines[i])) break;
    const rest = lines[i].slice(m[0].length);
    // The item's content starts after the marker and its spaces (at most 4).
    const spaces = m[3].length > 4 || rest === "" ? 1 : m[3].length;
    const width = m[1].length + marker.length + spaces;
    const body: string[] = [lines[i].slice(Math.min(lines[i].length, width))];
    i++;
    let sawBlank = false;
    while (i < lines.length) {
      const l = lines[i];
      if (blank(l)) {
        body.push("");
        sawBlank = true;
        i++;
        continue;
      }
      if (indentOf(l) >= width) {
        body.push(l.slice(width));
        sawBlank = false;
        i++;
        continue;
      }
      // A lazy continuation of the item's paragraph.
      if (!sawBlank && !startsBlock(l) && !ITEM.test(l)) {
        body.push(l.trimStart());
        i++;
        continue;
      }
      break;
    }
    while (body.length && blank(body[body.length - 1])) body.pop();
    items.push(parseBlocks(body, depth + 1));
    // Blank lines between items end the list only if no item follows.
    let j = i;
    while (j < lines.length && blank(lines[j])) j++;
    if (j < lines.length && ITEM.test(lines[j]) && indentOf(lines[j]) < 4) i = j;
    else break;
  }
  out.push({ t: "list", ordered, start, items });
  return i;
}

function paragraphInlines(lines: string[], depth: number): Inline[] {
  // A line ending in two spaces or a backslash is a hard break (marked
  // with a NUL, which the source cannot hold).
  const parts: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const l = lines[k];
    const t = l.trimEnd();
    const last = k === lines.length - 1;
    if (!last && l.length - t.length >= 2) parts.push(t + "\u0000");
    else if (!last && t.endsWith("\\")) parts.push(t.slice(0, -1) + "\u0000");
    else parts.push(t);
  }
  return inlines(parts.join("\n"), depth);
}

// ---- inlines ----------------------------------------------------------

const PUNCT = /[!-/:-@[-`{-~]/;

/** Precomputed positions so that every delimiter is matched by a binary search. */
class Scan {
  readonly closeBracket = new Map<number, number>();
  /** Backtick runs by length: their start positions, ascending. */
  readonly ticks = new Map<number, number[]>();
  /** Valid closing positions of `**`, `__`, `*`, `_`, `~~`, ascending. */
  readonly closers = new Map<string, number[]>();

  constructor(readonly s: string) {
    const stack: number[] = [];
    for (let k = 0; k < s.length; k++) {
      const c = s[k];
      if (c === "\\" && k + 1 < s.length && PUNCT.test(s[k + 1])) {
        k++;
        continue;
      }
      if (c === "`") {
        let n = 1;
        while (s[k + n] === "`") n++;
        let list = this.ticks.get(n);
        if (!list) this.ticks.set(n, (list = []));
        list.push(k);
        k += n - 1;
        continue;
      }
      if (c === "[") stack.push(k);
      else if (c === "]" && stack.length) this.closeBracket.set(stack.pop()!, k);
      if (c === "*" || c === "_" || c === "~") {
        let n = 1;
        while (s[k + n] === c) n++;
        const before = s[k - 1];
        const after = s[k + n];
        // A closer is not preceded by white space; `_` also not followed by a word character.
        if (before !== undefined && !/\s/.test(before) && (c !== "_" || after === undefined || !/[\p{L}\p{N}]/u.test(after))) {
          for (const d of c === "~" ? ["~~"] : [c + c, c]) {
            if (n < d.length) continue;
            // Any position inside the run can close (the run's end first).
            for (let p = k; p + d.length <= k + n; p++) this.push(d, p);
          }
        }
        k += n - 1;
      }
    }
  }

  private push(d: string, p: number) {
    let list = this.closers.get(d);
    if (!list) this.closers.set(d, (list = []));
    list.push(p);
  }

  /** The first position in `list` at or after `from` and before `end`, or -1. */
  static next(list: number[] | undefined, from: number, end: number): number {
    if (!list) return -1;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < list.length && list[lo] < end ? list[lo] : -1;
  }
}

function inlines(s: string, depth: number): Inline[] {
  return new Inliner(new Scan(s)).run(0, s.length, depth, true);
}

/** Link destinations scanned per document at most: each scan reads up to
 * MAX_URL characters, so a README of nothing but `[](` stays linear. */
const MAX_LINK_TRIES = 2000;

class Inliner {
  private linkTries = 0;
  constructor(private readonly scan: Scan) {}

  run(from: number, end: number, depth: number, links: boolean): Inline[] {
    const s = this.scan.s;
    const out: Inline[] = [];
    let text = "";
    const flush = () => {
      if (text) out.push({ t: "text", text });
      text = "";
    };
    const push = (n: Inline) => {
      flush();
      out.push(n);
    };
    let k = from;
    while (k < end) {
      const c = s[k];
      if (depth > MAX_DEPTH) {
        text += s.slice(k, end);
        break;
      }
      if (c === "\u0000") {
        push({ t: "br" });
        k += s[k + 1] === "\n" ? 2 : 1;
        continue;
      }
      if (c === "\\" && k + 1 < end && PUNCT.test(s[k + 1])) {
        text += s[k + 1];
        k += 2;
        continue;
      }
      if (c === "`") {
        let n = 1;
        while (s[k + n] === "`") n++;
        const close = Scan.next(this.scan.ticks.get(n), k + n, end);
        if (close >= 0) {
          let code = s.slice(k + n, close).replace(/[\n\u0000]/g, " ");
          if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) code = code.slice(1, -1);
          push({ t: "code", text: code });
          k = close + n;
        } else {
          text += "`".repeat(n);
          k += n;
        }
        continue;
      }
      if (c === "!" && s[k + 1] === "[") {
        const link = this.link(k + 1, end);
        if (link) {
          push({ t: "img", alt: plain(this.run(k + 2, link.textEnd, depth + 1, false)) });
          k = link.next;
          continue;
        }
      }
      if (c === "[" && links) {
        const link = this.link(k, end);
        if (link) {
          const children = this.run(k + 1, link.textEnd, depth + 1, false);
          const href = safeUrl(link.url);
          if (href) push({ t: "link", href, children });
          else {
            // Not http(s): the text only, never a link.
            flush();
            out.push(...children);
          }
          k = link.next;
          continue;
        }
      }
      if (c === "<" && (s[k + 1] === "h" || s[k + 1] === "H")) {
        const m = /^<(https?:\/\/[^\s<>]{1,2048})>/i.exec(s.slice(k, Math.min(end, k + MAX_URL + 2)));
        const href = m && safeUrl(m[1]);
        if (m && href && links) {
          push({ t: "link", href, children: [{ t: "text", text: m[1] }] });
          k += m[0].length;
          continue;
        }
      }
      if ((c === "h" || c === "H") && links && (k === from || /[\s(]/.test(s[k - 1])) && s.slice(k, k + 4).toLowerCase() === "http") {
        const m = /^https?:\/\/[^\s<>]+/i.exec(s.slice(k, Math.min(end, k + MAX_URL)));
        if (m) {
          const url = m[0].replace(/[.,;:!?'")\]*_~]+$/, "");
          const href = safeUrl(url);
          if (href && url.length > 8) {
            push({ t: "link", href, children: [{ t: "text", text: url }] });
            k += url.length;
            continue;
          }
        }
      }
      if (c === "*" || c === "_" || c === "~") {
        let n = 1;
        while (s[k + n] === c) n++;
        const after = s[k + n];
        const before = s[k - 1];
        const opens = after !== undefined && !/\s/.test(after) && (c !== "_" || before === undefined || !/[\p{L}\p{N}]/u.test(before));
        const kinds: [string, "strong" | "em" | "del"][] = c === "~" ? [["~~", "del"]] : [[c + c, "strong"], [c, "em"]];
        let done = false;
        if (opens) {
          for (const [d, t] of kinds) {
            if (n < d.length) continue;
            const close = Scan.next(this.scan.closers.get(d), k + d.length + 1, end);
            if (close >= 0) {
              push({ t, children: this.run(k + d.length, close, depth + 1, links) });
              k = close + d.length;
              done = true;
              break;
            }
          }
        }
        if (!done) {
          text += s.slice(k, k + n);
          k += n;
        }
        continue;
      }
      text += c;
      k++;
    }
    flush();
    return out;
  }

  /** `[text](url "title")` starting at the `[` at `k`. */
  private link(k: number, end: number): { textEnd: number; url: string; next: number } | null {
    const s = this.scan.s;
    const close = this.scan.closeBracket.get(k);
    if (close === undefined || close >= end || s[close + 1] !== "(") return null;
    if (++this.linkTries > MAX_LINK_TRIES) return null;
    let p = close + 2;
    while (p < end && s[p] === " ") p++;
    let url = "";
    if (s[p] === "<") {
      const stop = find(s, ">", p + 1, end);
      if (stop < 0) return null;
      url = s.slice(p + 1, stop);
      p = stop + 1;
    } else {
      let parens = 0;
      const limit = Math.min(end, p + MAX_URL);
      const startUrl = p;
      while (p < limit && !/\s/.test(s[p])) {
        if (s[p] === "(") parens++;
        else if (s[p] === ")") {
          if (parens === 0) break;
          parens--;
        }
        p++;
      }
      url = s.slice(startUrl, p);
    }
    while (p < end && /\s/.test(s[p])) p++;
    // An optional title, which is not shown.
    if (s[p] === '"' || s[p] === "'") {
      const stop = find(s, s[p], p + 1, end);
      if (stop < 0) return null;
      p = stop + 1;
      while (p < end && /\s/.test(s[p])) p++;
    }
    if (s[p] !== ")") return null;
    return { textEnd: close, url, next: p + 1 };
  }
}

/** The position of `ch` in `s` from `from`, before `end` and within `MAX_URL` characters; or -1. */
function find(s: string, ch: string, from: number, end: number): number {
  const limit = Math.min(end, from + MAX_URL);
  for (let p = from; p < limit; p++) if (s[p] === ch) return p;
  return -1;
}

/** The text of inlines, without their marks. */
export function plain(list: Inline[]): string {
  return list
    .map((n) => ("text" in n ? n.text : "children" in n ? plain(n.children) : n.t === "img" ? n.alt : n.t === "br" ? " " : ""))
    .join("");
}
