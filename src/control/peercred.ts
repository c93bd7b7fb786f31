// Who is on the other end of a control connection (SO_PEERCRED, native/control/peercred.c).
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

const require = createRequire(import.meta.url);
let addon: { peerCred(fd: number): PeerCred } | undefined;

function load(): { peerCred(fd: number): PeerCred } {
  if (addon !== undefined) return addon;
  const errors: string[] = [];
  for (const rel of ['../../native/build/Release/rill_peercred.node', '../native/build/Release/rill_peercred.node']) {
    try {
      addon = require(rel) as { peerCred(fd: number): PeerCred };
      return addon;
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  throw new Error(`the native module rill_peercred is not built (run npm run install): ${errors.join('; ')}`);
}

/** The peer's credentials, or undefined when they cannot be read (the caller refuses the peer). */
export function peerCredentials(socket: Socket): PeerCred | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  try {
    return load().peerCred(fd);
  } catch {
    return undefined;
  }
}
