// A free loopback port, for tests and benches that start servers (ferkit serve, redis-server).
import { createServer } from 'node:net';

/** A loopback port nothing listens on (a listener is opened on port 0, then closed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
