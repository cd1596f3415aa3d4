// Who is signed in: a browser session (cookie + CSRF token), or an API key
// held in this tab (operators; tenants as a fallback).
import { api, auth, ok, setKey, type Schemas } from "./api/client";
import { navigate } from "./router.svelte";

type Role = Schemas["Role"];

export const session = $state({
  /** "cookie", "key", "operator", or null while signed out. */
  mode: null as null | "cookie" | "key" | "operator",
  info: null as Schemas["SessionInfo"] | null,
  loaded: false,
});

const rank: Record<Role, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** Whether the signed-in user has at least `role` (an API key: unknown, so
 * the server decides and the console shows its refusal). */
export function can(role: Role): boolean {
  if (session.mode === "key") return true;
  const r = session.info?.role;
  return !!r && rank[r] >= rank[role];
}

auth.onUnauthenticated = () => {
  if (!session.mode) return;
  clear();
  navigate("/login?expired=1");
};

function clear() {
  // What this console kept in the browser (editor drafts, pinned sample
  // inputs) may hold real data: a shared machine keeps none of it.
  for (const k of Object.keys(localStorage)) {
    if (k.startsWith("weft.") && k !== "weft.theme") localStorage.removeItem(k);
  }
  session.mode = null;
  session.info = null;
  auth.csrf = "";
  setKey("");
}

/** Finds out who is signed in (at start). */
export async function load() {
  try {
    if (auth.key) {
      session.mode = auth.key.startsWith("weft_op_") ? "operator" : "key";
      return;
    }
    const res = await api.GET("/v1/auth/session");
    if (res.response.ok && res.data) {
      session.info = res.data;
      auth.csrf = res.data.csrf_token;
      session.mode = "cookie";
    }
  } catch {
    // Signed out.
  } finally {
    session.loaded = true;
  }
}

export async function login(email: string, password: string, totp?: string) {
  const info = await ok(api.POST("/v1/auth/login", { body: { email, password, totp: totp || undefined } }));
  session.info = info;
  auth.csrf = info.csrf_token;
  session.mode = "cookie";
}

/** Signs in with an API key, checked by one call before it is kept. */
export async function loginWithKey(typed: string) {
  const key = typed.trim();
  setKey(key);
  try {
    if (key.startsWith("weft_op_")) await ok(api.GET("/v1/ops/tenants", {}));
    else await ok(api.GET("/v1/workflows", { params: { query: { limit: 1 } } }));
  } catch (e) {
    setKey("");
    throw e;
  }
  session.mode = key.startsWith("weft_op_") ? "operator" : "key";
}

export async function switchTenant(tenant: string) {
  const info = await ok(api.POST("/v1/auth/switch", { body: { tenant } }));
  session.info = info;
  auth.csrf = info.csrf_token;
}

export async function logout() {
  if (session.mode === "cookie") await api.POST("/v1/auth/logout").catch(() => {});
  clear();
  navigate("/login");
}
