// A real, local Kubernetes control plane for the e2e: etcd, kube-apiserver and kube-controller-manager
// built from their Go modules by e2e/engine/build.sh, started as child processes on free 127.0.0.1
// ports, with a throwaway PKI. No kubelet and no scheduler: objects are admitted, stored, defaulted,
// garbage-collected and finalized as on a real cluster, but no Pod ever runs (a Deployment never
// becomes available).
//
//   const cp = await startControlPlane({ binDir, workDir });
//   ... KUBECONFIG=cp.kubeconfig, context cp.context ...
//   await cp.stop();
//
// What the API server enforces is the default of its release: authorization Node,RBAC; the default
// admission plugins, among them PodSecurity, LimitRanger, ResourceQuota and ServiceAccount. Logs of
// each process go to <workDir>/logs/.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";

export interface ControlPlaneOptions {
  /** The directory holding etcd, kube-apiserver and kube-controller-manager (build.sh's `bin/`). */
  binDir: string;
  /** A fresh directory for this control plane's PKI, data, kubeconfigs and logs. */
  workDir: string;
  /** How long to wait for each process to be ready, in milliseconds (default 120 s: the first start
   * of the API server installs its CRD and RBAC defaults). */
  readyTimeoutMs?: number;
}

export interface ControlPlane {
  /** Path of a kubeconfig for an administrator (group system:masters) of this control plane. */
  kubeconfig: string;
  /** The kubeconfig's context name. */
  context: string;
  /** The API server's URL, https://127.0.0.1:<port>. */
  server: string;
  /** The directory with the processes' logs. */
  logDir: string;
  /** GET a path of the API server as the administrator, e.g. `/api/v1/namespaces/default`. */
  get(apiPath: string): Promise<{ status: number; body: string }>;
  /** Stops the three processes (controller manager, API server, then etcd) and waits for them. */
  stop(): Promise<void>;
}

/** The kubeconfig context the e2e uses; any other context is someone's real cluster. */
export const E2E_CONTEXT = "e2e-local";

/** The services' range; the API server's own Service takes its first address, 10.96.0.1. */
const SERVICE_CIDR = "10.96.0.0/16";
const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const timeout = opts.readyTimeoutMs ?? 120_000;
  const workDir = path.resolve(opts.workDir);
  const dirs = { pki: path.join(workDir, "pki"), etcd: path.join(workDir, "etcd"), logs: path.join(workDir, "logs") };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  const pki = createPki(dirs.pki);
  const [etcdClient, etcdPeer, apiPort, cmPort] = await freePorts(4);
  const server = `https://127.0.0.1:${apiPort}`;
  const procs = new Processes(dirs.logs);
  const admin = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };

  try {
    procs.start("etcd", path.join(opts.binDir, "etcd"), [
      "--name=e2e",
      `--data-dir=${dirs.etcd}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
      // A test cluster's data is thrown away: no fsync keeps etcd fast on a shared disk.
      "--unsafe-no-fsync",
    ]);
    await procs.waitFor("etcd", timeout, async () => {
      const res = await get({ url: `http://127.0.0.1:${etcdClient}/health` });
      return res.status === 200 && res.body.includes('"health":"true"');
    });

    procs.start("kube-apiserver", path.join(opts.binDir, "kube-apiserver"), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccount.publicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccount.key}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      // Privileged Pods are admitted at the API level, as on a kubeadm cluster: Pod Security
      // admission, not this flag, is what the platform relies on.
      "--allow-privileged=true",
      // A loopback address cannot be an endpoint of the `kubernetes` Service: do not publish one.
      "--endpoint-reconciler-type=none",
      `--cert-dir=${dirs.pki}`,
      "--profiling=false",
    ]);
    await procs.waitFor("kube-apiserver", timeout, async () => {
      const res = await get({ url: `${server}/readyz`, ...admin });
      return res.status === 200;
    });

    const cmKubeconfig = path.join(workDir, "controller-manager.kubeconfig");
    writeKubeconfig(cmKubeconfig, server, pki.ca.cert, pki.controllerManager, "system:kube-controller-manager");
    procs.start("kube-controller-manager", path.join(opts.binDir, "kube-controller-manager"), [
      `--kubeconfig=${cmKubeconfig}`,
      `--authentication-kubeconfig=${cmKubeconfig}`,
      `--authorization-kubeconfig=${cmKubeconfig}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${cmPort}`,
      `--cert-dir=${dirs.pki}`,
      // No front proxy: do not look up its CA in the cluster (an error line every few seconds).
      "--authentication-skip-lookup=true",
      `--client-ca-file=${pki.ca.cert}`,
      // Its default is a host directory (/usr/libexec/kubernetes/...), which it creates.
      `--flex-volume-plugin-dir=${path.join(workDir, "flexvolume")}`,
      `--service-account-private-key-file=${pki.serviceAccount.key}`,
      `--root-ca-file=${pki.ca.cert}`,
      "--use-service-account-credentials=true",
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--controllers=*",
      "--leader-elect=false",
      "--profiling=false",
    ]);
    // Ready when its controllers act: the service-account controller has given `default` its
    // ServiceAccount (without which no Pod is admitted) and the root CA publisher its ConfigMap.
    await procs.waitFor("kube-controller-manager", timeout, async () => {
      const sa = await get({ url: `${server}/api/v1/namespaces/default/serviceaccounts/default`, ...admin });
      const ca = await get({ url: `${server}/api/v1/namespaces/default/configmaps/kube-root-ca.crt`, ...admin });
      return sa.status === 200 && ca.status === 200;
    });
  } catch (err) {
    await procs.stopAll();
    throw err;
  }

  const kubeconfig = path.join(workDir, "admin.kubeconfig");
  writeKubeconfig(kubeconfig, server, pki.ca.cert, pki.admin, "e2e-admin");
  return {
    kubeconfig,
    context: E2E_CONTEXT,
    server,
    logDir: dirs.logs,
    get: (apiPath) => get({ url: `${server}${apiPath}`, ...admin }),
    stop: () => procs.stopAll(),
  };
}

