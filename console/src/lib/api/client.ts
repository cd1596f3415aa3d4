// The console's only way to the server: a client typed by the OpenAPI
// document (schema.d.ts is generated from it by scripts/gen-api.mjs).
//
// A browser session sends its cookie and, on every unsafe request, the
// session's CSRF token; an API key (operators, or a fallback) is sent as a
// bearer token and kept in this tab only (sessionStorage).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

/** An error answer of the API, with its stable code and the problems it lists. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = undefined,
  ) {
    super(message);
  }

  /** The definition problems of an `invalid_workflow` (or any listed problems). */
  get problems(): Problem[] {
    const d = this.details as { path?: unknown; message?: unknown }[] | undefined;
    if (!Array.isArray(d)) return [];
    return d
      .filter((p) => typeof p?.message === "string")
      .map((p) => ({ path: String(p.path ?? ""), message: String(p.message) }));
  }
}

export const auth = {
  csrf: "" as string,
  key: sessionStorage.getItem("weft.key") ?? "",
  onUnauthenticated: () => {},
};

export function setKey(key: string) {
  auth.key = key;
  if (key) sessionStorage.setItem("weft.key", key);
  else sessionStorage.removeItem("weft.key");
}

const credentials: Middleware = {
  onRequest({ request }) {
    if (auth.key) request.headers.set("authorization", `Bearer ${auth.key}`);
    else if (auth.csrf && !["GET", "HEAD"].includes(request.method)) {
      request.headers.set("x-csrf-token", auth.csrf);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin, credentials: "same-origin" });
api.use(credentials);

/** The data of an answer, or an [`ApiError`] for an error answer. */
export async function ok<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let res;
  try {
    res = await call;
  } catch (e) {
    throw new ApiError(0, "network", `The server cannot be reached (${(e as Error).message}).`);
  }
  if (res.response.ok) return res.data as T;
  const body = res.error as { error?: { code?: string; message?: string; details?: unknown } } | undefined;
  const err = new ApiError(
    res.response.status,
    body?.error?.code ?? "http_" + res.response.status,
    body?.error?.message ?? `${res.response.status} ${res.response.statusText}`,
    body?.error?.details,
  );
  if (res.response.status === 401) auth.onUnauthenticated();
  throw err;
}

/** A plain request outside the typed paths (text answers such as CSV). */
export async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (auth.key) headers.set("authorization", `Bearer ${auth.key}`);
  else if (auth.csrf && init.method && !["GET", "HEAD"].includes(init.method)) {
    headers.set("x-csrf-token", auth.csrf);
  }
  return fetch(path, { ...init, headers, credentials: "same-origin" });
}
