// The runtime adapter's contract, run against whichever implementation index.ts selects (Bun here; Deno through
// deno.json's import map): every method on real files, a real child process, a real socket.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 as zlibCrc32 } from "node:zlib";
import { runtime } from "./index.ts";

const dir = mkdtempSync(join(tmpdir(), "runtime-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);
async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("runtime", () => {
  test("names itself", () => {
    expect(["bun", "deno"]).toContain(runtime.name);
    expect(runtime.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("reads text, bytes, ranges and streams; writes files; tells what exists", async () => {
    const path = join(dir, "data.bin");
    const data = bytes(300_000);
    await runtime.writeFile(path, data);
    expect(await runtime.exists(path)).toBe(true);
    expect(await runtime.exists(join(dir, "absent"))).toBe(false);
    expect(await runtime.readBytes(path)).toEqual(data);
    expect(await runtime.readRange(path, 1000, 1010)).toEqual(data.slice(1000, 1010));
    expect((await runtime.readRange(path, 299_995, 300_100)).byteLength).toBe(5);
    expect(await collect(runtime.readStream(path))).toEqual(data);
    expect(await collect(runtime.readStream(path, 10, 70_010))).toEqual(data.slice(10, 70_010));
    expect(new Uint8Array(await new Response(runtime.fileBody(path)).arrayBuffer())).toEqual(data);
    expect(new Uint8Array(await new Response(runtime.fileBody(path, 5, 25)).arrayBuffer())).toEqual(data.slice(5, 25));
    await runtime.writeFile(join(dir, "t.txt"), "héllo\n");
    expect(await runtime.readText(join(dir, "t.txt"))).toBe("héllo\n");
    await expect(runtime.readText(join(dir, "absent"))).rejects.toThrow();
  });

  test("a file writer buffers, flushes and ends", async () => {
    const path = join(dir, "spool");
    const w = runtime.fileWriter(path);
    w.write(bytes(10));
    w.write("abc");
    await w.flush();
    w.write(bytes(5));
    await w.end();
    expect(await runtime.readBytes(path)).toEqual(new Uint8Array([...bytes(10), 97, 98, 99, ...bytes(5)]));
  });

  test("crc32 is zip's, continued from a seed", () => {
    const data = bytes(10_000);
    expect(runtime.crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    expect(runtime.crc32(data.subarray(4000), runtime.crc32(data.subarray(0, 4000)))).toBe(zlibCrc32(data));
  });

  test("spawns with piped output, an environment and a timeout; finds commands on PATH", async () => {
    const sh = runtime.which("sh");
    expect(sh).toMatch(/^\/.*sh$/);
    expect(runtime.which("no-such-command-here")).toBeUndefined();
    const ok = runtime.spawn([sh!, "-c", 'printf "$GREETING"; printf oops >&2; exit 3'], { env: { GREETING: "hi", PATH: process.env.PATH } });
    const [out, err, code] = await Promise.all([new Response(ok.stdout).text(), new Response(ok.stderr).text(), ok.exited]);
    expect([out, err, code, ok.exitCode]).toEqual(["hi", "oops", 3, 3]);
    const slow = runtime.spawn([sh!, "-c", "sleep 30"], { timeoutMs: 100 });
    await slow.exited;
    expect(slow.exitCode).toBeNull();
    expect(slow.signalCode).toBe("SIGTERM");
    const killed = runtime.spawn([sh!, "-c", "sleep 30"]);
    killed.kill("SIGKILL");
    await killed.exited;
    expect(killed.signalCode).toBe("SIGKILL");
    expect(() => runtime.spawn([join(dir, "no-such-binary")])).toThrow();
  });

  test("parses and writes YAML", () => {
    expect(runtime.parseYaml("a: 1\nb: [x, 'y']\nc: {d: null}\n")).toEqual({ a: 1, b: ["x", "y"], c: { d: null } });
    expect(() => runtime.parseYaml("a: [1, 2\nb: {")).toThrow();
    const value = { kind: "Config", list: [{ name: "a", n: 1 }], empty: {}, text: "multi\nline", yes: "true" };
    expect(runtime.parseYaml(runtime.stringifyYaml(value, 2))).toEqual(value);
  });

  test("an SQLite database: exec, prepared statements, transactions that commit or roll back", () => {
    const db = runtime.openDatabase(join(dir, "db.sqlite"));
    db.exec("PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)");
    const put = db.prepare("INSERT INTO t (k, v) VALUES (?, ?)");
    const get = db.prepare<{ v: number }, [string]>("SELECT v FROM t WHERE k = ?");
    const all = db.prepare<{ k: string; v: number }, []>("SELECT k, v FROM t ORDER BY k");
    expect(db.transaction(() => {
      put.run("a", 1);
      put.run("b", 2);
      return "done";
    })).toBe("done");
    expect(get.get("a")).toEqual({ v: 1 });
    expect(get.get("zzz")).toBeUndefined();
    expect(() =>
      db.transaction(() => {
        put.run("c", 3);
        put.run("a", 9); // duplicate key: the whole transaction rolls back
      }),
    ).toThrow();
    expect(all.all()).toEqual([{ k: "a", v: 1 }, { k: "b", v: 2 }]);
    expect(existsSync(join(dir, "db.sqlite-shm"))).toBe(true);
    db.close(); // with its statements still referenced: the close is not deferred, WAL companions are removed
    expect([existsSync(join(dir, "db.sqlite-wal")), existsSync(join(dir, "db.sqlite-shm"))]).toEqual([false, false]);
    expect([put, get, all].length).toBe(3);
    const again = runtime.openDatabase(join(dir, "db.sqlite"));
    expect(again.prepare<{ n: number }, []>("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    again.close();
    const memory = runtime.openDatabase(":memory:");
    memory.exec("CREATE TABLE x (y)");
    memory.close();
  });

  test("serves a fetch handler on a free port: remote address, body limit, stop", async () => {
    const served = runtime.serve({
      hostname: "127.0.0.1",
      port: 0,
      maxRequestBodySize: 1024,
      fetch: async (request, context) => {
        context.keepOpen(request);
        if (request.method === "POST") return new Response(`${(await request.arrayBuffer()).byteLength}`);
        return Response.json({ path: new URL(request.url).pathname, from: context.remoteAddress(request) });
      },
    });
    try {
      expect(served.port).toBeGreaterThan(0);
      expect(served.url.toString()).toBe(`http://127.0.0.1:${served.port}/`);
      expect(await (await fetch(new URL("/x?y=1", served.url))).json()).toEqual({ path: "/x", from: "127.0.0.1" });
      expect(await (await fetch(served.url, { method: "POST", body: "abc" })).text()).toBe("3");
      const big = await fetch(served.url, { method: "POST", body: "x".repeat(100_000) }).catch((e: unknown) => e);
      expect(big instanceof Response ? big.status : "refused").not.toBe(200);
    } finally {
      await served.stop(true);
    }
    await expect(fetch(served.url)).rejects.toThrow();
  });

  test("serves HTTPS from PEM texts and from PEM files; fetches with per-request TLS settings", async () => {
    const key = join(dir, "tls.key");
    const cert = join(dir, "tls.crt");
    const openssl = runtime.spawn(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert]);
    expect(await openssl.exited).toBe(0);
    const ca = await runtime.readText(cert);
    const get = (port: number) =>
      new Promise<string>((resolve, reject) => {
        const req = httpsRequest({ host: "127.0.0.1", port, path: "/tls", ca }, (res) => {
          let body = "";
          res.on("data", (c: Buffer) => (body += c.toString()));
          res.on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.end();
      });
    for (const tls of [{ certFile: cert, keyFile: key }, { cert: ca, key: await runtime.readText(key) }]) {
      const served = runtime.serve({ hostname: "127.0.0.1", port: 0, tls, fetch: (request) => new Response(new URL(request.url).pathname) });
      try {
        expect(served.url.protocol).toBe("https:");
        expect(await get(served.port)).toBe("/tls");
        const url = new URL("/fetch", served.url);
        expect(await (await runtime.fetch(url, { tls: { ca } })).text()).toBe("/fetch");
        expect(await (await runtime.fetch(url, { tls: { rejectUnauthorized: false } })).text()).toBe("/fetch");
        await expect(runtime.fetch(url)).rejects.toThrow(); // self-signed: not trusted without the CA
      } finally {
        await served.stop(true);
      }
    }
  });

  test("says where the package files it carries are; collects garbage", async () => {
    expect(await runtime.exists(runtime.files.hclWasmGz)).toBe(true);
    expect((await runtime.readRange(runtime.files.hclWasmGz, 0, 2))).toEqual(new Uint8Array([0x1f, 0x8b])); // gzip
    runtime.gc();
  });
});
