// Leaving the editor with unsaved changes asks first (a link, the back
// button, closing the tab); and what the editor hands to itself when a new
// workflow's first save moves it to /workflows/:id/edit.
import { navigate } from "../../lib/router.svelte";

// True to what happens: the draft is not lost (draft.svelte.ts keeps it in localStorage and the editor offers it
// back), it is only not on the server.
const QUESTION =
  "Leave the editor without saving? Your changes are not saved to the server, but this browser keeps them and offers them back when you open this editor again.";

/** Asks before leaving while `dirty()`; returns the function that stops asking. */
export function guard(dirty: () => boolean): () => void {
  const here = location.pathname + location.search;
  const unload = (e: BeforeUnloadEvent) => {
    if (!dirty()) return;
    e.preventDefault();
    e.returnValue = "";
  };
  // Before the router's own click handler (capture), so a refusal stops it.
  const click = (e: MouseEvent) => {
    if (!dirty() || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element | null)?.closest?.("a[href]");
    const href = a?.getAttribute("href");
    if (!a || a.getAttribute("target") || !href || !href.startsWith("/")) return;
    if (!confirm(QUESTION)) {
      e.preventDefault();
      e.stopPropagation();
    }
  };
  const pop = () => {
    if (dirty() && location.pathname + location.search !== here && !confirm(QUESTION)) navigate(here);
  };
  addEventListener("beforeunload", unload);
  addEventListener("click", click, true);
  addEventListener("popstate", pop);
  return () => {
    removeEventListener("beforeunload", unload);
    removeEventListener("click", click, true);
    removeEventListener("popstate", pop);
  };
}

/** A run to start once there (the first save was "Save and run"): the step to test, or null. */
type Carried = { selected: string | null; tab: string; notice: string; run?: { step: string | null } };
const carried = new Map<string, Carried>();

/** What the editor of a just-created workflow keeps when it moves to its edit URL. */
export const carry = {
  give(id: string, c: Carried) {
    carried.set(id, c);
  },
  take(id: string): Carried | undefined {
    const c = carried.get(id);
    carried.delete(id);
    return c;
  },
};
