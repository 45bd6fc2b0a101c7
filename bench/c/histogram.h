/*
 * The load generator's latency histogram (echo-load.c): 64 linear sub-buckets per power of two
 * of nanoseconds, so a percentile is off by less than 1.6%, in a fixed 32 KiB table. Static
 * state and functions: only echo-load.c includes it.
 */
#ifndef BENCH_HISTOGRAM_H
#define BENCH_HISTOGRAM_H

#include <stdint.h>

#define SUB_BITS 6
#define SUB (1u << SUB_BITS)
#define HIST_SIZE (64 * SUB)

static uint64_t hist[HIST_SIZE];
static uint64_t hist_count, hist_max;

static unsigned hist_index(uint64_t v) {
  if (v < SUB) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= SUB_BITS */
  return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> (e - SUB_BITS)) & (SUB - 1));
}

static uint64_t hist_value(unsigned i) { /* the lower bound of bucket i */
  if (i < SUB) return i;
  unsigned e = i / SUB + SUB_BITS - 1;
  return ((uint64_t)SUB + i % SUB) << (e - SUB_BITS);
}

static void hist_add(uint64_t ns) {
  hist[hist_index(ns)]++;
  hist_count++;
  if (ns > hist_max) hist_max = ns;
}

static double hist_pct(double p) { /* microseconds */
  if (hist_count == 0) return 0;
  uint64_t rank = (uint64_t)(p / 100.0 * (double)hist_count);
  if (rank >= hist_count) rank = hist_count - 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_SIZE; i++) {
    seen += hist[i];
    if (seen > rank) return (double)hist_value(i) / 1000.0;
  }
  return (double)hist_max / 1000.0;
}

#endif
