# OpenStack Swift with the s3api middleware: the SigV4-verifying S3 peer of src/storage/s3.test.ts.
# Sourced by .ci/run (which defines apt_install); idempotent; also runs on its own: `bash .ci/install/swift.sh`.
# Only the packages are installed: test/peers/swift.ts writes configs, rings and data into a temp dir per run.
# shellcheck source=.ci/apt.sh
declare -F apt_install >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"
apt_install swift-proxy swift-account swift-container swift-object memcached
# Swift reads /etc/swift/swift.conf when its modules load (before our swift_dir applies); the package ships one.
if [ ! -s /etc/swift/swift.conf ]; then
  mkdir -p /etc/swift
  printf '[swift-hash]\nswift_hash_path_suffix = opendepot-ci\nswift_hash_path_prefix = opendepot-ci\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n' >/etc/swift/swift.conf
fi
for bin in swift-proxy-server swift-account-server swift-container-server swift-object-server swift-ring-builder memcached; do
  command -v "$bin" >/dev/null || { echo "FATAL: $bin missing after installing Swift" >&2; return 1 2>/dev/null || exit 1; }
done
