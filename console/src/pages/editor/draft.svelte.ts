// The editor's state: one definition (the source of truth), its text (YAML
// or JSON) kept in step with it both ways, the selected step, and what the
// server said of it (validation problems and warnings, the saved version).
import type { Document } from "yaml";
import { ApiError, api, ok, type Schemas } from "../../lib/api/client";
import { find, type Definition } from "../../lib/graph/model.js";
import { canonical, parseText, printText, type Format, type TextError } from "../../lib/editor/text.js";
import { place, type Placed } from "../../lib/editor/problems.js";

type Check = "idle" | "checking" | "valid" | "invalid" | "failed";

export class Draft {
  /** The saved workflow (null while new). */
  workflow: Schemas["Workflow"] | null = $state(null);
  def: Definition = $state.raw({ name: "", steps: [] });
  /** The text's format, remembered in this browser. */
  format: Format = $state(localStorage.getItem("weft.editor.format") === "json" ? "json" : "yaml");
  text = $state("");
  textError: TextError | null = $state(null);
  /** JSON of the definition as last saved (or loaded). */
  saved = $state("");
  problems: Placed[] = $state.raw([]);
  check: Check = $state("idle");
  /** An answer of validate or save that is not a list of problems (network, 403...). */
  failure: unknown = $state(null);
  selected: string | null = $state(null);
  saving = $state(false);
  /** Whether the text holds edits the definition does not (a parse error). */
  dirty = $derived(!!this.textError || JSON.stringify(this.def) !== this.saved);
  errors = $derived(this.problems.filter((p) => !p.warning));

  #doc: Document | undefined;
  #parseTimer: ReturnType<typeof setTimeout> | undefined;
  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #checkSeq = 0;

  /** Starts from a definition (a new one, or the saved one of `workflow`). */
  load(def: unknown, workflow: Schemas["Workflow"] | null = null) {
    this.workflow = workflow;
    this.def = canonical(def) as Definition;
    this.#doc = undefined;
    this.#print();
    this.saved = JSON.stringify(this.def);
    this.problems = [];
    this.check = "idle";
    if (this.selected && !find(this.def, this.selected)) this.selected = null;
  }

  /** An edit from the graph or a form: `edit` changes a copy, the text is printed again. */
  change(edit: (def: Definition) => void) {
    // Text typed just before counts (it may add the step this edit is about).
    this.flush();
    const next = structuredClone(this.def);
    edit(next);
    this.def = next;
    this.#print();
    this.#soon();
  }

  #print() {
    const out = printText(this.def, this.format, this.textError ? undefined : this.#doc);
    this.text = out.text;
    this.#doc = out.doc;
    this.textError = null;
  }

