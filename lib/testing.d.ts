// `genesys-tenants/testing`: a local Genesys Cloud (the emulator) for your own tests.
import type { GatewayOptions, TenantOrchestratorOptions } from '../index';

/** A world: orgs, their data, and the OAuth clients (tenants) the emulator's config service serves. See the README. */
export interface EmulatorWorld {
  orgs: Array<{
    id: string;
    name: string;
    /** A Genesys Cloud region host, e.g. `mypurecloud.ie`. */
    region: string;
    /** When true, calls fail with 403 `app.not.authorized.for.scope` unless the client holds an accepted scope. */
    scopeEnforcement?: boolean;
    users?: number;
    queues?: number;
    conversations?: { count: number; interval: string };
  }>;
  clients: Array<{
    tenantId: string;
    clientId: string;
    /** Random at each start when empty or absent. */
    secret?: string;
    orgId: string;
    name?: string;
    permissions?: string[];
    scopes?: string[];
    tokenLifetimeSeconds?: number;
    rateLimit?: { limit: number; windowSeconds: number };
    tokenRateLimit?: { limit: number; windowSeconds: number };
    state?: 'active' | 'disabled' | 'inactive';
    requiredScopes?: string[];
    rotationIntervalMs?: number;
  }>;
  rateLimitHeaders?: boolean;
  jobDelayMs?: number;
  [key: string]: unknown;
}

export interface StartEmulatorOptions {
  /** A world object (serialisable as JSON), or the path of an existing world JSON file. Default: the built-in demo world. */
  world?: EmulatorWorld | string;
  /** Main port, 0–65535. Default 0 (any free port). */
  port?: number;
  /** Port of the dedicated config-service listener, 0–65535 and not `port`. Default 0. */
  configPort?: number;
  /**
   * The `X-Service-Token` of the config service and the control API: visible ASCII (spaces inside only),
   * 1–4096 characters, not `--help` or `-h`. Default: random.
   */
  token?: string;
  /** How long to wait for the emulator to start. Default 10000. */
  startTimeoutMs?: number;
}

/** A running emulator on 127.0.0.1. */
export interface Emulator {
  /** Login, Platform API, config service and control API, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The dedicated config-service listener. */
  configUrl: string;
  /** The config service's `X-Service-Token` (pass it as `configServiceToken`). */
  configServiceToken: string;
  port: number;
  /** The orchestrator's `gateway` option (and the SDK's `setGateway` argument) for this emulator. */
  gateway: Required<Pick<GatewayOptions, 'protocol' | 'host' | 'port'>>;
  /** `{ configEndpoint, configServiceToken, gateway }` merged with `extra`: options for `new TenantOrchestrator()`. */
  options(extra?: Partial<TenantOrchestratorOptions>): TenantOrchestratorOptions;
  /** Calls the control API (`/__control/<path>`): faults, counters, clock. Rejects with code `EMULATOR_CONTROL` on a non-2xx. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The Notifications API's controls: publish events, warn, expire, kill or silence sockets, counters. */
  notifications: EmulatorNotifications;
  /** The config service's tenant list, secrets included. */
  tenants(): Promise<Array<Record<string, unknown>>>;
  /** Stops it; resolves once the process has exited (no open handle is left). Idempotent. */
  stop(): Promise<void>;
}

/** A channel, or every channel of an OAuth client. */
export type NotificationTarget = { channelId: string; clientId?: never } | { clientId: string; channelId?: never };

/** What the emulator's Notifications API does; each applies to channels and sockets created after the change. */
export interface EmulatorNotificationSettings {
  /** Heartbeat period. Default 30000. */
  heartbeatMs?: number;
  /** A channel's lifetime (its `expires`). Default 86400000 (24 h). */
  channelLifetimeMs?: number;
  /** Channels per OAuth client before the oldest is evicted. Default 20. */
  maxChannelsPerClient?: number;
  /** Topics per channel; more is a 400. Default 1000. */
  maxTopicsPerChannel?: number;
  /** Events queued per socket before a publisher waits (5 s), then drops. Default 1024. */
  socketQueue?: number;
  /** A fault: `connectUri` under this `ws://`/`wss://` base instead of the emulator's own; `null` restores. */
  connectUriBase?: string | null;
  /** A channel goes when the token that created it is revoked (at once) or expires (within 5 s). Default false. */
  channelsDieWithToken?: boolean;
}

