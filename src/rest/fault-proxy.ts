/**
 * A TCP fault proxy for outage tests: put it between an app and a dependency (PostgreSQL, Redis),
 * then `cut()` it (every open connection is reset, new ones are refused or left hanging) and
 * `restore()` it. Real sockets, real drivers: the app sees exactly what a network outage shows.
 */
import net from 'node:net';

/** How a cut proxy treats new connections: `refuse` closes them at once, `hang` accepts and never answers. */
export type FaultMode = 'refuse' | 'hang';

/** A listening proxy forwarding to `target`; `url(original)` rewrites a URL to go through it. */
export class FaultProxy {
  readonly targetHost: string;
  readonly targetPort: number;
  #server: net.Server | null = null;
  #port = 0;
  #mode: FaultMode | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(target: { host: string; port: number }) {
    this.targetHost = target.host;
    this.targetPort = target.port;
  }

  /** A proxy in front of the host and port of a URL such as `postgres://...` or `redis://...`. */
  static forUrl(url: string, defaultPort: number): FaultProxy {
    const parsed = new URL(url);
    return new FaultProxy({ host: parsed.hostname || '127.0.0.1', port: Number(parsed.port || defaultPort) });
  }

  /** Starts listening on a port the kernel picks (kept across cut and restore). */
  async start(): Promise<this> {
    const server = net.createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this;
  }

  get port(): number {
    return this.#port;
  }

  /** Whether the proxy is cut. */
  get isCut(): boolean {
    return this.#mode !== null;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.#port);
    return parsed.toString();
  }

  /** The outage: resets every open connection; later ones are refused (`refuse`) or hang (`hang`). */
  cut(mode: FaultMode = 'refuse'): void {
    this.#mode = mode;
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  /** The end of the outage: new connections are forwarded again. */
  restore(): void {
    this.#mode = null;
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /** Resets every connection and stops listening. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #track(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }

  #accept(client: net.Socket): void {
    if (this.#mode === 'refuse') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    this.#track(client);
    if (this.#mode === 'hang') return;
    const upstream = net.connect(this.targetPort, this.targetHost);
    this.#track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}
