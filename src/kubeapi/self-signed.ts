// A private CA and a server certificate for the admin listener, made with node:crypto and a minimal DER encoder
// (no OpenSSL, no dependency). kubectl (client-go) only sends credentials over TLS, so the admin API needs HTTPS
// even on loopback; the kubeconfig standalone writes trusts exactly this CA. Keys are ECDSA P-256.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isIP } from "node:net";

// ---- DER ----
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));

function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && !(b[i + 1]! & 0x80)) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(text: string): Buffer {
  const parts = text.split(".").map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** A BIT STRING of named bits (bit 0 is the most significant bit of the first byte). */
function namedBits(bits: number[]): Buffer {
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  return tlv(0x03, Buffer.concat([Buffer.from([7 - (max & 7)]), bytes]));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

const name = (cn: string, org?: string) =>
  seq(...(org ? [set(seq(oid("2.5.4.10"), utf8(org)))] : []), set(seq(oid("2.5.4.3"), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const ECDSA_SHA256 = seq(oid("1.2.840.10045.4.3.2"));

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split(".").map(Number));
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const words = (s: string | undefined) => (s ? s.split(":").map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

interface Issued {
  certPem: string;
  keyPem: string;
}

const pem = (label: string, der: Buffer) => `-----BEGIN ${label}-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;
const keyId = (pub: KeyObject) => createHash("sha1").update(pub.export({ type: "spki", format: "der" })).digest();

function certificate(opts: { subject: Buffer; issuer: Buffer; pub: KeyObject; signer: KeyObject; extensions: Buffer[]; years: number }): Buffer {
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const now = new Date(Date.now() - 60_000);
  const until = new Date(now);
  until.setUTCFullYear(until.getUTCFullYear() + opts.years);
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    opts.issuer,
    seq(time(now), time(until)),
    opts.subject,
    opts.pub.export({ type: "spki", format: "der" }),
    explicit(3, seq(...opts.extensions)),
  );
  const signature = sign("sha256", tbs, opts.signer);
  return seq(tbs, ECDSA_SHA256, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
}

/** A fresh CA and a server certificate it signed for `hosts` (DNS names and IP addresses), valid 10 years. */
export function issueServerCertificate(hosts: string[], commonName = "opendepot-admin"): { ca: Issued; server: Issued } {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caName = name(`${commonName}-ca@${Math.floor(Date.now() / 1000)}`, "opendepot");
  const caDer = certificate({
    subject: caName,
    issuer: caName,
    pub: ca.publicKey,
    signer: ca.privateKey,
    years: 10,
    extensions: [
      extension("2.5.29.19", true, seq(bool(true))),
      extension("2.5.29.15", true, namedBits([0, 5, 6])),
      extension("2.5.29.14", false, octets(keyId(ca.publicKey))),
    ],
  });
  const leaf = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const sans = [...new Set(hosts)].map((h) => (isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h, "ascii"))));
  const leafDer = certificate({
    subject: name(commonName),
    issuer: caName,
    pub: leaf.publicKey,
    signer: ca.privateKey,
    years: 10,
    extensions: [
      extension("2.5.29.19", true, seq()),
      extension("2.5.29.15", true, namedBits([0])),
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"))),
      extension("2.5.29.17", false, seq(...sans)),
      extension("2.5.29.35", false, seq(tlv(0x80, keyId(ca.publicKey)))),
    ],
  });
  const keyPem = (k: KeyObject) => k.export({ type: "pkcs8", format: "pem" }).toString();
  return {
    ca: { certPem: pem("CERTIFICATE", caDer), keyPem: keyPem(ca.privateKey) },
    server: { certPem: pem("CERTIFICATE", leafDer), keyPem: keyPem(leaf.privateKey) },
  };
}
