// The network mirror's answers (`index.json`, `<version>.json`) for a validated address, apart from the Elysia route
// (routes-mirror.ts) so that the fast path (fast-path.ts) can call the very same code without loading Elysia.
// The mapping from mirror addresses to Providers and the hashes served are described in routes-mirror.ts.
import { ArtifactUrls } from "./artifact-urls.ts";
import { lifecyclePolicy, type MirrorConfig, type ServerContext } from "./context.ts";
import { yankRefusal } from "./lifecycle.ts";
import { BoundedMemo, errorResponse, jsonText, notFound, Refusal } from "./http.ts";
import { hostnameParam, nameParam, namespaceParam, versionParam } from "./params.ts";

/** A mirror document's address, validated: `version` undefined for `index.json`. */
export interface MirrorAddress {
  hostname: string;
  upstreamNs: string;
  type: string;
  version: string | undefined;
}

/** The address of route parameters; a bad segment is a 400 (BadRequest), an unknown document a 404 (Refusal). */
export function mirrorAddressOf(p: Record<string, string>): MirrorAddress {
  const hostname = hostnameParam(p.hostname!);
  const upstreamNs = namespaceParam(p.namespace!);
  const type = nameParam(p.type!, "provider type");
  const file = p.file!;
  const version = file === "index.json" ? undefined : file.endsWith(".json") ? versionParam(file.slice(0, -".json".length)) : undefined;
  if (file !== "index.json" && version === undefined) throw new Refusal(notFound("document"));
  return { hostname, upstreamNs, type, version };
}

/**
 * The mirror's answers for a validated address: authorize the caller (401/403), find the Provider (404), answer
 * `index.json` or `<version>.json`. The Elysia route and the fast path (fast-path.ts) both call `answer`, and share
 * its memo (one instance per context: mirrorAnswersFor).
 */
export class MirrorAnswers {
  private readonly links: ArtifactUrls;
  // version.json bodies are identical within one URL-expiry window for one set of build revisions: build each once.
  private readonly memo = new BoundedMemo<string>(10_000);

  constructor(
    private readonly ctx: ServerContext,
    private readonly mirror: MirrorConfig,
  ) {
    this.links = new ArtifactUrls(ctx);
  }

  async answer(request: Request, a: MirrorAddress): Promise<Response> {
    const { ctx, mirror } = this;
    const address = `${a.hostname}/${a.upstreamNs}/${a.type}`;
    const provider = mirror.hostnames.has(a.hostname) ? ctx.index.mirrorProvider(mirror.namespace, a.upstreamNs, a.type) : undefined;
    const name = provider?.metadata.name ?? a.type;
    const denied = await ctx.gatekeeper.authorize(request, { kind: "provider", namespace: mirror.namespace, name });
    if (denied) return denied;
    if (!provider) return notFound(`provider ${address}`);
    return a.version === undefined ? jsonText(ctx.index.mirrorVersionsBody(mirror.namespace, name)) : this.versionDocument(address, name, a.version);
  }

  private versionDocument(address: string, name: string, version: string): Response {
    const { ctx, mirror, links } = this;
    const found = ctx.index.mirrorBuilds(mirror.namespace, name, version);
    if (found.length === 0) return notFound(`provider ${address} version ${version}`);
    const refusal = yankRefusal(found[0]!, lifecyclePolicy(ctx));
    const builds = found.filter((v) => !yankRefusal(v, lifecyclePolicy(ctx)));
    if (builds.length === 0) return errorResponse(404, `provider ${address} ${refusal}`);
    const expires = links.expiresAt();
    const memoKey = `${mirror.namespace}/${name}/${version}/${expires}/${builds.map((v) => `${v.metadata.name}@${v.metadata.resourceVersion}:${v.status!.checksum}:${v.status!.h1}`).sort().join(",")}`;
    const memoised = this.memo.get(memoKey);
    if (memoised) return jsonText(memoised);
    const archives: Record<string, { url: string; hashes: string[] }> = {};
    for (const v of [...builds].sort((a, b) => `${a.spec.operatingSystem}_${a.spec.architecture}`.localeCompare(`${b.spec.operatingSystem}_${b.spec.architecture}`))) {
      archives[`${v.spec.operatingSystem}_${v.spec.architecture}`] = { url: links.providerZip(mirror.namespace, name, v, expires), hashes: [v.status!.h1!] };
    }
    const body = JSON.stringify({ archives });
    this.memo.set(memoKey, body);
    return jsonText(body);
  }
}

const mirrorAnswersByContext = new WeakMap<ServerContext, MirrorAnswers>();

/** The context's one MirrorAnswers (undefined when it has no mirror), shared by the route and the fast path. */
export function mirrorAnswersFor(ctx: ServerContext): MirrorAnswers | undefined {
  if (!ctx.mirror) return undefined;
  let answers = mirrorAnswersByContext.get(ctx);
  if (!answers) mirrorAnswersByContext.set(ctx, (answers = new MirrorAnswers(ctx, ctx.mirror)));
  return answers;
}

