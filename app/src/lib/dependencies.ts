import { readFileSync } from "node:fs";
import { connect as netConnect, isIP, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { Cluster } from "ioredis";
import { Kafka, logLevel as kafkaLogLevel, type Admin, type ISocketFactory, type SASLOptions } from "kafkajs";
import { MongoClient } from "mongodb";
import type { Logger } from "./log";
import type { Check } from "./readiness";

/**
 * The app's connections to MongoDB, Redis and Kafka, built from the environment the data layer's
 * Secret provides (MONGODB_URI, REDIS_NODES, REDIS_PASSWORD, KAFKA_BROKERS, KAFKA_USERNAME,
 * KAFKA_PASSWORD, KAFKA_SASL_MECHANISM, and the TLS settings: MONGODB_URI's own `tlsCAFile`,
 * KAFKA_CA_FILE, REDIS_TLS, REDIS_CA_FILE and REDIS_TLS_SERVERNAME). The CA files are the platform's
 * internal CA, mounted from a Secret: every data connection is verified against it.
 *
 * Each client is created on first use and kept, as the business code would keep it; a client whose
 * check failed is closed and rebuilt on the next check, so a dead connection never lingers and the
 * drivers' own infinite reconnection loops never run in the background.
 */
export type Env = Record<string, string | undefined>;

export class NotConfiguredError extends Error {
  readonly publicReason = "not-configured";
  constructor(variable: string) {
    super(`${variable} is not set`);
    this.name = "NotConfiguredError";
  }
}

/** An error whose reason is stated by the check (see `failureReason` in readiness.ts). */
export class DependencyError extends Error {
  constructor(
    message: string,
    readonly publicReason: string,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = "DependencyError";
  }
}

function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new NotConfiguredError(name);
  return v;
}

/** A malformed setting: reported as `misconfigured`, its message names the variable, never its value. */
export class ConfigurationError extends Error {
  readonly publicReason = "misconfigured";
  constructor(message: string) {
    super(message);
    this.name = "ConfigurationError";
  }
}

const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/**
 * `host:port,host:port` → `[{host, port}]`; IPv6 literals in brackets (`[::1]:6379`) are accepted.
 * A bad entry is named by its position only: these variables come from a Secret, and an entry
 * pasted with its credentials (`user:password@host`) must not reach the logs.
 */
export function parseHostList(value: string, defaultPort: number, variable = "the host list"): { host: string; port: number }[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(entry) ?? /^([^:[\]]+)(?::(\d{1,5}))?$/.exec(entry);
      const port = m?.[2] ? Number(m[2]) : defaultPort;
      if (!m || (!entry.startsWith("[") && !HOSTNAME.test(m[1])) || port < 1 || port > 65535) {
        throw new ConfigurationError(`entry ${i + 1} of ${variable} is not a host:port pair`);
      }
      return { host: m[1], port };
    });
}

export interface Dependency {
  check: Check;
  close(): Promise<void>;
}

interface Options {
  /** Bound of one connection attempt or command, in milliseconds. */
  timeoutMs: number;
  log: Logger;
}

/** Runs `probe` against a client built by `open`, keeping the client while it works. */
function keptClient<C>(open: () => C, probe: (c: C) => Promise<void>, dispose: (c: C) => Promise<void>): Dependency {
  let client: C | undefined;
  const closeClient = async (c: C | undefined) => {
    if (c === undefined) return;
    if (client === c) client = undefined;
    await dispose(c).catch(() => undefined);
  };
  return {
    check: async () => {
      const c = (client ??= open());
      try {
        await probe(c);
      } catch (err) {
        // Only this client: a probe failing late must not close the one built after it.
        await closeClient(c);
        throw err;
      }
    },
    close: () => closeClient(client),
  };
}

/**
 * The drivers' own timeouts, a little below the check's bound: the driver gives up first, with
 * its own error and its cause, and closes what it opened before the check is reported as failed.
 */
const driverTimeout = (timeoutMs: number) => Math.max(100, timeoutMs - 250);

export function mongodb(env: Env, { timeoutMs }: Options): Dependency {
  return keptClient(
    () =>
      new MongoClient(required(env, "MONGODB_URI"), {
        appName: "diaspomoney-web",
        serverSelectionTimeoutMS: driverTimeout(timeoutMs),
        connectTimeoutMS: driverTimeout(timeoutMs),
        maxPoolSize: 20,
      }),
    async (c) => {
      await c.db("admin").command({ ping: 1 });
    },
    (c) => c.close(),
  );
}

