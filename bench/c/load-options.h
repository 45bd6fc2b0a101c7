/*
 * echo-load's command line (the usage is in echo-load.c's header comment): the options, read
 * into the static `opt` by parse_args, which exits 64 on bad usage. Only echo-load.c includes
 * it.
 */
#ifndef BENCH_LOAD_OPTIONS_H
#define BENCH_LOAD_OPTIONS_H

#include "util.h"

static struct {
  int http, depth, size, wait;
  long conns;
  double seconds;
  long long count;
  int port;
} opt = {.depth = 1, .size = 64};

static void usage(void) {
  fprintf(stderr, "usage: echo-load -p PORT -c CONNS (-d SECONDS | -n COUNT) [-m echo|http] "
                  "[-s SIZE] [-P DEPTH] [-W]\n");
  exit(64);
}

static void parse_args(int argc, char **argv) {
  int ch;
  while ((ch = getopt(argc, argv, "p:c:d:n:m:s:P:W")) != -1) {
    switch (ch) {
    case 'p': opt.port = (int)parse_long(optarg, 1, 65535, "port"); break;
    case 'c': opt.conns = parse_long(optarg, 1, 100000, "connections"); break;
    case 'd': opt.seconds = atof(optarg); break;
    case 'n': opt.count = parse_long(optarg, 1, 1000000000L, "count"); break;
    case 'm':
      if (strcmp(optarg, "http") == 0) opt.http = 1;
      else if (strcmp(optarg, "echo") != 0) usage();
      break;
    case 's': opt.size = (int)parse_long(optarg, 1, 65536, "size"); break;
    case 'P': opt.depth = (int)parse_long(optarg, 1, 64, "depth"); break;
    case 'W': opt.wait = 1; break;
    default: usage();
    }
  }
  if (opt.port == 0 || opt.conns == 0 || (opt.seconds <= 0) == (opt.count == 0)) usage();
}

#endif
