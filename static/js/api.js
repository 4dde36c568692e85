// JSON client for /api/v1. Tokens live in sessionStorage only: terminals are shared,
// so closing the tab forgets the sign-in.
import { t, hasText } from "./i18n.js";

const BASE = "/api/v1";
const SESSION_KEY = "mmt.session";

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const sessionEndListeners = new Set();
let refreshing = null;

function readSession() {
  return JSON.parse(sessionStorage.getItem(SESSION_KEY));
}

function saveSession({ access_token, refresh_token, user }) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ access_token, refresh_token, user }));
}

export function currentUser() {
  return readSession()?.user ?? null;
}

export function setCurrentUser(user) {
  const session = readSession();
  if (session) saveSession({ ...session, user });
}

/** Called once when the sign-in is lost (refresh refused); the app shows the login page. */
export function onSessionEnd(listener) {
  sessionEndListeners.add(listener);
}

function endSession() {
  if (!readSession()) return;
  sessionStorage.removeItem(SESSION_KEY);
  for (const listener of sessionEndListeners) listener();
}

/**
 * One HTTP exchange. `extra.headers` are added; `extra.raw` (a Blob or File) is sent as
 * the body with its own content type instead of JSON.
 */
async function send(method, path, body, token, extra = {}) {
  const headers = { Accept: extra.accept ?? "application/json", ...extra.headers };
  let payload;
  if (extra.raw !== undefined) {
    headers["Content-Type"] = extra.contentType || extra.raw.type || "application/octet-stream";
    payload = extra.raw;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  if (token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(BASE + path, { method, headers, body: payload });
  } catch {
    throw new ApiError(0, "network_error", t("error.network_error"));
  }
}

/** The parsed JSON of a success (null for 204), else throws an ApiError. */
async function parse(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = undefined;
  }
  if (response.ok && data !== undefined) return data;
  const error = data?.error;
  if (error?.code) throw new ApiError(response.status, error.code, error.message, error.details ?? {});
  throw new ApiError(response.status, "unexpected_response", "");
}

/**
 * A fresh access token after a 401 with `usedToken`, or null when the refresh is refused.
 * Concurrent callers share one refresh, because each refresh token works only once.
 */
function renew(usedToken) {
  const session = readSession();
  if (!session) return Promise.resolve(null);
  if (session.access_token !== usedToken) return Promise.resolve(session.access_token);
  refreshing ??= (async () => {
    const response = await send("POST", "/auth/refresh", { refresh_token: session.refresh_token });
    // A refused refresh token ends the session; a server fault (5xx) is just an error.
    if (response.status >= 400 && response.status < 500) return null;
    const data = await parse(response);
    saveSession(data);
    return data.access_token;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** The response to an authenticated request, after one token refresh if the first try got 401. */
async function authorized(method, path, body, extra) {
  const session = readSession();
  if (!session) throw new ApiError(401, "unauthenticated", "");
  let response = await send(method, path, body, session.access_token, extra);
  if (response.status === 401) {
    const token = await renew(session.access_token);
    if (token) response = await send(method, path, body, token, extra);
    if (!token || response.status === 401) endSession();
  }
  return response;
}

async function request(method, path, body, extra) {
  return parse(await authorized(method, path, body, extra));
}

/** The body of a successful GET as a Blob (a photo, a PDF), else throws an ApiError. */
async function fetchBlob(path) {
  const response = await authorized("GET", path, undefined, { accept: "*/*" });
  if (response.ok) return response.blob();
  await parse(response);
  throw new ApiError(response.status, "unexpected_response", "");
}

export const api = {
  get: (path) => request("GET", path),
  /** `headers` e.g. { "Idempotency-Key": key } for writes a terminal may retry. */
  post: (path, body = {}, headers = {}) => request("POST", path, body, { headers }),
  patch: (path, body) => request("PATCH", path, body),
  /** PUT of a raw body (a photo file) with its own content type. */
  putRaw: (path, blob, contentType) => request("PUT", path, undefined, { raw: blob, contentType }),
  blob: fetchBlob,
};

/** The access token of this tab's sign-in: kept with each dose given offline. */
export function accessToken() {
  return readSession()?.access_token ?? null;
}

/**
 * Uploads a dose the window gave offline, with the token of the nurse signed in when it was
 * given (the server takes it for this until the end of that dose day); if that token is
 * refused and the tab has signed in since, with the current one. The server's answer, or an
 * ApiError (`network_error` when it cannot be reached). Never ends the session.
 */
export async function uploadOfflineDose(body, key, token) {
  const headers = { "Idempotency-Key": key };
  let response = await send("POST", "/doses", body, token, { headers });
  const current = accessToken();
  if (response.status === 401 && current && current !== token) response = await send("POST", "/doses", body, current, { headers });
  return parse(response);
}

/** Signs in and keeps the tokens; returns the user. */
export async function login(username, password) {
  const data = await parse(await send("POST", "/auth/login", { username, password }));
  saveSession(data);
  return data.user;
}

/** Revokes the session on the server when it can be reached, and always forgets it here. */
export async function logout() {
  const session = readSession();
  if (!session) return;
  try {
    const response = await send("POST", "/auth/logout", undefined, session.access_token);
    if (response.status === 401) {
      const token = await renew(session.access_token);
      if (token) await send("POST", "/auth/logout", undefined, token);
    }
  } catch {
    // Server unreachable: forgetting the tokens still signs this terminal out.
  } finally {
    sessionStorage.removeItem(SESSION_KEY);
  }
}

/** The text to show for an error: our translation of its code if we have one, else the server's words. */
export function errorText(error) {
  const key = `error.${error.code}`;
  if (!hasText(key)) return error.message || t("error.unexpected_response", { status: error.status });
  const text = t(key, { status: error.status });
  return error.code === "validation_failed" && error.message
    ? t("error.with_detail", { text, message: error.message })
    : text;
}
