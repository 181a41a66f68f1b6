// The keys Secret of a Kubernetes install, created by the controller on first start when it is absent, so that
// `helm install` needs no Secret made by hand. Create-if-absent only: an existing Secret (made by a previous start,
// by another replica that won the race, or by the operator) is never read, changed or regenerated — rotating the
// keys is the operator's decision (README "Install on Kubernetes"). The server mounts the Secret's files.
import { randomBytes } from "node:crypto";
import { Secret } from "../api/kinds.ts";
import type { KubeObject } from "../api/meta.ts";
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SigningKey } from "../artifacts/signing.ts";
import type { Logger } from "../log.ts";
import { isAlreadyExists } from "../store/errors.ts";
import type { ResourceStore } from "../store/types.ts";

export const URL_SIGNING_KEY = "url-signing.key";
export const BOOTSTRAPPED_BY_ANNOTATION = "opendepot.defdev.io/bootstrapped-by";

export type BootstrapResult = "exists" | "created" | "lost-race";

/** Ensure Secret `namespace/name` holds the registry keys; never touches one that already exists. */
export async function ensureKeysSecret(store: ResourceStore, namespace: string, name: string, log: Logger, generate = generateKeys): Promise<BootstrapResult> {
  if (await store.get(Secret, namespace, name)) {
    log.info("keys Secret present; using it as is", { secret: `${namespace}/${name}` });
    return "exists";
  }
  const data = await generate();
  const secret: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace, labels: { "app.kubernetes.io/name": "opendepot", "app.kubernetes.io/component": "keys" }, annotations: { [BOOTSTRAPPED_BY_ANNOTATION]: "opendepot controller" } },
    type: "Opaque",
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")])),
  };
  try {
    // POST fails with AlreadyExists when another replica created it first: theirs wins, ours is discarded.
    await store.create(secret);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    log.info("keys Secret created by another replica meanwhile; using theirs", { secret: `${namespace}/${name}` });
    return "lost-race";
  }
  log.info("keys Secret created", { secret: `${namespace}/${name}` });
  return "created";
}

/** A URL-signing key (32 random bytes, hex) and an RSA OpenPGP key pair for provider SHA256SUMS. */
export async function generateKeys(): Promise<Record<string, string>> {
  const key = await SigningKey.generate({ name: "OpenDepot registry", email: "opendepot@localhost" });
  return {
    [URL_SIGNING_KEY]: `${randomBytes(32).toString("hex")}\n`,
    [PRIVATE_KEY_FILE]: key.privateKeyArmored(),
    [PUBLIC_KEY_FILE]: key.publicKeyArmored,
  };
}
