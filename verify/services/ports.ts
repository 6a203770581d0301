/** Free TCP ports on the loopback interface, for the private services. */
import net from 'node:net';

/** A port nothing listens on right now (the kernel's pick); `avoid` keeps picks of one run distinct. */
export async function freePort(avoid: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
      });
    });
    if (!avoid.has(port)) return port;
  }
}

