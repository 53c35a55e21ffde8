/*
 * wbtest.h: shared helpers for the cmocka test programs.
 *
 * cmocka's headers need <stdarg.h>, <stddef.h>, <stdint.h> and <setjmp.h>
 * first; including this header takes care of that.
 */
#ifndef WBTEST_H
#define WBTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

/* path under the test vectors directory ($WB_VECTORS); static buffer */
const char *wbt_vector_path(const char *rel);
/* reads a whole file (malloc'd, NUL-terminated); fails the test on error */
char *wbt_read_file(const char *path, size_t *len);
/* makes a fresh temporary directory (malloc'd path) */
char *wbt_tmpdir(const char *tag);
/* writes len bytes to path (fails the test if it cannot) */
void wbt_write_file(const char *path, const void *data, size_t len);
/* removes a directory tree (rm -rf) */
void wbt_rmtree(const char *path);
/* deterministic pseudo-random numbers (xorshift64*), seeded per test */
uint64_t wbt_rand(uint64_t *state);
/* seed from $WB_SEED or a fixed default; prints the seed used */
uint64_t wbt_seed(const char *test);

#endif
