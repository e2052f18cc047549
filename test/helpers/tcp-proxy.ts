import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * How the proxy treats connections: `open` forwards them; `refused` closes its port (new
 * connections are refused); `reset` accepts and resets them at once; `silent` accepts and
 * never answers (a host that stopped responding).
 */
export type ProxyMode = 'open' | 'refused' | 'reset' | 'silent';

export interface TcpProxy {
  port: number;
  /** Drops every connection through the proxy and treats new ones as `mode` says. */
  cut(mode: Exclude<ProxyMode, 'open'>): Promise<void>;
  /** Forwards new connections again (on the same port). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** A loopback TCP proxy to `target` that a test can cut off and restore, for outage tests. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'open';
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (mode === 'reset') return void client.resetAndDestroy();
    if (mode !== 'open') return;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    async cut(next) {
      mode = next;
      // close() stops accepting at once and calls back when the last connection has gone.
      const closed =
        next === 'refused' ? new Promise<void>((resolve) => server.close(() => resolve())) : null;
      dropAll();
      await closed;
      // Let the clients see their sockets close before the test goes on.
      await new Promise((resolve) => setTimeout(resolve, 50));
    },
    async restore() {
      if (!server.listening) await listen(port);
      dropAll();
      mode = 'open';
    },
    async close() {
      const closed = server.listening
        ? new Promise<void>((resolve) => server.close(() => resolve()))
        : null;
      dropAll();
      await closed;
    },
  };
}
