/*
 * The request-head parser of the reference HTTP server (http-server.c): what a careful
 * hand-written server checks and no more. The request line and version are checked,
 * Connection and Content-Length are read, and anything it cannot handle (Transfer-Encoding, a
 * malformed line) is refused. Static functions: only http-server.c includes it. parse_head is
 * one function on purpose: split, GCC allocates the server's hot loop differently, and this
 * server is the baseline wasmloop is measured against.
 */
#ifndef BENCH_HTTP_PARSE_H
#define BENCH_HTTP_PARSE_H

#include "util.h"

#include <ctype.h>
#include <strings.h>

struct request {
  int keep_alive, head, minor;
  int64_t body;
};

static int has_token(const char *v, size_t len, const char *token) {
  size_t t = strlen(token);
  for (size_t i = 0; i + t <= len; i++) {
    if (strncasecmp(v + i, token, t) == 0) return 1;
  }
  return 0;
}

/* Parses the head p[0..len) (ending with CRLF CRLF). 0, or -1 for a request we refuse. */
static int parse_head(const char *p, size_t len, struct request *r) {
  const char *end = p + len;
  const char *eol = memchr(p, '\n', len);
  if (eol == NULL || eol == p || eol[-1] != '\r') return -1;
  const char *sp = memchr(p, ' ', (size_t)(eol - p));
  if (sp == NULL || sp == p || eol - 1 - p < 10) return -1;
  const char *version = eol - 1 - 8;
  if (version[-1] != ' ' || memcmp(version, "HTTP/1.", 7) != 0) return -1;
  int minor = version[7] - '0';
  if (minor != 0 && minor != 1) return -1;
  r->head = sp - p == 4 && memcmp(p, "HEAD", 4) == 0;
  r->minor = minor;
  r->keep_alive = minor == 1;
  r->body = 0;
  for (const char *line = eol + 1; line < end;) {
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL || nl == line || nl[-1] != '\r') return -1; /* bare LF */
    if (nl - 1 == line) break;                               /* the empty line */
    const char *colon = memchr(line, ':', (size_t)(nl - line));
    if (colon == NULL || colon == line) return -1;
    size_t name = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < nl - 1 && (*v == ' ' || *v == '\t')) v++;
    size_t vlen = (size_t)(nl - 1 - v);
    if (name == 10 && strncasecmp(line, "connection", 10) == 0) {
      if (has_token(v, vlen, "close")) r->keep_alive = 0;
      else if (has_token(v, vlen, "keep-alive")) r->keep_alive = 1;
    } else if (name == 14 && strncasecmp(line, "content-length", 14) == 0) {
      int64_t n = 0;
      if (vlen == 0 || vlen > 15) return -1;
      for (size_t i = 0; i < vlen; i++) {
        if (!isdigit((unsigned char)v[i])) return -1;
        n = n * 10 + (v[i] - '0');
      }
      r->body = n;
    } else if (name == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
      return -1;
    }
    line = nl + 1;
  }
  return 0;
}

#endif
