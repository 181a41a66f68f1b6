// The OIDC gatekeeper (v0.9 §5.3, improved): a bearer JWT from our issuer is verified locally and its groups are
// matched against GroupBindings; with SA fallback, a token our issuer did not sign goes to Kubernetes
// (TokenReview + SubjectAccessReview) instead. 401 when there is no usable token, 403 when the caller is known but
// not allowed. Every refusal is logged with the reason and the subject — never with the token.
import type { Logger } from "../../log.ts";
import type { Gatekeeper, RegistryTarget } from "../context.ts";
import type { BindingIndex } from "./binding-index.ts";
import { attributesFor, type KubernetesTokenAuthorizer } from "./kubernetes.ts";
import { TOKEN_SYNTAX, TokenRejected, type OidcVerifier } from "./oidc-verifier.ts";
import { forbidden, unauthorized, unavailable } from "./responses.ts";

const MAX_TOKEN_LENGTH = 16 * 1024;
const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;

export interface OidcGatekeeperOptions {
  verifier: OidcVerifier;
  bindings: BindingIndex;
  log: Logger;
  /** Set when --oidc-allow-sa-fallback is on. */
  kubernetes?: KubernetesTokenAuthorizer;
}

/** What a remembered principal was allowed to see, while the bindings are those of `generation`. */
interface Allowed {
  generation: number;
  /** `kind\0namespace\0name` → the deciding binding (`namespace/name`), for the log line. */
  targets: Map<string, string>;
}

/** Targets remembered per principal; more (a crawl of every module) start the list afresh. */
const MAX_ALLOWED_TARGETS = 1024;

export class OidcGatekeeper implements Gatekeeper {
  /**
   * Allow decisions per verified principal (the verifier hands out the same object for the same token until it
   * expires): a CLI's burst of requests with one token is decided once per resource, synchronously after that.
   * Only allowances are remembered (refusals log and count every time), and all of them go when a binding changes.
   */
  private readonly allowed = new WeakMap<object, Allowed>();

  constructor(private readonly options: OidcGatekeeperOptions) {}

  authorize(request: Request, target: RegistryTarget): Response | undefined | Promise<Response | undefined> {
    const header = request.headers.get("authorization");
    if (header !== null) {
      const principal = this.rememberedPrincipal(header);
      const known = principal && this.allowed.get(principal);
      const binding = known && known.generation === this.options.bindings.generation ? known.targets.get(`${target.kind}\u0000${target.namespace}\u0000${target.name}`) : undefined;
      if (binding !== undefined) {
        // The remembered allowance is the hot path: its debug line's fields are only built when debug is on.
        const { log } = this.options;
        if (log.enabled("debug")) log.debug("access allowed", { subject: principal!.subject, principal: principal!.kind, binding, kind: target.kind, namespace: target.namespace, name: target.name });
        return undefined;
      }
    }
    return this.decide(request, target);
  }

  /** The principal of a bearer token the verifier remembers (so verified by our issuer, still valid); else undefined. */
  private rememberedPrincipal(header: string) {
    // A CLI sends the same header on every request of a run. Comparing it with the last one (a length check and a
    // memcmp) and reusing the token string cut from it then, whose hash the engine has kept, spares taking apart
    // and hashing a ~1 KiB token for the verifier's memo on every request.
    let token: string | undefined;
    if (header === this.lastHeader) token = this.lastToken;
    else {
      // What CLIs send, `Bearer <token>`, is taken apart without a regular expression (a quarter of this path's
      // cost for a 1 KiB token); any other spelling goes through BEARER as in decide().
      token = header.startsWith("Bearer ") && header.charCodeAt(7) !== 32 && !header.includes(" ", 8) ? header.slice(7) : BEARER.exec(header)?.[1];
      if (header.length <= MAX_TOKEN_LENGTH + 16) {
        this.lastHeader = header;
        this.lastToken = token;
      }
    }
    return token && token.length <= MAX_TOKEN_LENGTH ? this.options.verifier.remembered(token) : undefined;
  }
  private lastHeader: string | undefined;
  private lastToken: string | undefined;

