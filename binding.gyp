{
  # The native shim: build/Release/wasmloop.node. Built with `node-gyp configure build`
  # (never `rebuild`: that wipes build/, where the guests' .wasm files also live).
  "targets": [
    {
      "target_name": "wasmloop",
      "sources": [
        "host/native/binding.c",
        "host/native/net.c",
        "host/native/poll.c",
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
