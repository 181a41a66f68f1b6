// The HCL parser's WebAssembly, imported `with { type: "file" }`: a path on disk (inside a compiled binary, Bun's
// embedded file system).
declare module "@cdktf/hcl2json/main.wasm.gz" {
  const path: string;
  export default path;
}
