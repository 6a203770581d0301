/** Free TCP ports for processes a test starts (they cannot take port 0: the test must know where to look). */
import net from 'node:net';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** `count` consecutive free ports (the first of them), as `--metrics-port` with `--replicas` needs. */
export async function freePorts(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await tryListen(0);
    if (base === undefined || base + count > 65_535) continue;
    let free = true;
    for (let offset = 1; offset < count && free; offset++) free = (await tryListen(base + offset)) !== undefined;
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