  private remember(principal: object, target: RegistryTarget, binding: string): void {
    const generation = this.options.bindings.generation;
    let known = this.allowed.get(principal);
    if (!known || known.generation !== generation || known.targets.size >= MAX_ALLOWED_TARGETS) this.allowed.set(principal, (known = { generation, targets: new Map() }));
    known.targets.set(`${target.kind}\u0000${target.namespace}\u0000${target.name}`, binding);
  }

  private async decide(request: Request, target: RegistryTarget): Promise<Response | undefined> {
    const header = request.headers.get("authorization");
    if (!header) return this.refuse(401, "missing Authorization header", target, { tokenPresented: false });
    const match = BEARER.exec(header);
    const token = match?.[1];
    if (!token) return this.refuse(401, "Authorization header is not a Bearer token", target, { tokenPresented: false });
    if (token.length > MAX_TOKEN_LENGTH) return this.refuse(401, "malformed token", target, { tokenPresented: true });

    const { verifier, kubernetes } = this.options;
    if (kubernetes && !verifier.claimsOurIssuer(token)) {
      if (!TOKEN_SYNTAX.test(token)) return this.refuse(401, "malformed token", target, { tokenPresented: true });
      return this.viaKubernetes(kubernetes, token, target);
    }

    let principal;
    try {
      principal = await verifier.verify(token);
    } catch (e) {
      if (e instanceof TokenRejected) return this.refuse(401, e.reason, target, { tokenPresented: true, claimedSubject: unverifiedSubject(token) });
      throw e;
    }
    const who = { subject: principal.subject, principal: principal.kind };
    if (principal.groupsProblem) return this.refuse(403, principal.groupsProblem, target, who);
    if (principal.groups.length === 0) return this.refuse(403, "token carries no groups", target, who);

    const selection = this.options.bindings.select(principal.groups, target.namespace);
    if (!selection.binding) {
      if (selection.error) return this.refuse(403, "access could not be evaluated", target, who);
      return this.refuse(403, `no GroupBinding matches the caller's groups in namespace ${target.namespace}`, target, { ...who, groups: principal.groups.slice(0, 50) });
    }
    const { binding } = selection;
    if (!this.options.bindings.grants(binding, target.kind, target.name)) {
      return this.refuse(403, `the caller's GroupBinding does not grant ${target.kind} ${target.namespace}/${target.name}`, target, { ...who, binding: `${binding.namespace}/${binding.name}` });
    }
    this.remember(principal, target, `${binding.namespace}/${binding.name}`);
    this.options.log.debug("access allowed", { ...who, binding: `${binding.namespace}/${binding.name}`, kind: target.kind, namespace: target.namespace, name: target.name });
    return undefined;
  }

  private async viaKubernetes(kubernetes: KubernetesTokenAuthorizer, token: string, target: RegistryTarget): Promise<Response | undefined> {
    let decision;
    try {
      decision = await kubernetes.review(token, attributesFor(target));
    } catch (e) {
      this.options.log.error("Kubernetes token review failed", { kind: target.kind, namespace: target.namespace, name: target.name, error: e instanceof Error ? e.message : String(e) });
      return unavailable("could not check the token with Kubernetes; try again");
    }
    switch (decision.outcome) {
      case "allowed":
        this.options.log.debug("access allowed", { subject: decision.user, principal: "kubernetes", kind: target.kind, namespace: target.namespace, name: target.name });
        return undefined;
      case "denied":
        return this.refuse(403, decision.reason || `Kubernetes RBAC does not allow get on ${target.kind}s`, target, { subject: decision.user, principal: "kubernetes" });
      case "unauthenticated":
        return this.refuse(401, decision.reason || "Kubernetes did not accept the token", target, { tokenPresented: true, principal: "kubernetes" });
    }
  }

  private refuse(status: 401 | 403, reason: string, target: RegistryTarget, fields: Record<string, unknown> & { tokenPresented?: boolean }): Response {
    const { tokenPresented, ...rest } = fields;
    this.options.log.warn("access denied", { status, reason, ...rest, kind: target.kind, namespace: target.namespace, name: target.name });
    return status === 401 ? unauthorized(reason, tokenPresented === true) : forbidden(reason);
  }
}

/** The `sub` a refused token claims, for the log only (it is unverified, so labelled as such). */
function unverifiedSubject(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as { sub?: unknown };
    return typeof payload.sub === "string" ? payload.sub.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}
