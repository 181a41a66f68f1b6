import { expect, test } from "bun:test";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as openpgp from "openpgp";
import { KeyFactsMemo } from "./key-memo.ts";
import { SigningKeyRing } from "./key-ring.ts";
import { SigningKey, SigningKeyError } from "./signing.ts";

const memoPath = async () => join(await mkdtemp(join(tmpdir(), "opendepot-memo-")), "memo.json");

test("a remembered key is not parsed until it signs, and signs as the key it was", async () => {
  const path = await memoPath();
  const key = await SigningKey.generate({ name: "t", email: "t@example.com", rsaBits: 2048, passphrase: "secret" });
  const text = key.privateKeyArmored();

  const memo = await KeyFactsMemo.open(path);
  const parsed = await SigningKeyRing.fromArmoredTexts([text], "secret", memo);
  expect(parsed.current.parsed).toBe(true);
  await memo.save();

  const known = await SigningKeyRing.fromArmoredTexts([text], "secret", await KeyFactsMemo.open(path));
  expect(known.current.parsed).toBe(false);
  expect(known.keyId).toBe(key.keyId);
  expect(known.publicKeyArmored).toBe(key.publicKeyArmored);
  expect(known.current.createdAt.getTime()).toBe(key.createdAt.getTime());
  const signature = await known.sign("data");
  expect(known.current.parsed).toBe(true);
  const verified = await openpgp.verify({
    message: await openpgp.createMessage({ binary: new TextEncoder().encode("data") }),
    signature: await openpgp.readSignature({ binarySignature: signature }),
    verificationKeys: await openpgp.readKey({ armoredKey: known.publicKeyArmored }),
  });
  expect(await verified.signatures[0]!.verified).toBe(true);
});

test("another passphrase, another key text or a corrupt memo: the key is parsed (and checked) again", async () => {
  const path = await memoPath();
  const key = await SigningKey.generate({ name: "t", email: "t@example.com", rsaBits: 2048, passphrase: "secret" });
  const memo = await KeyFactsMemo.open(path);
  await SigningKeyRing.fromArmoredTexts([key.privateKeyArmored()], "secret", memo);
  await memo.save();
  // A wrong passphrase is refused at load, as without a memo, not on the first signature.
  await expect(SigningKeyRing.fromArmoredTexts([key.privateKeyArmored()], "wrong", await KeyFactsMemo.open(path))).rejects.toBeInstanceOf(SigningKeyError);
  const other = await SigningKey.generate({ name: "u", email: "u@example.com", rsaBits: 2048 });
  const ring = await SigningKeyRing.fromArmoredTexts([other.privateKeyArmored()], "secret", await KeyFactsMemo.open(path));
  expect(ring.current.parsed).toBe(true);
  await writeFile(path, "{ not json");
  expect((await SigningKeyRing.fromArmoredTexts([key.privateKeyArmored()], "secret", await KeyFactsMemo.open(path))).current.parsed).toBe(true);
});
