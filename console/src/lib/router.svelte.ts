// The console's router: history-API paths (the server answers every console
// path with index.html), matched against the route table in App.svelte.
export type Params = Record<string, string>;

export const location_ = $state({ path: location.pathname, query: new URLSearchParams(location.search) });

export function navigate(to: string, replace = false) {
  const url = new URL(to, location.origin);
  if (url.origin !== location.origin) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  sync();
  window.scrollTo(0, 0);
}

/** Updates the query string without a new history entry (filters). */
export function setQuery(params: Record<string, string | undefined | null>) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === "") q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
  sync();
}

function sync() {
  location_.path = location.pathname;
  location_.query = new URLSearchParams(location.search);
}

addEventListener("popstate", sync);

// Same-origin links navigate inside the application.
addEventListener("click", (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || a.target || a.hasAttribute("download")) return;
  const href = a.getAttribute("href");
  if (!href || !href.startsWith("/") || href.startsWith("//")) return;
  if (/^\/(v1|hooks|resume|openapi\.json)(\/|$)/.test(href)) return;
  e.preventDefault();
  navigate(href);
});

/** Matches `/runs/:id` against a path; the params, or null. */
export function match(pattern: string, path: string): Params | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(":")) params[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return params;
}
