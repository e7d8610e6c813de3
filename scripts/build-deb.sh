#!/usr/bin/env bash
# Builds the Debian package ftpalg_<version>_<arch>.deb from this tree and checks it with lintian.
#
#   scripts/build-deb.sh [OUT_DIR]
#
# A scratch copy of the tree (the files git knows, committed or not; the whole tree when it is
# not a git checkout) goes to OUT_DIR/src/ftpalg (default OUT_DIR: build/deb), packaging/debian
# becomes its debian/, and `dpkg-buildpackage -b -us -uc` runs there. The .deb, .buildinfo and
# .changes land in OUT_DIR/src; the .deb is copied to OUT_DIR. lintian must report no error and
# no warning that debian/ftpalg.lintian-overrides does not explain.
#
# Environment: FTPALG_DEB_CHECK=1 builds and runs the unit tests inside the package build
# (default: nocheck, the CI runs them on the same sources); ccache is used when installed
# (CCACHE_DIR as set; the scratch path stays the same so the cache hits across runs).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)
say() { printf 'build-deb: %s\n' "$*"; }
die() {
  printf 'build-deb: FAIL: %s\n' "$*" >&2
  exit 1
}
start=$(date +%s)

for tool in dpkg-buildpackage dh lintian scdoc; do
  command -v "$tool" >/dev/null || die "$tool missing: scripts/install-deps.sh package"
done

src=$out/src/ftpalg
rm -rf "$out/src"
mkdir -p "$src"
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
  # Tracked and untracked-but-not-ignored files: what a clean checkout of this state has.
  (cd "$here" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    cpio -0 -pdm --quiet "$src")
else
  tar -C "$here" --exclude=./build --exclude=./debian -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"

jobs=$(nproc)
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} parallel=$jobs"
profiles=()
if [[ ${FTPALG_DEB_CHECK:-0} != 1 ]]; then
  DEB_BUILD_OPTIONS="$DEB_BUILD_OPTIONS nocheck"
  profiles=(-Pnocheck)
fi
if command -v ccache >/dev/null; then export FTPALG_LAUNCHER=ccache; fi

say "dpkg-buildpackage in $src (DEB_BUILD_OPTIONS=$DEB_BUILD_OPTIONS)"
(cd "$src" && dpkg-buildpackage -b -us -uc "${profiles[@]}") >"$out/dpkg-buildpackage.log" 2>&1 ||
  { tail -n 40 "$out/dpkg-buildpackage.log" >&2; die "dpkg-buildpackage failed (log: $out/dpkg-buildpackage.log)"; }

version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/src/ftpalg_${version}_${arch}.deb
[[ -f $deb ]] || die "no $deb"
cp "$deb" "$out/"
say "built $out/$(basename "$deb")"
dpkg-deb -c "$deb" | awk '{ print "  " $6 }'

# Errors and warnings fail; overridden tags are listed with their reasons (-i, --show-overrides).
changes=$out/src/ftpalg_${version}_${arch}.changes
say "lintian"
lintian --fail-on error,warning --show-overrides --display-info "$changes" || die "lintian"
say "done in $(($(date +%s) - start))s"
