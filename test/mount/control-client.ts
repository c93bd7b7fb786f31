// A bare client of the control protocol (src/control/protocol.ts) for tests: JSON lines over a
// Unix socket, no retries, so what the server sends is what the test sees.
import { connect, type Socket } from 'node:net';

export class RawControl {
  private buf = '';
  private waiting: ((line: string) => void)[] = [];
  private closed = false;

  private constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w('{"closed":true}');
    });
  }

  static open(path: string): Promise<RawControl> {
    return new Promise((resolve, reject) => {
      const s = connect({ path });
      s.once('connect', () => resolve(new RawControl(s)));
      s.once('error', reject);
    });
  }

  /** Sends one request (an object, or a raw line) and returns the parsed reply. */
  ask(req: object | string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ closed: true });
      this.waiting.push((line) => resolve(JSON.parse(line) as Record<string, unknown>));
      this.socket.write(`${typeof req === 'string' ? req : JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
