// A module version's archive: the GitHub tarball of its tag (v<version>, else <version>), repackaged with the
// module at the root, deterministically, in the requested format. Streams end to end.
import type { VersionObject } from "../api/kinds.ts";
import { LABELS } from "../api/meta.ts";
import { inlineModuleName, moduleArchiveFormat, ownerNameFrom } from "../api/naming.ts";
import { repackageModule, type ModuleReadme } from "../artifacts/repackage.ts";
import { readModuleSources } from "../artifacts/module-docs-files.ts";
import type { GitHubClient } from "../sources/github.ts";
import type { ModuleSources } from "./module-docs-configmap.ts";

export interface ModuleArchive {
  stream: ReadableStream<Uint8Array>;
  /** Filled in while the stream is read (before its first byte). */
  readme: () => ModuleReadme | undefined;
  /** The configuration files for the documentation, read (within bounds) while the stream is read. */
  moduleSources: () => ModuleSources | undefined;
  ref: string;
}

/** The GitHub repository a module Version comes from: moduleConfigRef.name, the module label, repoUrl, or its name. */
export function moduleRepository(v: VersionObject): { owner: string; repo: string } {
  const config = v.spec.moduleConfigRef;
  const owner = config?.repoOwner?.trim();
  if (!owner) throw new ModuleSpecError("moduleConfigRef.repoOwner is required to fetch the module from GitHub");
  const repo = config?.name?.trim() || ownerNameFrom(v.metadata, LABELS.module) || inlineModuleName(config, v.metadata.name, v.spec.version) || "";
  if (!repo) throw new ModuleSpecError("moduleConfigRef.name (the GitHub repository) is required for this Version");
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(repo) || !/^[A-Za-z0-9-]{1,39}$/.test(owner)) throw new ModuleSpecError(`"${owner}/${repo}" is not a valid GitHub repository`);
  return { owner, repo };
}

export class ModuleSpecError extends Error {
  override readonly name = "ModuleSpecError";
}

export async function fetchModuleArchive(v: VersionObject, github: GitHubClient, options: { tmpDir?: string } = {}): Promise<ModuleArchive> {
  const { owner, repo } = moduleRepository(v);
  const version = v.spec.version.trim().replace(/^v/i, "");
  const { ref, stream } = await github.resolveArchive(owner, repo, version, "tar.gz");
  let readme: ModuleReadme | undefined;
  let moduleSources: ModuleSources | undefined;
  const out = repackageModule(stream, "tar.gz", moduleArchiveFormat(v.spec.moduleConfigRef?.fileFormat), {
    tmpDir: options.tmpDir,
    onReadme: (r) => {
      readme = r;
    },
    onFiles: async (files) => {
      moduleSources = await readModuleSources(files);
    },
  });
  return { stream: out, readme: () => readme, moduleSources: () => moduleSources, ref };
}
