#!/bin/sh
# Builds echo.wasm from echo.c, the exact command the committed echo.wasm was made with, and
# records the sha256 of the source, this script and the result in build.sha256
# (test/examples-c-echo.test.ts checks the three still match, so an edit of echo.c without a
# rebuild fails the tests even where clang is not installed, as in CI).
#
# Toolchain (Debian 12): clang 14.0.6, lld, wasi-libc 0.0~git20220510.9886d3d,
# libclang-rt-14-dev-wasm32:
#   apt-get install -y clang lld wasi-libc libclang-rt-14-dev-wasm32
# The same source builds natively too (the benchmark does: bench/build.ts):
#   cc -std=c11 -O2 -Wall -Wextra -Werror -o echo echo.c
#
# The stack is 1 MiB, not wasm-ld's 64 KiB: wasi-libc's poll() builds its poll_oneoff
# subscriptions in a stack array of 2 x nfds + 1 entries of 48 bytes, more than 64 KiB from
# about 680 descriptors (echo.c polls up to 1025). wasm-ld places the stack right above the
# static data and nothing checks it, so an overflow writes over that data silently (built
# with 64 KiB, this program still served 1,000 clients, by luck of what lies there; a small
# test program polling 1,025 descriptors trapped instead).
set -eu
cd "$(dirname "$0")"
clang --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wextra -Werror -Wl,-z,stack-size=1048576 \
  -o echo.wasm echo.c
sha256sum echo.c build.sh echo.wasm >build.sha256
