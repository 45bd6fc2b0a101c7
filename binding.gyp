{
  # The native shim: build/Release/wasmloop.node, built with `node-gyp configure build`.
  # The guests are built into wasm/ (scripts/build-guests.js), so node-gyp owns build/ alone.
  "targets": [
    {
      "target_name": "wasmloop",
      "sources": [
        "host/native/binding.c",
        "host/native/net.c",
        "host/native/io-fds.c",
        "host/native/inherit.c",
        "host/native/poll.c",
        "host/native/tls.c",
        "host/native/tls-conn.c",
        "host/native/tls-events.c",
        "host/native/tls-bio.c",
        "host/native/tls-binding.c",
        "host/native/errno.c"
      ],
      "defines": ["_GNU_SOURCE"],
      # cflags_c (C files only) comes after node's common.gypi cflags on the command line,
      # so these win; "cflags!" drops the Release -O3 that common.gypi adds. Hidden
      # visibility: only the N-API entry points (marked default by node_api.h) are exported.
      "cflags_c": ["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fvisibility=hidden"],
      "cflags!": ["-O3"]
    }
  ]
}
