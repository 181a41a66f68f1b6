// Filesystem storage: one file per key under a root directory. Writes go to a temp file beside the target and are
// renamed into place, so a reader sees the old object or the complete new one. Reads open the file once and describe
// (size, pin) exactly the inode they stream, even if the key is replaced meanwhile.
import { createHash } from "node:crypto";
import { close as closeFd, closeSync, constants, fstatSync, open as openFd, openSync, read as readFd, readlinkSync, statSync } from "node:fs";
import { chmod, lstat, mkdir, open, realpath, rename, rm, rmdir, unlink, type FileHandle } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { toBase64 } from "../kits/encoding.ts";
import { assertSafeKey } from "./keys.ts";
import { StorageError, type ArtifactStorage, type ByteRange, type GetResult, type ObjectInfo, type PutOptions, type PutResult } from "./types.ts";

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;
const READ_CHUNK = 256 * 1024;

export class FilesystemStorage implements ArtifactStorage {
  readonly description: string;
  private readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `filesystem:${this.root}`;
  }

  async put(key: string, body: ReadableStream<Uint8Array>, options: PutOptions = {}): Promise<PutResult> {
    const target = await this.pathFor(key, true).catch((e) => {
      body.cancel(e).catch(() => {}); // release the caller's source (e.g. an upstream download) at once
      throw e;
    });
    const reader = body.getReader();
    let tmp: string | undefined;
    let fh: FileHandle | undefined;
    let sourceFailed = false;
    try {
      ({ fh, tmp } = await this.openTemp(key, target));
      const hasher = createHash("sha256");
      let size = 0;
      for (;;) {
        const next = await reader.read().catch((e) => {
          sourceFailed = true; // the caller's stream failed, not the disk: rethrow its error unchanged
          throw e;
        });
        if (next.done) break;
        const value = next.value;
        hasher.update(value);
        size += value.byteLength;
        await writeAll(fh, value);
      }
      const sha256 = toBase64(new Uint8Array(hasher.digest()));
      if (options.size !== undefined && options.size !== size) {
        throw new StorageError("Invalid", `${key}: received ${size} bytes, expected ${options.size}`);
      }
      if (options.sha256 !== undefined && options.sha256 !== sha256) {
        throw new StorageError("Invalid", `${key}: content SHA-256 ${sha256} does not match the expected ${options.sha256}`);
      }
      await fh.chmod(FILE_MODE); // the umask filtered open()'s mode
      await fh.sync();
      await rename(tmp, target);
      tmp = undefined;
      // Stat the inode after the rename, through our descriptor: the rename moves its ctime, which is in the pin.
      const st = await fh.stat({ bigint: true });
      await fh.close();
      fh = undefined;
      await syncDir(dirname(target));
      return { ...infoOf(st), sha256 };
    } catch (e) {
      if (!sourceFailed) reader.cancel(e).catch(() => {});
      if (sourceFailed || e instanceof StorageError) throw e;
      if (isErrno(e) && (e.code === "EISDIR" || e.code === "ENOTDIR")) throw new StorageError("Invalid", `${key}: a directory is in the way`, { cause: e });
      throw fsError(e, key, this.root);
    } finally {
      reader.releaseLock();
      if (fh) await fh.close().catch(() => {});
      if (tmp) await rm(tmp, { force: true }).catch(() => {});
    }
  }

  /**
   * The body holds an open descriptor until it is read to the end or cancelled; a body dropped unread is closed when
   * it is garbage-collected (a plain fd, not a FileHandle, whose collection Bun reports as an uncaught error).
   *
   * The usual case (the file opened beneath the root, see openBeneath) makes its few syscalls synchronously: open,
   * readlink and two stats of a local file take microseconds each, while each one sent to the thread pool costs a
   * futex round trip and a wakeup, most of a small download's system time. It blocks the event loop no more than
   * serving the bytes already does: Bun's server opens, stats and sendfile()s a file body synchronously too.
   */
  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const beneath = this.openBeneath(await this.resolvedKey(key));
    const fd = beneath ?? (await this.openChecked(key));
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) throw notFound(key);
      const info = infoOf(st);
      const span = range ? clampRange(range, info.size, key) : undefined;
      const start = span?.start ?? 0;
      const end = span?.end ?? info.size - 1;
      // Opened beneath the root, the descriptor's link was just read (it names our file), and links of this procfs
      // were seen to re-open the very inode: no need to stat through it again.
      const pinnedPath = beneath !== undefined && procLinksReopen ? `/proc/self/fd/${fd}` : reopenablePath(fd, st);
      return { ...info, body: fileStream(fd, start, end, key), ...(span ? { range: span } : {}), ...(pinnedPath ? { pinnedPath } : {}) };
    } catch (e) {
      closeFd(fd, () => {});
      throw e instanceof StorageError ? e : fsError(e, key);
    }
  }

  /**
   * The file opened first and its path checked after (one readlink of /proc/self/fd/N instead of an lstat per
   * directory before): the kernel names the file actually opened, and equal to root + key means no directory on the
   * way was a symlink and the key was not renamed meanwhile. Anything else (no procfs, a symlink, a race, absent)
   * closes it and answers undefined, and the caller takes the checked way, which decides and words the refusal.
   */
  private openBeneath({ path }: { path: string }): number | undefined {
    let fd: number;
    try {
      // O_NOFOLLOW: a symlink planted at the key must not be followed out of the root.
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return undefined;
    }
    let opened: string | undefined;
    try {
      opened = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      opened = undefined;
    }
    if (opened === path) return fd;
    closeSync(fd);
    return undefined;
  }

  /** Every directory between the root and the file checked to be a real one (lstat), then the file opened. */
  private async openChecked(key: string): Promise<number> {
    const path = await this.pathFor(key, false);
    if (!path) throw notFound(key);
    try {
      return await openAsync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      throw fsError(e, key);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = await this.pathFor(key, false);
    if (!path) return undefined;
    let st: BigIntStats;
    try {
      st = await lstat(path, { bigint: true });
    } catch (e) {
      if (isErrno(e) && (e.code === "ENOENT" || e.code === "ENOTDIR")) return undefined;
      throw fsError(e, key);
    }
    if (st.isSymbolicLink()) throw escape(key);
    return st.isFile() ? infoOf(st) : undefined;
  }

  async delete(key: string): Promise<void> {
    const path = await this.pathFor(key, false);
    if (!path) return;
    try {
      await unlink(path); // removes a symlink itself, never its target
    } catch (e) {
      if (isErrno(e) && (e.code === "ENOENT" || e.code === "ENOTDIR")) return;
      if (isErrno(e) && e.code === "EISDIR") return; // a directory is not an object
      throw fsError(e, key);
    }
    // Best effort: leave no empty namespace/kind/name directories behind. rmdir fails on non-empty ones, which ends it.
    const root = await this.rootPath();
    for (let dir = dirname(path); dir.startsWith(root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  async presign(_key: string, _ttlSeconds: number): Promise<string> {
    throw new StorageError("Unsupported", "pre-signed URLs are not supported for filesystem storage");
  }

  private rootPath(): Promise<string> {
    this.realRoot ??= (async () => {
      await mkdir(this.root, { recursive: true, mode: DIR_MODE });
      return realpath(this.root);
    })().catch((e) => {
      this.realRoot = undefined;
      throw fsError(e, this.root);
    });
    return this.realRoot;
  }

  /**
   * The file path for key, after checking that every directory between the root and the file is a real directory
   * (no symlinks), so no key can lead outside the root. With create, missing directories are made; without, a
   * missing directory means the object is absent (undefined).
   */
  /** The root and the key's absolute path under it; a key that is unsafe or resolves outside the root is refused. */
  private async resolvedKey(key: string): Promise<{ root: string; path: string }> {
    const root = await this.rootPath();
    // The answer depends on the key and the (fixed) root only: downloads ask for the same few keys over and over.
    const known = this.resolved.get(key);
    if (known !== undefined && known.root === root) return known;
    assertSafeKey(key);
    const path = resolve(root, key);
    if (!path.startsWith(root + sep)) throw escape(key);
    if (this.resolved.size >= 4096) this.resolved.clear(); // bounded: a flood of keys only churns it
    const answer = { root, path };
    this.resolved.set(key, answer);
    return answer;
  }
  private readonly resolved = new Map<string, { root: string; path: string }>();

  private async pathFor(key: string, create: true): Promise<string>;
  private async pathFor(key: string, create: false): Promise<string | undefined>;
  private async pathFor(key: string, create: boolean): Promise<string | undefined> {
    const { root, path } = await this.resolvedKey(key);
    const segments = key.split("/");
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      let st: BigIntStats | undefined;
      try {
        st = await lstat(dir, { bigint: true });
      } catch (e) {
        if (!isErrno(e) || (e.code !== "ENOENT" && e.code !== "ENOTDIR")) throw fsError(e, key);
      }
      if (!st) {
        if (!create) return undefined;
        try {
          await mkdir(dir, { mode: DIR_MODE });
          await chmod(dir, DIR_MODE);
        } catch (e) {
          if (!isErrno(e) || e.code !== "EEXIST") throw fsError(e, key, this.root);
          st = await lstat(dir, { bigint: true }); // lost a race with another writer: check what it made
        }
      }
      if (st && !st.isDirectory()) {
        if (st.isSymbolicLink()) throw escape(key);
        if (!create) return undefined;
        throw new StorageError("Invalid", `${key}: ${dir} exists and is not a directory`);
      }
    }
    return path;
  }

  // A concurrent delete() may remove an empty parent between mkdir and open; recreate it and retry.
  private async openTemp(key: string, target: string): Promise<{ fh: FileHandle; tmp: string }> {
    for (let attempt = 0; ; attempt++) {
      const rand = Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex");
      const tmp = join(dirname(target), `.${target.slice(dirname(target).length + 1)}.${rand}.tmp`);
      try {
        return { fh: await open(tmp, "wx", FILE_MODE), tmp };
      } catch (e) {
        if (attempt >= 3 || !isErrno(e) || e.code !== "ENOENT") throw e;
        await this.pathFor(key, true);
      }
    }
  }
}

function infoOf(st: BigIntStats): ObjectInfo {
  // inode + size + mtime + ctime (ns): a rename-replace changes the inode, an in-place rewrite the mtime or size,
  // and a rewrite whose mtime was put back (`dd conv=notrunc` + `touch -d`) still moves the ctime, which no
  // unprivileged call can set.
  return { size: Number(st.size), pin: `${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}`, lastModified: new Date(Number(st.mtimeMs)) };
}

function clampRange(range: ByteRange, size: number, key: string): { start: number; end: number } {
  const { start } = range;
  const end = range.end === undefined ? size - 1 : Math.min(range.end, size - 1);
  if (!Number.isSafeInteger(start) || start < 0 || (range.end !== undefined && !Number.isSafeInteger(range.end))) {
    throw new StorageError("Invalid", `${key}: invalid byte range`);
  }
  if (start >= size || end < start) throw new StorageError("Invalid", `${key}: byte range ${start}-${range.end ?? ""} not satisfiable for ${size} bytes`);
  return { start, end };
}

/**
 * `/proc/self/fd/N`, when opening it opens the inode the descriptor holds (Linux procfs: the link follows the open
 * file, even once the key was renamed over or deleted). Checked on the spot (device and inode through the link equal
 * fstat's), so a platform without procfs, or one where the link means something else, just gets no path.
 */
function reopenablePath(fd: number, st: BigIntStats): string | undefined {
  const path = `/proc/self/fd/${fd}`;
  let linked: BigIntStats | undefined;
  try {
    linked = statSync(path, { bigint: true });
  } catch {
    linked = undefined;
  }
  if (!linked || linked.dev !== st.dev || linked.ino !== st.ino) return undefined;
  procLinksReopen = true;
  return path;
}
/** Set once a /proc/self/fd link was seen to open the inode its descriptor holds: how this kernel's procfs works. */
let procLinksReopen = false;

const openAsync = promisify(openFd);
const readAsync = (fd: number, buf: Uint8Array, position: number) =>
  new Promise<number>((res, rej) => readFd(fd, buf, 0, buf.length, position, (err, n) => (err ? rej(err) : res(n))));
const unreadBodies = new FinalizationRegistry<number>((fd) => closeFd(fd, () => {}));

// Positioned reads from the descriptor opened by get(): the bytes come from the inode that was fstat'ed, whatever
// happens to the path. The descriptor closes exactly once (a second close could hit a reused fd number): at the end,
// on error, on cancel, or when an unread body is collected.
function fileStream(fd: number, start: number, end: number, key: string): ReadableStream<Uint8Array> {
  let pos = start;
  let closed = false;
  const token = {};
  const close = () => {
    if (closed) return;
    closed = true;
    unreadBodies.unregister(token);
    // Synchronous, like the open: a read-only descriptor closes at once, a thread-pool trip costs more than the call.
    try {
      closeSync(fd);
    } catch {
      // EBADF cannot happen (closed exactly once); EIO on a read-only descriptor leaves nothing to do.
    }
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const want = Math.min(READ_CHUNK, end + 1 - pos);
        if (want <= 0) {
          close();
          return controller.close();
        }
        try {
          const buf = new Uint8Array(want);
          const bytesRead = await readAsync(fd, buf, pos);
          if (bytesRead === 0) throw new StorageError("Transient", `${key}: file was truncated while being read`);
          pos += bytesRead;
          controller.enqueue(bytesRead === want ? buf : buf.subarray(0, bytesRead));
        } catch (e) {
          close();
          controller.error(e instanceof StorageError ? e : fsError(e, key));
        }
      },
      cancel: close,
    },
    { highWaterMark: 0 },
  );
  unreadBodies.register(stream, fd, token);
  return stream;
}

