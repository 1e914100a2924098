/** Closing a local HTTP server (the web console, the environment server) without waiting on idle browser connections. */
import type { Server } from 'node:http';

/** Stops accepting, drops idle keep-alive connections at once and busy ones after `graceMs`. */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Clients keep idle connections open; they would hold close() back for good.
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}
