/*
 * wbtest.c: helpers shared by the cmocka test programs (see wbtest.h).
 */
#include "wbtest.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *wbt_vector_path(const char *rel)
{
    static char path[4096];
    const char *base = getenv("WB_VECTORS");
    if (!base)
        base = "tests/vectors";
    snprintf(path, sizeof(path), "%s/%s", base, rel);
    return path;
}

char *wbt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f)
        fail_msg("cannot open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
        fail_msg("short read on %s", path);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return buf;
}

char *wbt_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    assert_non_null(path);
    snprintf(path, 4096, "%s/wbtest-%s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(path))
        fail_msg("mkdtemp %s: %s", path, strerror(errno));
    return path;
}

void wbt_rmtree(const char *path)
{
    char cmd[4200];
    if (!path || !*path || strcmp(path, "/") == 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", path);
}

uint64_t wbt_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t wbt_seed(const char *test)
{
    const char *env = getenv("WB_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5eed5eed12345678ULL;
    if (seed == 0)
        seed = 1;
    fprintf(stderr, "%s: seed 0x%llx (set WB_SEED to change)\n", test,
            (unsigned long long)seed);
    return seed;
}

void wbt_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}