async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.byteLength; ) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off);
    off += bytesWritten;
  }
}

// Makes the rename durable. Some filesystems refuse fsync on directories; the data itself is already synced.
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY).catch(() => undefined);
  await fh?.sync().catch(() => {});
  await fh?.close().catch(() => {});
}

const isErrno = (e: unknown): e is NodeJS.ErrnoException => e instanceof Error && typeof (e as NodeJS.ErrnoException).code === "string";

const notFound = (key: string) => new StorageError("NotFound", `object ${key} not found`);
const escape = (key: string) => new StorageError("Denied", `object key ${JSON.stringify(key)} leads outside the storage root (symlink)`);

function fsError(e: unknown, key: string, root?: string): StorageError {
  const code = isErrno(e) ? e.code : undefined;
  const cause = { cause: e };
  switch (code) {
    case "ENOENT":
    case "ENOTDIR":
    case "EISDIR":
      return new StorageError("NotFound", `object ${key} not found`, cause);
    case "ELOOP":
      return new StorageError("Denied", `object key ${JSON.stringify(key)} is a symlink; refusing to follow it`, cause);
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new StorageError("Denied", `filesystem storage: permission denied for ${key}: ${(e as Error).message}`, cause);
    case "ENOSPC":
    case "EDQUOT":
      return new StorageError("Transient", `disk full at ${root ?? "the storage directory"}: cannot write ${key}`, cause);
    default:
      return new StorageError("Transient", `filesystem storage error for ${key}: ${(e as Error)?.message ?? String(e)}`, cause);
  }
}
