// UUIDv7 (RFC 9562) from Web Crypto, in place of Bun.randomUUIDv7: 48 bits of Unix milliseconds, then a 12-bit
// counter so ids made in the same millisecond still sort in creation order (as Bun's do), then 62 random bits.
// Used for artifact file names (api/naming.ts), leader-election identities and spool files.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

let lastMs = -1;
let counter = 0;

export function uuidv7(now: number = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  if (now > lastMs) {
    lastMs = now;
    counter = ((b[6]! & 0x07) << 8) | b[7]!; // a random start below 2^11 leaves room to count up
  } else if (++counter > 0xfff) {
    lastMs++; // 4096 ids in one millisecond: borrow the next one rather than repeat or go backwards
    counter = 0;
  }
  const ms = lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = (i: number) => HEX[b[i]!]!;
  return `${h(0)}${h(1)}${h(2)}${h(3)}-${h(4)}${h(5)}-${h(6)}${h(7)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}
