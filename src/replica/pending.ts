// The pending file: a new regular file is built under a temp name and renamed over its final name
// only when complete, so a crash or a truncated stream never exposes a half-written file.
import { closeSync, constants, fchmodSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { ioError } from '../errors.js';
import { parentPath } from '../stream/path.js';
import type { Confine } from './confine.js';
import type { Durable } from './durable.js';
import { typeConflict } from './fsops.js';
import { sys } from '../sys/native.js';
import { isCrossDevice, TMP_DIR, type TempName, type TempNames } from './temp.js';
import { copyFileAcross } from './xdev.js';

const CREATE_TEMP = constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW;

interface PendingFile {
  path: string;
  abs: string | Buffer;
  temp: TempName;
  tempAbs: string | Buffer;
  fd: number;
  /** Its permission bits as last set (spares an fstat before chown). */
  mode: number;
}

/** At most one file under construction; events on its path go to the temp file. */
export class Pending {
  private cur: PendingFile | undefined;

  /** Modes that open(2) in .rill/tmp creates exactly (umask and no default ACL there); others need an fchmod. */
  private readonly exact: (mode: number) => boolean;

  /** `replaceDir` may remove a directory in the way of a new file (a full stream's); true when it did. */
  constructor(
    private readonly confine: Confine,
    private readonly temps: TempNames,
    private readonly durable: Durable,
    private readonly replaceDir: (path: string) => boolean = () => false,
  ) {
    const umask = process.umask(0o022);
    process.umask(umask);
    const acl = sys.getXattr(confine.abs(TMP_DIR), 'system.posix_acl_default') !== null;
    this.exact = (mode) => !acl && (mode & 0o7000) === 0 && (mode & umask) === 0;
  }

  /** The stream path of the pending file, if any. */
  get path(): string | undefined {
    return this.cur?.path;
  }

  /** The temp file standing for path, when path is pending. */
  lookup(path: string): PendingFile | undefined {
    return this.cur?.path === path ? this.cur : undefined;
  }

  /**
   * Starts a new empty file with the exact mode (umask defeated); replaces an older pending one for
   * path. A directory in the way is found when the file is put in place (rename fails with EISDIR).
   */
  start(path: string, mode: number): void {
    if (this.cur?.path === path) this.discard();
    else this.finalize();
    const abs = this.confine.resolve(path, false);
    mode &= 0o7777;
    for (;;) {
      const temp = this.temps.for(path);
      const tempAbs = this.confine.abs(temp.path);
      const exact = temp.shared && this.exact(mode);
      let fd: number;
      try {
        fd = openSync(tempAbs, CREATE_TEMP, exact ? mode : 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      this.cur = { path, abs, temp, tempAbs, fd, mode };
      if (!exact) fchmodSync(fd, mode);
      return;
    }
  }

  /** Renames the pending file over its final name (replacing a non-directory there). */
  finalize(): void {
    const c = this.cur;
    if (c === undefined) return;
    this.cur = undefined;
    try {
      this.durable.file(c.fd);
      try {
        renameSync(c.tempAbs, c.abs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EISDIR' && this.replaceDir(c.path)) renameSync(c.tempAbs, c.abs);
        else if (!(c.temp.shared && isCrossDevice(err))) throw err;
        else this.moveAcross(c);
      }
      this.durable.touched(parentPath(c.path));
    } catch (err) {
      removeQuietly(c.tempAbs);
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw typeConflict(c.path, 'a regular file');
      throw ioError('cannot put in place', c.path, err);
    } finally {
      closeSync(c.fd);
    }
  }

  /** Drops the pending file without exposing it (truncated stream, error, or a re-create). */
  discard(): void {
    const c = this.cur;
    if (c === undefined) return;
    this.cur = undefined;
    try {
      closeSync(c.fd);
    } finally {
      removeQuietly(c.tempAbs);
    }
  }

  /** EXDEV fallback: copy to a temp beside the target, rename that, remove the shared temp. */
  private moveAcross(c: PendingFile): void {
    this.temps.crossDevice(c.path);
    const local = this.confine.abs(this.temps.for(c.path).path);
    try {
      copyFileAcross(c.fd, c.tempAbs, local, this.durable.enabled);
      renameSync(local, c.abs);
    } catch (err) {
      removeQuietly(local);
      throw err;
    }
    removeQuietly(c.tempAbs);
  }
}

function removeQuietly(abs: string | Buffer): void {
  try {
    unlinkSync(abs);
  } catch {
    // already gone
  }
}