  /** An edit of the text: parsed after a pause; the graph keeps the last good definition. */
  setText(text: string) {
    this.text = text;
    clearTimeout(this.#parseTimer);
    this.#parseTimer = setTimeout(() => this.#parse(), 300);
  }

  /** Parses the text now (before a save, or when leaving the field). */
  flush() {
    if (this.#parseTimer === undefined) return;
    clearTimeout(this.#parseTimer);
    this.#parse();
  }

  #parse() {
    this.#parseTimer = undefined;
    const r = parseText(this.text, this.format);
    if (r.error) {
      this.textError = r.error;
      this.#backup();
      return;
    }
    this.textError = null;
    this.#doc = r.doc;
    if (JSON.stringify(r.value) === JSON.stringify(this.def)) return;
    this.def = r.value as Definition;
    if (this.selected && !find(this.def, this.selected)) this.selected = null;
    this.#soon();
  }

  /** YAML or JSON; refused (false) while the text does not parse. */
  setFormat(format: Format): boolean {
    this.flush();
    if (this.textError) return false;
    this.format = format;
    localStorage.setItem("weft.editor.format", format);
    this.#doc = undefined;
    this.#print();
    return true;
  }

  /** Validation a moment after the last edit, and the backup of the text. */
  #soon() {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = setTimeout(() => {
      this.#backup();
      void this.validate();
    }, 600);
  }

  /**
   * Where unsaved text is kept in this browser (so a lost session, a closed
   * tab or a crash does not lose it): per workflow, `new` for a new one.
   */
  get backupKey(): string {
    return `weft.draft.${this.workflow?.id ?? "new"}`;
  }

  #backup() {
    if (this.dirty) localStorage.setItem(this.backupKey, JSON.stringify({ text: this.text, format: this.format, at: Date.now() }));
    else localStorage.removeItem(this.backupKey);
  }

  /** The unsaved text kept for this workflow, if it differs from what is shown. */
  backup(): { text: string; format: Format; at: number } | null {
    try {
      const b = JSON.parse(localStorage.getItem(this.backupKey) ?? "null");
      return b && typeof b.text === "string" && b.text !== this.text ? b : null;
    } catch {
      return null;
    }
  }

  /** Takes the kept text back (it is parsed as if typed). */
  restore(b: { text: string; format: Format }) {
    this.format = b.format === "json" ? "json" : "yaml";
    this.#doc = undefined;
    this.setText(b.text);
    this.flush();
  }

  discardBackup() {
    localStorage.removeItem(this.backupKey);
  }

  #problems(def: Definition, e: unknown): boolean {
    if (e instanceof ApiError && e.code === "invalid_workflow") {
      this.problems = e.problems.map((p) => place(def, p));
      this.check = "invalid";
      this.failure = null;
      return true;
    }
    this.check = "failed";
    this.failure = e;
    return false;
  }

  /** Asks the server (`POST /v1/workflows/validate`); true when valid. */
  async validate(): Promise<boolean> {
    clearTimeout(this.#checkTimer);
    this.flush();
    if (this.textError) return false;
    const def = this.def;
    const seq = ++this.#checkSeq;
    this.check = "checking";
    try {
      const v = await ok(api.POST("/v1/workflows/validate", { body: def }));
      if (seq !== this.#checkSeq) return false;
      this.problems = (v.warnings ?? []).map((p) => place(def, p, true));
      this.check = "valid";
      this.failure = null;
      return true;
    } catch (e) {
      if (seq === this.#checkSeq) this.#problems(def, e);
      return false;
    }
  }

  /** Creates or updates the workflow; its problems are shown when refused. */
  async save(): Promise<boolean> {
    this.reveal();
    clearTimeout(this.#checkTimer);
    this.flush();
    if (this.textError) return false;
    const def = this.def;
    const seq = ++this.#checkSeq;
    this.saving = true;
    try {
      const id = this.workflow?.id;
      const w = id
        ? await ok(api.PUT("/v1/workflows/{id}", { params: { path: { id } }, body: def }))
        : await ok(api.POST("/v1/workflows", { body: def }));
      this.discardBackup();
      this.workflow = w;
      this.saved = JSON.stringify(def);
      if (seq === this.#checkSeq) void this.validate(); // its warnings
      return true;
    } catch (e) {
      if (seq === this.#checkSeq) this.#problems(def, e);
      return false;
    } finally {
      this.saving = false;
    }
  }

  /**
   * Steps added in this visit and not edited since, with their JSON when added: their errors are shown as
   * hints (a new jq step lacks its filter: that is the next thing to do, not a mistake) until the step is
   * edited, or the author asks to validate or save. They are errors all the same: listed, counted, refused.
   */
  #fresh: Record<string, string> = $state({});
  /** Marks a just-added step as not yet edited. */
  markFresh(id: string) {
    const p = find(this.def, id);
    if (p) this.#fresh = { ...this.#fresh, [id]: JSON.stringify(p.step) };
  }
  /** Shows every step's errors as errors (Validate, Save). */
  reveal() {
    this.#fresh = {};
  }
  /** Whether a step was just added and is untouched since. */
  isFresh(id: string | undefined): boolean {
    const was = id === undefined ? undefined : this.#fresh[id];
    if (was === undefined) return false;
    const p = find(this.def, id!);
    return !!p && JSON.stringify(p.step) === was;
  }

  /** The problems (errors and warnings) of one step, or of the top level with `null`; hints on a fresh step. */
  problemsOf(step: string | null): Placed[] {
    const fresh = step !== null && this.isFresh(step);
    return this.problems
      .filter((p) => (step === null ? p.step === undefined : p.step === step))
      .map((p) => (fresh && !p.warning ? { ...p, hint: true } : p));
  }
}
