// The control socket of a running `rill capture --mount ... --control SOCK` (issue #6, used by
// `rill freeze` and `rill bookmark --control`, issue #7).
//
// Transport: a Unix stream socket, created mode 0600 (owner only) by the capture; the server also
// checks the peer's credentials (SO_PEERCRED: root or the capture's own uid) and closes any other
// connection after one error reply. Messages are JSON lines (one object, '\n'-terminated) in
// both directions; each request gets exactly one reply, in order. A client may keep the
// connection open and send several requests.
//
// Pause is bound to the connection that asked for it: when that connection closes (the client
// exits, or is killed -9) the capture resumes by itself, and it also resumes at the pause's
// deadline (`timeoutMs`). So a dead freeze can never leave the mount paused.

export const CONTROL_PROTOCOL = 1;

export type ControlRequest =
  /** Emit a bookmark record at the current cut: every mutation that returned before this reply is before it in the stream, every one after it is after. */
  | { op: 'bookmark'; name: string; consistent?: boolean }
  /** Hold new mutations (they block in the kernel), wait for in-flight ones to be recorded, then reply. */
  | { op: 'pause'; timeoutMs: number }
  | { op: 'resume' }
  | { op: 'status' }
  /** Replace the include/exclude filters; mutations are paused for the switch; newly included paths are scanned. */
  | { op: 'reconfigure'; include?: string[]; exclude?: string[] };

export interface ControlStatus {
  protocol: number;
  root: string;
  source: string;
  /** Last seq written to the stream or journal. */
  seq: number;
  paused: boolean;
  /** Records accepted but not yet written downstream. */
  queue: number;
  /** Age in ms of the oldest record not yet written downstream (0 when the queue is empty). */
  lagMs: number;
  /** Payload bytes captured since start. */
  bytes: number;
  include: string[];
  exclude: string[];
  /** The journal directory the capture writes, or null when it writes stdout: `freeze` refuses to freeze the file system holding it. */
  journal: string | null;
}

export type ControlReply =
  | ({ ok: true; op: 'bookmark' } & { name: string; seq: number })
  | { ok: true; op: 'pause'; seq: number; deadline: string }
  | { ok: true; op: 'resume'; seq: number }
  | ({ ok: true; op: 'status' } & ControlStatus)
  | { ok: true; op: 'reconfigure'; seq: number; include: string[]; exclude: string[] }
  /** `code`: 'usage' (bad request), 'denied' (peer not allowed), 'busy' (already paused by another connection), 'internal'. */
  | { ok: false; op?: string; code: 'usage' | 'denied' | 'busy' | 'internal'; error: string };

/** Longest pause a client may ask for; the capture refuses longer ones. */
export const MAX_PAUSE_MS = 10 * 60 * 1000;