export function redis(env: Env, { timeoutMs, log }: Options): Dependency {
  return keptClient(
    () => {
      const nodes = parseHostList(required(env, "REDIS_NODES"), 6379, "REDIS_NODES");
      const cluster = new Cluster(nodes, {
        lazyConnect: true,
        // Fail fast instead of queueing commands while disconnected: the check must answer now.
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
        slotsRefreshTimeout: driverTimeout(timeoutMs),
        redisOptions: { password: env.REDIS_PASSWORD || undefined, connectTimeout: driverTimeout(timeoutMs), commandTimeout: driverTimeout(timeoutMs), maxRetriesPerRequest: 0, tls: redisTls(env) },
      });
      // Without a listener, an 'error' event would crash the process.
      cluster.on("error", (err) => log.debug("redis client error", { err }));
      return cluster;
    },
    async (c) => {
      try {
        if (c.status === "wait") await c.connect();
      } catch (err) {
        // ioredis discards the nodes' own errors (refused, DNS, timeout) while discovering the
        // cluster and reports only this: name it for what it means.
        if (err instanceof Error && /None of startup nodes is available/.test(err.message)) {
          throw new DependencyError("no Redis startup node answered", "unreachable", err);
        }
        throw err;
      }
      await c.ping();
    },
    async (c) => {
      c.disconnect();
    },
  );
}

function kafkaSasl(env: Env): SASLOptions | undefined {
  const username = env.KAFKA_USERNAME;
  if (!username) return undefined;
  const mechanism = (env.KAFKA_SASL_MECHANISM || "scram-sha-512").toLowerCase();
  if (mechanism !== "scram-sha-512" && mechanism !== "scram-sha-256" && mechanism !== "plain") {
    throw new ConfigurationError(`unsupported KAFKA_SASL_MECHANISM ${JSON.stringify(env.KAFKA_SASL_MECHANISM)}`);
  }
  return { mechanism, username, password: required(env, "KAFKA_PASSWORD") };
}

/** A PEM file named by `variable`, if set. */
function caFile(env: Env, variable: string): string | undefined {
  const file = env[variable]?.trim();
  return file ? readFileSync(file, "utf8") : undefined;
}

/**
 * TLS is on unless KAFKA_TLS=false: with KAFKA_CA_FILE (the internal CA, PEM) the broker
 * certificate is verified against it, otherwise against the system roots.
 */
export function kafkaTls(env: Env): { ca: string[] } | boolean {
  if (env.KAFKA_TLS === "false") return false;
  const ca = caFile(env, "KAFKA_CA_FILE");
  return ca ? { ca: [ca] } : true;
}

/**
 * With REDIS_TLS=true, every node's certificate is verified against REDIS_CA_FILE under one name,
 * REDIS_TLS_SERVERNAME: cluster nodes announce IP addresses, which no certificate names.
 */
export function redisTls(env: Env): { ca?: string; servername?: string } | undefined {
  if (env.REDIS_TLS !== "true") return undefined;
  const ca = caFile(env, "REDIS_CA_FILE");
  const servername = env.REDIS_TLS_SERVERNAME?.trim();
  return { ...(ca ? { ca } : {}), ...(servername ? { servername } : {}) };
}

export function kafka(env: Env, { timeoutMs }: Options): Dependency {
  return keptClient<{ admin: Admin; sockets: Set<Socket>; connected?: Promise<void> }>(
    () => {
      // kafkajs ends a socket it gives up on (FIN) and waits for the broker's answer: a broker that
      // accepts and never answers would keep every such socket, one per failed check. The client's
      // sockets are tracked so that closing the client destroys them all.
      const sockets = new Set<Socket>();
      const defaultFactory = (({ host, port, ssl, onConnect }) =>
        ssl ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect) : netConnect({ host, port }, onConnect)) satisfies ISocketFactory;
      const socketFactory: ISocketFactory = (args) => {
        const socket = defaultFactory(args);
        socket.setKeepAlive(true, 60_000);
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        return socket;
      };
      const client = new Kafka({
        clientId: "diaspomoney-web",
        brokers: parseHostList(required(env, "KAFKA_BROKERS"), 9093, "KAFKA_BROKERS").map((b) => `${b.host}:${b.port}`),
        ssl: kafkaTls(env),
        sasl: kafkaSasl(env),
        socketFactory,
        connectionTimeout: driverTimeout(timeoutMs),
        authenticationTimeout: driverTimeout(timeoutMs),
        requestTimeout: driverTimeout(timeoutMs),
        retry: { retries: 0 },
        // Its error logs repeat, line by line, the error the readiness check logs with its cause.
        logLevel: kafkaLogLevel.NOTHING,
      });
      return { admin: client.admin({ retry: { retries: 0 } }), sockets };
    },
    async (c) => {
      c.connected ??= c.admin.connect();
      await c.connected;
      await c.admin.describeCluster();
    },
    async (c) => {
      // Not awaited: on a silent broker disconnect() waits for answers that never come.
      void c.admin.disconnect().catch(() => undefined);
      for (const socket of c.sockets) socket.destroy();
    },
  );
}

export interface Dependencies {
  checks: Record<string, Check>;
  close(): Promise<void>;
}

export function dependencies(env: Env, opts: Options): Dependencies {
  const all = { mongodb: mongodb(env, opts), redis: redis(env, opts), kafka: kafka(env, opts) };
  return {
    checks: Object.fromEntries(Object.entries(all).map(([k, d]) => [k, d.check])),
    close: async () => {
      await Promise.all(Object.values(all).map((d) => d.close()));
    },
  };
}