export interface PublishOptions {
  /** Events to publish. Default 1. */
  count?: number;
  /** Only channels of clients in this org. */
  orgId?: string;
  /** Only channels of this OAuth client. */
  clientId?: string;
  /** Pace: events per second. Default: as fast as the sockets take them. */
  ratePerSecond?: number;
  /** Fields of each event's `eventBody` (besides `seq`). */
  eventBody?: Record<string, unknown>;
  /** `eventBody.seq` of the first event; each next one is one more. Default 1. */
  startSeq?: number;
  /** Answer at once (202) and publish in the background; follow it with `publication(id)`. Default false. */
  background?: boolean;
}

/** A publication's progress. `queued`: event × socket deliveries queued; `undelivered`: those with no (listening) socket. */
export interface Publication {
  id: number;
  topic: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
  published: number;
  queued: number;
  undelivered: number;
  done: boolean;
}

export interface NotificationCounters {
  clients: Record<
    string,
    {
      channelsCreated: number;
      evictions: number;
      expired: number;
      subscriptionCalls: number;
      topicLimitRefusals: number;
      tokenDeaths: number;
    }
  >;
  channels: Array<{
    id: string;
    clientId: string;
    orgId: string;
    topics: number;
    connected: boolean;
    silenced: boolean;
    delivered: number;
    dropped: number;
    connections: number;
    expires: string;
  }>;
  liveChannels: number;
  liveSockets: number;
  eventsDelivered: number;
  undelivered: number;
  settings: Required<Omit<EmulatorNotificationSettings, 'connectUriBase'>> & { connectUriBase: string | null };
}

/** `Emulator.notifications`: the control calls under `/__control/notifications`. */
export interface EmulatorNotifications {
  counters(): Promise<NotificationCounters>;
  settings(settings: EmulatorNotificationSettings): Promise<Required<EmulatorNotificationSettings>>;
  /** Publishes `count` events on `topic` to every channel subscribed to it (one CorrelationId per event). */
  publish(topic: string, options?: PublishOptions): Promise<Publication>;
  publication(id: number): Promise<Publication>;
  cancelPublication(id: number): Promise<Publication>;
  /** Sends `v2.system.socket_closing`, then closes the socket after `graceMs` (default 60000); the channel stays. */
  socketClosing(target: NotificationTarget, options?: { graceMs?: number }): Promise<{ channels: number; sockets: number }>;
  /** Expires now: close frame, channel gone. */
  expire(target: NotificationTarget): Promise<{ channels: number; sockets: number }>;
  /** Closes the TCP connection without a close frame; the channel stays. */
  kill(target: NotificationTarget): Promise<{ channels: number; sockets: number }>;
  /** No heartbeat, event or pong any more; the connection stays open. */
  silence(target: NotificationTarget): Promise<{ channels: number; sockets: number }>;
}

/** Codes of the errors `startEmulator` and `Emulator.control` reject with. */
export type TestingErrorCode = 'EMULATOR_MISSING' | 'EMULATOR_START_FAILED' | 'EMULATOR_CONTROL' | 'INVALID_OPTIONS';

/**
 * Starts the emulator that ships in the platform package (`GENESYS_EMULATOR_BIN` overrides) and resolves
 * once it serves. Rejects with `EMULATOR_MISSING`, `EMULATOR_START_FAILED` or `INVALID_OPTIONS` (with
 * `option` naming the option; an option the emulator could not work with is refused before anything starts).
 */
export declare function startEmulator(options?: StartEmulatorOptions): Promise<Emulator>;

/** The emulator binary `startEmulator` would run, or null when none is installed. */
export declare function emulatorPath(): string | null;