// --- PKI (openssl) -----------------------------------------------------------------------------------

interface KeyPair {
  cert: string;
  key: string;
}

interface Pki {
  ca: KeyPair;
  apiserver: KeyPair;
  admin: KeyPair;
  controllerManager: KeyPair;
  serviceAccount: { key: string; publicKey: string };
}

/** A CA valid for a day, and what it signs: the API server's serving certificate, the clients'
 * certificates (the admin in system:masters; the controller manager as the user its RBAC bindings
 * name), and the service-account signing key pair. ECDSA P-256 keys: fast to generate. */
function createPki(dir: string): Pki {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  const newKey = (name: string) => openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file(name));

  newKey("ca.key");
  openssl("req", "-x509", "-new", "-key", file("ca.key"), "-out", file("ca.crt"), "-days", "1", "-subj", "/CN=e2e-local-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature");

  const sign = (name: string, subject: string, extensions: string[]): KeyPair => {
    newKey(`${name}.key`);
    openssl("req", "-new", "-key", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", subject);
    fs.writeFileSync(file(`${name}.ext`), [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      ...extensions,
    ].join("\n") + "\n");
    openssl("x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.crt"), "-CAkey", file("ca.key"), "-CAcreateserial",
      "-days", "1", "-out", file(`${name}.crt`), "-extfile", file(`${name}.ext`));
    return { cert: file(`${name}.crt`), key: file(`${name}.key`) };
  };

  const apiserver = sign("apiserver", "/CN=kube-apiserver", [
    "extendedKeyUsage=serverAuth",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc," +
      "DNS:kubernetes.default.svc.cluster.local,IP:10.96.0.1",
  ]);
  const admin = sign("admin", "/O=system:masters/CN=e2e-admin", ["extendedKeyUsage=clientAuth"]);
  const controllerManager = sign("controller-manager", "/CN=system:kube-controller-manager", ["extendedKeyUsage=clientAuth"]);

  newKey("sa.key");
  openssl("pkey", "-in", file("sa.key"), "-pubout", "-out", file("sa.pub"));
  return { ca: { cert: file("ca.crt"), key: file("ca.key") }, apiserver, admin, controllerManager,
    serviceAccount: { key: file("sa.key"), publicKey: file("sa.pub") } };
}

/** A kubeconfig with everything embedded, so it stays valid wherever it is copied. */
function writeKubeconfig(file: string, server: string, caCert: string, client: KeyPair, user: string): void {
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  // JSON is YAML: every kubeconfig reader accepts it.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: E2E_CONTEXT, cluster: { server, "certificate-authority-data": b64(caCert) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(client.cert), "client-key-data": b64(client.key) } }],
    contexts: [{ name: E2E_CONTEXT, context: { cluster: E2E_CONTEXT, user } }],
    "current-context": E2E_CONTEXT,
  };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
}

// --- processes ---------------------------------------------------------------------------------------

/** The control plane's child processes. Each logs to <logDir>/<name>.log; if the test process dies
 * without calling stop(), the children are killed with it rather than left running. */
class Processes {
  private readonly children = new Map<string, ChildProcess>();
  private readonly exitCodes = new Map<string, number | string>();
  private readonly killOnExit = () => {
    for (const child of this.children.values()) child.kill("SIGKILL");
  };

  constructor(private readonly logDir: string) {
    process.on("exit", this.killOnExit);
  }

  start(name: string, bin: string, args: string[]): void {
    const log = fs.openSync(path.join(this.logDir, `${name}.log`), "a");
    const child = spawn(bin, args, { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    child.on("exit", (code, signal) => this.exitCodes.set(name, code ?? signal ?? "unknown"));
    child.on("error", (err) => this.exitCodes.set(name, err.message));
    this.children.set(name, child);
  }

  /** Polls `ready` until it answers true; fails early, with the log's tail, if the process exits. */
  async waitFor(name: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exitCodes.has(name)) {
        throw new Error(`${name} exited (${this.exitCodes.get(name)}) before it was ready:\n${this.tail(name)}`);
      }
      if (await ready().catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`${name} not ready after ${timeoutMs / 1000}s:\n${this.tail(name)}`);
  }

  /** SIGTERM in reverse start order, then SIGKILL after 10 s; resolves when all have exited. */
  async stopAll(): Promise<void> {
    for (const [name, child] of [...this.children].reverse()) {
      if (!this.exitCodes.has(name)) {
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
    }
    this.children.clear();
    process.off("exit", this.killOnExit);
  }

  private tail(name: string): string {
    const text = fs.readFileSync(path.join(this.logDir, `${name}.log`), "utf8");
    return text.split("\n").slice(-30).join("\n");
  }
}

// --- helpers -----------------------------------------------------------------------------------------

/** Free TCP ports on 127.0.0.1, distinct, from the kernel. They are released before use, so a race
 * with another process is possible but harmless here: the start then fails loudly. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface GetOptions {
  url: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/** One GET with a 5 s timeout; TLS options are file paths. */
function get(opts: GetOptions): Promise<{ status: number; body: string }> {
  const url = new URL(opts.url);
  const read = (f?: string) => (f ? fs.readFileSync(f) : undefined);
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url.protocol === "https:"
      ? https.get(url, { ca: read(opts.ca), cert: read(opts.cert), key: read(opts.key), timeout: 5_000 }, onResponse)
      : http.get(url, { timeout: 5_000 }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`GET ${opts.url}: timeout`)));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
