// Hex and base64 of raw bytes, strict on the way in: Node's decoders silently skip junk, so input is validated
// before decoding (digests arrive from upstreams, manifests and HTTP clients).

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
// Standard alphabet, canonical padding. Node's decoder silently skips junk, so validate before decoding.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function fromHex(hex: string): Uint8Array {
  if (!HEX.test(hex)) throw new Error(`invalid hex string ${JSON.stringify(hex.slice(0, 80))}`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

export function fromBase64(b64: string): Uint8Array {
  if (!BASE64.test(b64)) throw new Error(`invalid base64 string ${JSON.stringify(b64.slice(0, 80))}`);
  return new Uint8Array(Buffer.from(b64, "base64"));
}
