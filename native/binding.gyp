{
  "targets": [
    {
      "target_name": "rill_sys",
      "sources": ["src/addon.c", "src/args.c", "src/seek.c", "src/xattr.c", "src/node.c", "src/time.c", "src/space.c", "src/pipe.c", "src/blkdev.c", "src/dirstat.c", "src/lock.c", "src/freeze.c", "src/ring.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    },
    {
      "target_name": "rill_peercred",
      "sources": ["control/peercred.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
