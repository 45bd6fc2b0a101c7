#!/bin/sh
# Builds server.wasm from main.rs, the exact command the committed server.wasm was made with,
# and records the sha256 of the source, this script and the result in build.sha256
# (test/examples-rust-http.test.ts checks the three still match, so an edit of main.rs without
# a rebuild fails the tests even where rustc is not installed, as in CI).
#
# Toolchain (Debian 12): rustc 1.63.0 with its wasm32-wasi standard library:
#   apt-get install -y rustc libstd-rust-dev-wasm32
# No cargo and no crates: std only, plus preview1's poll_oneoff imported directly (main.rs).
# RUSTC names another rustc (the committed file was built with RUSTC=/usr/bin/rustc, Debian's,
# where a rustup toolchain without the wasm target came first in PATH).
set -eu
cd "$(dirname "$0")"
"${RUSTC:-rustc}" --edition 2021 --target wasm32-wasi -O -C strip=debuginfo -o server.wasm main.rs
sha256sum main.rs build.sh server.wasm >build.sha256
