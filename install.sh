#!/bin/sh
# Installs a release of orgform for this machine, after checking the archive's SHA-256.
#
#   sh install.sh --version 0.1.0 [--to DIR] [--sha256 HEX] [--target TRIPLE] [--base-url URL]
#
# --version   the release to install (required: an install is reproducible, there is no "latest")
# --to        where to put the binary (default: ~/.local/bin)
# --sha256    the archive's expected SHA-256; without it, the release's ARCHIVE.sha256 file
# --target    another platform's archive (default: this machine's, from uname)
# --base-url  where releases are laid out as URL/vVERSION/ARCHIVE (default: GitHub releases;
#             file:// URLs work too)
#
# Nothing is installed unless the archive's sum matches; the binary replaces an earlier one in
# one rename. Needs sh, curl or wget, tar, and sha256sum or shasum. See docs/install.md.
set -eu

base_url="https://github.com/orgform/orgform/releases/download"
version=""
to="${HOME:-}/.local/bin"
expected=""
target=""

fail() {
    echo "orgform install: $*" >&2
    exit 1
}

while [ $# -gt 0 ]; do
    case "$1" in
    --version) version=${2:-}; shift 2 ;;
    --to) to=${2:-}; shift 2 ;;
    --sha256) expected=${2:-}; shift 2 ;;
    --target) target=${2:-}; shift 2 ;;
    --base-url) base_url=${2:-}; shift 2 ;;
    -h | --help)
        sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) fail "unknown option '$1' (see --help)" ;;
    esac
done

[ -n "$version" ] || fail "--version is required (e.g. --version 0.1.0)"
version=${version#v}
case "$version" in
*[!0-9A-Za-z.+-]* | "") fail "'$version' is not a version" ;;
esac
[ -n "$to" ] || fail "--to needs a directory"

native=no
if [ -z "$target" ]; then
    native=yes
    os=$(uname -s)
    arch=$(uname -m)
    case "$arch" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) fail "no release archive for the processor '$arch'; build from source: cargo install --locked orgform" ;;
    esac
    case "$os" in
    Linux) target="$arch-unknown-linux-musl" ;;
    Darwin) target="$arch-apple-darwin" ;;
    *) fail "this installer is for Linux and macOS ('$os'); on Windows download the zip or run: cargo binstall orgform" ;;
    esac
fi

archive="orgform-$version-$target.tar.gz"
url="${base_url%/}/v$version/$archive"

download() {
    if command -v curl >/dev/null 2>&1; then
        curl --proto '=https,file' --tlsv1.2 -fsSL -o "$2" "$1"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1"
    else
        fail "needs curl or wget"
    fi
}

sha256_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        fail "needs sha256sum or shasum to check the archive"
    fi
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

download "$url" "$work/$archive" || fail "cannot download $url"
if [ -z "$expected" ]; then
    download "$url.sha256" "$work/$archive.sha256" || fail "cannot download $url.sha256"
    expected=$(cut -d ' ' -f 1 <"$work/$archive.sha256")
fi
expected=$(printf '%s' "$expected" | tr 'A-F' 'a-f')
case "$expected" in
*[!0-9a-f]* | "") fail "the expected SHA-256 '$expected' is not 64 hexadecimal digits" ;;
esac
[ "${#expected}" -eq 64 ] || fail "the expected SHA-256 '$expected' is not 64 hexadecimal digits"
actual=$(sha256_of "$work/$archive")
if [ "$actual" != "$expected" ]; then
    fail "checksum mismatch for $archive: expected $expected, got $actual; nothing was installed"
fi

tar -xzf "$work/$archive" -C "$work"
binary="$work/orgform-$version-$target/orgform"
[ -f "$binary" ] || fail "$archive holds no orgform-$version-$target/orgform"
chmod 755 "$binary"
name="orgform $version ($target)"
if [ "$native" = yes ]; then
    # The binary must run here before it replaces anything.
    name=$("$binary" --version) || fail "the orgform of $archive does not run on this machine; nothing was installed"
fi

mkdir -p "$to"
cp "$binary" "$to/.orgform.partial"
mv -f "$to/.orgform.partial" "$to/orgform"
echo "installed $name to $to/orgform"
