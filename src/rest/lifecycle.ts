/**
 * The server's life against slow clients and at its end: the timeouts of a request, its headers,
 * an idle connection and a keep-alive connection (settings given to Fastify and Node's HTTP server
 * by `serverOptions()`), and `gracefulShutdown`, which on SIGTERM lets requests in flight finish,
 * answers later ones 503 with `Connection: close`, and exits within the `shutdownGrace` setting.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { RestSettings } from './settings.ts';

declare module './settings.ts' {
  interface RestSettings {
    /** Milliseconds a client has to send a whole request, body included (408 and close beyond; Node's requestTimeout). */
    requestTimeout: number;
    /** Milliseconds a client has to send the request's headers (Node's headersTimeout): a byte-a-second client is cut off. */
    headersTimeout: number;
    /** Milliseconds a connection may stay silent in either direction before it is closed (Fastify's connectionTimeout). */
    connectionTimeout: number;
    /** Milliseconds an idle keep-alive connection is kept open (Fastify's keepAliveTimeout; above a load balancer's idle timeout). */
    keepAliveTimeout: number;
    /** Milliseconds a graceful shutdown waits for requests in flight before the process exits 1. */
    shutdownGrace: number;
  }
}

/** The setting names that hold a number of milliseconds, for checking. */
export const timeoutSettings = ['requestTimeout', 'headersTimeout', 'connectionTimeout', 'keepAliveTimeout', 'shutdownGrace'] as const;

/** The Fastify (and Node HTTP server) options of the timeouts in `settings`. */
export function timeoutOptions(settings: Readonly<RestSettings>): FastifyServerOptions {
  const headersTimeout = Math.min(settings.headersTimeout, settings.requestTimeout);
  return {
    requestTimeout: settings.requestTimeout,
    connectionTimeout: settings.connectionTimeout,
    keepAliveTimeout: settings.keepAliveTimeout,
    // Node checks the request and headers timeouts every connectionsCheckingInterval (30 s by default):
    // checked more often, a slow client is cut off close to its timeout.
    http: { headersTimeout, requestTimeout: settings.requestTimeout, connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 4)) },
  } as FastifyServerOptions;
}

/** Options of `gracefulShutdown`. */
export interface GracefulShutdownOptions {
  /** Signals that start the shutdown (default SIGTERM and SIGINT). */
  signals?: NodeJS.Signals[];
  /** Milliseconds to wait for requests in flight (default: the app's `shutdownGrace` setting, else 10 s). */
  grace?: number;
  /** Ends the process (default `process.exit`); tests pass their own. */
  exit?: (code: number) => void;
}

/**
 * Closes `app` gracefully on a signal: the listener stops, idle connections close, requests in flight
 * finish and their answers close their connections; past the grace period the process exits 1.
 * Call before `listen`; build the app with `forceCloseConnections: 'idle'` and `return503OnClosing: true`.
 * Returns the function that starts the shutdown.
 */
export function gracefulShutdown(app: FastifyInstance, options: GracefulShutdownOptions = {}): (reason: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let closing = false;
  // Fastify only closes the connections idle when the close starts: an answer sent while closing
  // must end its keep-alive connection, or the close waits for the client.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  const shutdown = async (reason: string) => {
    if (closing) return;
    closing = true;
    const grace = options.grace ?? (app.hasDecorator('restSettings') ? app.restSettings.shutdownGrace : 10_000);
    app.log.info({ signal: reason, grace }, 'closing: finishing in-flight requests');
    const timer = setTimeout(() => {
      app.server.getConnections((_error, connections) => {
        app.log.error({ connections }, `graceful close took longer than ${grace} ms, exiting`);
        app.server.closeAllConnections();
        exit(1);
      });
    }, grace);
    timer.unref();
    try {
      await app.close();
      clearTimeout(timer);
      exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'graceful close failed');
      exit(1);
    }
  };
  for (const signal of options.signals ?? ['SIGTERM', 'SIGINT']) process.on(signal, () => void shutdown(signal));
  return shutdown;
}
