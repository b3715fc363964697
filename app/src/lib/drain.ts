import { Server as NetServer, type Socket } from "node:net";
import type { Server, ServerResponse } from "node:http";

/**
 * Graceful close of an HTTP server without resetting kept-alive connections.
 *
 * Node's `server.close()` destroys idle kept-alive connections at once. A connection is "idle" as
 * soon as its last response is written, so under load the client's next request is often already
 * on the wire, or in the kernel's buffer: destroying the socket with unread data sends a TCP reset
 * and the request fails without an answer. Here instead:
 *  - the listener stops accepting (new connections are refused);
 *  - every request that arrives, on any connection, is answered, and with `Connection: close`
 *    (the caller sets the header on requests that arrive while shutting down; responses still in
 *    flight get it here), so the server ends the connection after it;
 *  - a connection still idle `idleGraceMs` after it became idle is ended with a FIN, then destroyed
 *    if the client does not close its side within `closeTimeoutMs`.
 * The promise resolves once every connection is closed.
 */
export interface Drainable {
  close(): Promise<void>;
}

interface Connection {
  active: number;
  timer?: NodeJS.Timeout;
}

export function drainable(server: Server, opts: { idleGraceMs: number; closeTimeoutMs?: number }): Drainable {
  const connections = new Map<Socket, Connection>();
  const inFlight = new Set<ServerResponse>();
  let draining = false;

  const endIfIdle = (socket: Socket, state: Connection) => {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      // After the event loop's next poll phase: a request already in the kernel's buffer (a busy
      // loop may not have read it yet) is read and counted first, and then answered, not cut.
      setImmediate(() => {
        if (state.active > 0 || socket.destroyed) return;
        socket.end();
        setTimeout(() => socket.destroy(), opts.closeTimeoutMs ?? 2000).unref();
      });
    }, opts.idleGraceMs);
    state.timer.unref();
  };

  server.on("connection", (socket: Socket) => {
    const state: Connection = { active: 0 };
    connections.set(socket, state);
    socket.once("close", () => {
      clearTimeout(state.timer);
      connections.delete(socket);
    });
    if (draining) endIfIdle(socket, state);
  });
  server.on("request", (req, res) => {
    const state = connections.get(req.socket);
    if (!state) return;
    state.active += 1;
    inFlight.add(res);
    clearTimeout(state.timer);
    res.once("close", () => {
      inFlight.delete(res);
      state.active -= 1;
      if (draining && state.active === 0) endIfIdle(req.socket, state);
    });
  });

  return {
    close: () =>
      new Promise<void>((resolve) => {
        draining = true;
        for (const res of inFlight) if (!res.headersSent) res.setHeader("connection", "close");
        // net.Server's close, not http.Server's: the latter would destroy idle connections now.
        NetServer.prototype.close.call(server, () => resolve());
        for (const [socket, state] of connections) if (state.active === 0) endIfIdle(socket, state);
      }),
  };
}
