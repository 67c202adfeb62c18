// Types of kinto-push.js (the kinto-push client, over WebSocket or Server-Sent Events, with its
// transports in kinto-push-ws.js and kinto-push-sse.js and the helpers it re-exports from
// kinto-push-backoff.js and kinto-push-storage.js). See docs/js-client.md.

/** Where a client stands in one channel. */
export interface Position {
  /** The server history's epoch (offsets of different epochs are unrelated). */
  epoch: string;
  /** Offset of the last event seen, or of the channel's head when the client subscribed. */
  offset: number;
  /** Kinto timestamp (ETag) of the last event seen; null before the first one. */
  timestamp: number | null;
}

/** Keeps positions per channel; methods may return promises. */
export interface PositionStorage {
  get(channel: string): Position | null | undefined | Promise<Position | null | undefined>;
  set(channel: string, position: Position): void | Promise<void>;
  delete?(channel: string): void | Promise<void>;
}

export interface BackoffOptions {
  /** Bound of the first reconnection delay (default 500). */
  initialMs?: number;
  /** Largest delay (default 30000). */
  maxMs?: number;
  /** Growth of the bound per failed attempt (default 2). */
  factor?: number;
  /** Full jitter: a random delay in [0, bound] (default true). */
  jitter?: boolean;
}

/** `auto`: WebSocket, falling back to SSE while no WebSocket connection of this client ever opened. */
export type TransportOption = 'websocket' | 'sse' | 'auto';
export type Transport = 'websocket' | 'sse';

export interface ClientOptions {
  /** A JWT, or the value of a Kinto Authorization header; sent as ?access_token=. */
  token?: string | null;
  /** WebSocket (/v1/ws), Server-Sent Events (/v1/sse, read with fetch), or auto (default). */
  transport?: TransportOption;
  /** The fetch function of the SSE transport (default globalThis.fetch). */
  fetch?: typeof globalThis.fetch;
  /** Positions per channel (default memoryStorage()). */
  storage?: PositionStorage;
  /** A WebSocket constructor (default globalThis.WebSocket, else the `ws` package). */
  WebSocket?: unknown;
  backoff?: BackoffOptions;
  /** A connection without welcome by then is retried (default 10000). */
  connectTimeoutMs?: number;
  /**
   * Silence before a ping frame, and time to wait for its answer (default: the server's
   * heartbeat; 0 disables). Over SSE: reconnect after twice this much silence (default 45000).
   */
  pingIntervalMs?: number | null;
  /** Connect at once (default true). */
  autoConnect?: boolean;
}

/** Any object the Kinto event carries: at least id and last_modified. */
export interface KintoObject {
  id: string;
  last_modified: number;
  [key: string]: unknown;
}

export interface KintoPayload {
  timestamp: number;
  action: 'create' | 'update' | 'delete';
  uri: string;
  resource_name: string;
  user_id?: string;
  bucket_id?: string;
  collection_id?: string;
  record_id?: string;
  group_id?: string;
  [key: string]: unknown;
}

export interface EventFrame {
  type: 'event';
  channel: string;
  offset: number;
  timestamp: number;
  payload: KintoPayload;
  impacted_objects: Array<{ new?: KintoObject; old?: KintoObject }>;
  [key: string]: unknown;
}

export interface WelcomeFrame {
  type: 'welcome';
  /** null over SSE. */
  session: string | null;
  /** null over SSE when the browser hides the Server header (another origin). */
  server: string | null;
  /** null over SSE. */
  heartbeat: number | null;
  /** 'sse' when the connection is an SSE stream (absent over WebSocket). */
  transport?: 'sse';
}

export interface SubscribedFrame {
  type: 'subscribed';
  id?: string | number;
  channel: string;
  epoch: string;
  offset: number;
  recovered: boolean;
}

export interface UnsubscribedFrame {
  type: 'unsubscribed';
  id?: string | number;
  channel: string;
  /** Set when the server withdrew the channel (e.g. 'forbidden'). */
  reason?: string;
}

export interface AuthenticatedFrame {
  type: 'authenticated';
  id?: string | number;
  /** null over SSE. */
  sub: string | null;
  expires: number | null;
}

