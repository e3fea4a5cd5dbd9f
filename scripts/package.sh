#!/usr/bin/env bash
# Builds what a release publishes, into target/dist/ (or OUT_DIR), from the one
# release build of the host:
#   mcp_push-V-py3-none-TAG.whl              PyPI: uvx / pipx / pip install mcp-push
#                                            (with the notify.py drop-in as `mcp_push`)
#   mcp-push-linux-x64-V.tgz, mcp-push-V.tgz npm: @mcp-push/linux-x64, then mcp-push (npx;
#                                            with the drop-in `mcp-push/sendNotify`)
#   mcp-push-V-x86_64-unknown-linux-gnu.tar.gz   the release page's archive
#   SHA256SUMS                               of the four above
# Every artifact carries the executable `mcp-push plugin precompile` writes
# (the bundled channels compiled and appended), so a first start compiles
# nothing. Templates are under packaging/. Running it again rewrites the same
# files.
#
# Usage: scripts/package.sh [OUT_DIR]
#   MCP_PUSH_PACKAGE_EXE  package this executable instead of running
#                         `cargo build --release` (the tests pass theirs)
#   MCP_PUSH_CACHE_DIR    compile cache for precompiling (default
#                         target/package-cache, so a rerun compiles nothing)
#   SOURCE_DATE_EPOCH     the time stamp written into the wheel and archive
#                         (default 1980-01-01; npm pack writes its own)
# Needs: python3, npm, objdump, strip, tar, gzip, sha256sum. Linux x86_64 only.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
dist="$(mkdir -p "${1:-$target/dist}" && cd "${1:-$target/dist}" && pwd)"
# Not exported: cc-based build scripts (ring's) rerun when it changes, and
# wasmtime and everything above them with it.
epoch="${SOURCE_DATE_EPOCH:-315532800}"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "package.sh: packages are built on Linux x86_64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi

exe="${MCP_PUSH_PACKAGE_EXE:-}"
if [ -z "$exe" ]; then
  (cd "$root" && cargo build --release -p mcp-push --bin mcp-push)
  exe="$target/release/mcp-push"
fi
version="$("$exe" --version | awk '{print $2}')"
triple=x86_64-unknown-linux-gnu

# The newest glibc symbol version the executable needs sets the wheel's
# platform tag (PEP 600); 2.17 is manylinux2014's, the oldest pip names.
glibc="$(objdump -T "$exe" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -1)"
if [ "$(printf '%s\n' "$glibc" 2.17 | sort -V | tail -1)" = 2.17 ]; then
  platform=manylinux_2_17_x86_64.manylinux2014_x86_64
else
  platform="manylinux_${glibc/./_}_x86_64"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-push-package.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Stripped first (52.2 -> 42.0 MB, 24.2 -> 22.3 MB gzipped): stripping after
# would cut off the compiled channels precompile appends. A panic's backtrace
# then names no functions; the release build has no debug info to lose.
strip -o "$work/mcp-push-stripped" "$exe"
mkdir -p "$work/plugins"
"$work/mcp-push-stripped" plugin precompile --out "$work/mcp-push" \
  --cache-dir "${MCP_PUSH_CACHE_DIR:-$target/package-cache}" \
  --plugins-dir "$work/plugins" --config "$work/no-config.toml" >/dev/null
bin="$work/mcp-push"

wheel="mcp_push-$version-py3-none-$platform.whl"
npm_platform="mcp-push-linux-x64-$version.tgz"
npm_main="mcp-push-$version.tgz"
archive="mcp-push-$version-$triple.tar.gz"
rm -f "$dist"/mcp_push-*.whl "$dist"/mcp-push-*.tgz "$dist"/mcp-push-*-"$triple".tar.gz "$dist/SHA256SUMS"

# 1. PyPI.
SOURCE_DATE_EPOCH="$epoch" python3 "$root/packaging/wheel.py" --exe "$bin" --version "$version" \
  --platform "$platform" --readme "$root/README.md" --out-dir "$dist" \
  --package "$root/dropin/python/mcp_push" >/dev/null

# 2. npm: the platform package, then the launcher that depends on it. The
# templates say @VERSION@ where the version goes.
stage_npm() { # template dir, stage dir
  mkdir -p "$2"
  sed "s/@VERSION@/$version/g" "$1/package.json" >"$2/package.json"
  cp "$root/README.md" "$2/README.md"
}
stage_npm "$root/packaging/npm/linux-x64" "$work/npm-linux-x64"
install -D -m 755 "$bin" "$work/npm-linux-x64/bin/mcp-push"
stage_npm "$root/packaging/npm/mcp-push" "$work/npm-main"
install -D -m 755 "$root/packaging/npm/mcp-push/bin/mcp-push.js" "$work/npm-main/bin/mcp-push.js"
install -m 644 "$root/dropin/js/sendNotify.js" "$work/npm-main/sendNotify.js"
for pkg in npm-linux-x64 npm-main; do
  (cd "$work/$pkg" && npm pack --silent --pack-destination "$dist" \
    --cache "$work/npm-cache" --update-notifier=false >/dev/null)
done

# 3. The archive: one directory, reproducible (sorted, fixed owner and time).
# The repository has no licence files yet (Cargo.toml says MIT OR Apache-2.0);
# any LICENSE* or COPYING* added at its root is shipped too.
dir="mcp-push-$version-$triple"
mkdir -p "$work/$dir"
install -m 755 "$bin" "$work/$dir/mcp-push"
install -m 644 "$root/README.md" "$work/$dir/README.md"
for licence in "$root"/LICENSE* "$root"/COPYING*; do
  if [ -f "$licence" ]; then install -m 644 "$licence" "$work/$dir/"; fi
done
tar -C "$work" --sort=name --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" -cf - "$dir" | gzip -n -6 >"$dist/$archive.partial"
mv "$dist/$archive.partial" "$dist/$archive"

(cd "$dist" && sha256sum "$wheel" "$npm_platform" "$npm_main" "$archive" >SHA256SUMS)

echo "mcp-push $version (needs glibc $glibc) packaged into $dist:"
(cd "$dist" && for f in "$wheel" "$npm_platform" "$npm_main" "$archive" SHA256SUMS; do
  printf '  %-72s %8s\n' "$f" "$(du -h "$f" | cut -f1)"
done)
