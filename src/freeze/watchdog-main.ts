// The watchdog process (started by src/freeze/watchdog.ts before freezing, in its own session so
// neither a terminal's signals nor a kill -9 of rill reach it): thaws the file system at the
// deadline, or at once when rill freeze dies, and reports it. Lines from rill on stdin: "arm" (the
// deadline starts now), "pgid N" (a process group to stop if rill dies), "thawed" (rill thawed it:
// exit quietly). Lines to rill on stdout: "ready", then "deadline" if it thawed at the deadline.
// Exit status: 0 released by rill, 3 thawed at the deadline, 4 thawed because rill died, 5 could not thaw.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { sys } from '../sys/native.js';
import { WATCHDOG_EXIT } from './watchdog.js';

function main(argv: string[]): void {
  const [mountPoint, timeoutArg, parentArg, label] = argv;
  const timeoutMs = Number(timeoutArg);
  const parent = Number(parentArg);
  if (mountPoint === undefined || !(timeoutMs > 0) || !(parent > 0)) {
    process.stderr.write('rill freeze watchdog: usage: watchdog-main MOUNTPOINT TIMEOUT_MS PARENT_PID [LABEL]\n');
    process.exit(2);
  }
  const what = label ?? mountPoint;
  const fd = openSync(mountPoint, constants.O_RDONLY | constants.O_DIRECTORY);
  const groups = new Set<number>();
  let armedAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let done = false;

  const report = (line: string): void => {
    const msg = `rill freeze: watchdog: ${line}`;
    try {
      writeSync(2, `${msg}\n`);
    } catch {
      // rill's stderr may be gone with it
    }
    // syslog-style, best effort (logger talks to /dev/log; no syslog daemon, no record).
    spawnSync('logger', ['-t', 'rill-freeze', '-p', 'user.warning', '--', msg], { stdio: 'ignore', timeout: 2000 });
  };

  const thaw = (why: string, status: number): void => {
    if (done) return;
    done = true;
    if (timer !== undefined) clearTimeout(timer);
    const held = armedAt === 0 ? '' : ` after ${Math.round(performance.now() - armedAt)} ms`;
    let code: number = status;
    try {
      sys.thawFs(fd);
      report(`thawed ${what}${held}: ${why}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EINVAL') report(`${what} was not frozen any more${held} (${why})`);
      else {
        report(`CANNOT THAW ${what}${held} (${why}): ${(err as Error).message}; run 'fsfreeze --unfreeze ${mountPoint}' as root`);
        code = WATCHDOG_EXIT.failed;
      }
    }
    if (status === WATCHDOG_EXIT.orphaned) {
      for (const g of groups) {
        try {
          process.kill(-g, 'SIGTERM');
        } catch {
          // gone already
        }
      }
    }
    try {
      if (status === WATCHDOG_EXIT.deadline) writeSync(1, 'deadline\n');
    } catch {
      // rill is gone
    }
    closeSync(fd);
    process.exit(code);
  };

  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line === 'arm') {
        armedAt = performance.now();
        timer = setTimeout(() => thaw(`the ${timeoutMs / 1000} s deadline (--timeout) passed and rill freeze (pid ${parent}) had not thawed it`, WATCHDOG_EXIT.deadline), timeoutMs);
      } else if (line.startsWith('pgid ')) {
        groups.add(Number(line.slice(5)));
      } else if (line === 'thawed') {
        done = true;
        if (timer !== undefined) clearTimeout(timer);
        process.exit(WATCHDOG_EXIT.released);
      }
    }
  });
  // EOF (or an error) on the pipe from rill: rill ended without saying it thawed, e.g. kill -9.
  const orphaned = (): void => {
    if (!done && armedAt !== 0) thaw(`rill freeze (pid ${parent}) ended without thawing it (killed?)`, WATCHDOG_EXIT.orphaned);
    else if (!done) process.exit(WATCHDOG_EXIT.released);
  };
  process.stdin.on('end', orphaned);
  process.stdin.on('error', orphaned);
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(sig, () => (armedAt === 0 ? process.exit(WATCHDOG_EXIT.released) : thaw(`the watchdog got ${sig}`, WATCHDOG_EXIT.orphaned)));
  }
  writeSync(1, 'ready\n');
}

main(process.argv.slice(2));