export type Since = { epoch: string; offset: number } | { timestamp: number };

export interface DisconnectInfo {
  code: number;
  reason: string;
  willReconnect: boolean;
  /** Delay before the next attempt, when willReconnect. */
  delayMs?: number;
}

export interface ResyncInfo {
  channel: string;
  /** Last Kinto timestamp seen on the channel (null if none): GET …/records?_since=<timestamp>. */
  timestamp: number | null;
  /** Where the client carries on. */
  epoch: string;
  offset: number;
  /** The position the server could not resume from. */
  previous: Position | null;
}

/** An error frame, or a client-side error. */
export interface ClientError {
  type: 'error' | 'transport' | 'close' | 'storage' | 'handler';
  /** The error frame's code (bad_request, unauthorized, forbidden, …) or the close code. */
  code?: string | number;
  /** Over SSE: the HTTP status of a refusal (400, 401, 403, 429, 503, …). */
  status?: number;
  /** Over SSE: 'sse' on a close that ended a stream. */
  transport?: 'sse';
  message?: string;
  id?: string | number;
  channel?: string;
  reason?: string;
  event?: string;
  error?: unknown;
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unauthorized' | 'failed' | 'closed';

export interface EventMeta {
  /** True for an event replayed after a resume (offset <= subscribed.offset). */
  replay: boolean;
}

export interface SubscribedMeta {
  /** The `since` sent with the subscribe, or null. */
  since: Since | null;
  /** True when the client asked to resume (a `since` was sent). */
  resumed: boolean;
}

export interface ClientEvents {
  connect: (welcome: WelcomeFrame) => void;
  disconnect: (info: DisconnectInfo) => void;
  event: (event: EventFrame, meta: EventMeta) => void;
  resync: (info: ResyncInfo) => void;
  subscribed: (frame: SubscribedFrame, meta: SubscribedMeta) => void;
  unsubscribed: (frame: UnsubscribedFrame) => void;
  error: (error: ClientError) => void;
  state: (state: ClientState) => void;
  authenticated: (frame: AuthenticatedFrame) => void;
}

export declare const DEFAULT_BACKOFF: Readonly<Required<BackoffOptions>>;

/** Delay before reconnection attempt `attempt` (0-based): within [0, maxMs]. */
export declare function backoffDelay(attempt: number, options?: BackoffOptions, random?: () => number): number;

export declare function memoryStorage(): PositionStorage & { entries(): Array<[string, Position]> };

export declare function localStorageStorage(prefix?: string, store?: Storage): PositionStorage;

/** http(s)://host → ws(s)://host/v1/ws; a ws(s):// URL with a path is kept. */
export declare function webSocketUrl(url: string): string;

/** http(s)://host (or ws(s)://host/v1/ws) → http(s)://host/v1/sse; another path is kept. */
export declare function sseUrl(url: string): string;

export declare class KintoPushClient {
  constructor(url: string, options?: ClientOptions);
  /** The WebSocket URL. */
  readonly url: string;
  /** The SSE URL. */
  readonly sseUrl: string;
  /** The transport in use (with 'auto': 'websocket' until it falls back to 'sse'). */
  readonly transport: Transport;
  token: string | null;
  readonly storage: PositionStorage;
  readonly backoff: Required<BackoffOptions>;
  readonly state: ClientState;
  readonly welcome: WelcomeFrame | null;
  /** Failed connection attempts since the last welcome. */
  readonly attempt: number;
  /** Connections that reached welcome. */
  readonly connections: number;

  on<K extends keyof ClientEvents>(name: K, fn: ClientEvents[K]): this;
  once<K extends keyof ClientEvents>(name: K, fn: ClientEvents[K]): this;
  off<K extends keyof ClientEvents>(name: K, fn: ClientEvents[K]): this;

  subscribe(
    channel: string,
    handler?: (event: EventFrame, meta: EventMeta) => void,
    options?: { since?: Since },
  ): Promise<SubscribedFrame>;
  unsubscribe(channel: string, options?: { keepPosition?: boolean }): Promise<void>;
  channels(): string[];
  position(channel: string): Position | null;
  setToken(token: string | null): void;
  connect(): void;
  close(): Promise<void>;
}

export default KintoPushClient;
