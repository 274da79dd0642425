#!/bin/sh
# Writes what a release archive ships besides the binary and can be made on any machine: the
# man pages and the shell completions, made by a binary that runs here (one build serves every
# target, cross-compiled ones included).
#   generate.sh ORGFORM_BINARY OUT_DIR   ->  OUT_DIR/man/*.1, OUT_DIR/complete/*
set -eu
orgform=$1
out=$2
mkdir -p "$out/man" "$out/complete"
"$orgform" man --out "$out/man" >/dev/null
"$orgform" completions bash >"$out/complete/orgform.bash"
"$orgform" completions zsh >"$out/complete/_orgform"
"$orgform" completions fish >"$out/complete/orgform.fish"
"$orgform" completions powershell >"$out/complete/_orgform.ps1"
