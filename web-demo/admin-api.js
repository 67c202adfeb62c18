// The admin endpoints (/v1/webhooks, /v1/channels) as the dashboard calls them. From loopback
// they answer without credentials when the server has no --admin-secret; otherwise the user
// pastes an admin bearer token, kept in sessionStorage (this tab only) and sent as
// `Authorization: Bearer …`. Failures are AdminError, with the HTTP status (0: no answer).

const TOKEN_KEY = 'kinto-push.admin-token';
const TIMEOUT_MS = 10_000;
const listeners = new Set();

export class AdminError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function adminToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) ?? ''; } catch { return ''; }
}

// Stores (or, empty, forgets) the token and tells the onAdminTokenChange listeners.
export function setAdminToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the token lasts as long as nothing */ }
  for (const fn of listeners) fn();
}

export function onAdminTokenChange(fn) { listeners.add(fn); }

// What to tell the user about a failed admin call.
export function describeAdminError(error) {
  if (!(error instanceof AdminError)) return String(error?.message ?? error);
  if (error.status === 401) {
    return `401 unauthorized: admin credentials needed (${adminToken() ? 'the admin token was refused' : 'paste an admin token'}). ${error.message}`;
  }
  if (error.status === 403) return `403 forbidden: this token does not allow it. ${error.message}`;
  if (error.status === 0) return `no answer from the server: ${error.message}`;
  if (error.status === 404) return `404: this server has no admin endpoints (an older kinto-push?). ${error.message}`;
  return `${error.status}: ${error.message}`;
}

export function isAuthError(error) {
  return error instanceof AdminError && (error.status === 401 || error.status === 403);
}

// Errors that asking again will not cure: credentials refused, or a server without the admin
// endpoints (404). Pollers stop on them until the token changes.
export function stopsPolling(error) {
  return isAuthError(error) || (error instanceof AdminError && error.status === 404);
}

// The HTTP origin of the server the dashboard talks to (a ws:// or wss:// URL gives http(s)://).
function httpOrigin(serverUrl) {
  const url = new URL(serverUrl, location.href);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  return url.origin;
}

// `serverUrl()` gives the current server URL (it may change while the page is open).
export function createAdminApi(serverUrl) {
  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = adminToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(`${httpOrigin(serverUrl())}${path}`, {
        method, headers, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new AdminError(0, error?.name === 'TimeoutError' ? `no answer within ${TIMEOUT_MS / 1000} s` : String(error?.message ?? error));
    }
    let answer = null;
    try { answer = await response.json(); } catch { /* not JSON */ }
    if (!response.ok) {
      const message = answer && typeof answer.message === 'string' ? answer.message : response.statusText;
      throw new AdminError(response.status, message);
    }
    return answer;
  }
  return {
    get: (path) => call('GET', path),
    patch: (path, body) => call('PATCH', path, body),
  };
}
