#!/bin/sh
# Packs one release archive and its SHA-256 sum, as install.sh, the setup action and
# `cargo binstall` expect them (docs/install.md):
#   package.sh VERSION TARGET BINARY GENERATED OUT_DIR
#     -> OUT_DIR/orgform-VERSION-TARGET.tar.gz (.zip for Windows) and ….sha256
# GENERATED is what generate.sh wrote. Run from the repository's root. The release workflow
# and the tests (which lay out a release from their own binary) both use this script.
set -eu
version=$1
target=$2
binary=$3
generated=$4
out=$5

name="orgform-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/doc" "$out"
cp "$binary" "$stage/$name/"
cp README.md LICENSE CHANGELOG.md "$stage/$name/"
cp -R "$generated/man" "$stage/$name/doc/man"
cp -R "$generated/complete" "$stage/$name/complete"

case "$target" in
*windows*)
    archive="$name.zip"
    (cd "$stage" && 7z a -tzip -bd "$name.zip" "$name" >/dev/null)
    ;;
*)
    archive="$name.tar.gz"
    (cd "$stage" && tar -czf "$name.tar.gz" "$name")
    ;;
esac
mv "$stage/$archive" "$out/$archive"

cd "$out"
if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$archive" >"$archive.sha256"
else
    shasum -a 256 "$archive" >"$archive.sha256"
fi
echo "$out/$archive"
