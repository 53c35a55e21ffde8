/*
 * file.c: whole-file reads with a size cap and durable create-only writes.
 *
 * Key files and proofs are small; every read has a maximum so that a
 * wrong path (a device, a huge log) fails with a clear message instead of
 * exhausting memory. Writes never replace an existing file: keys are not
 * overwritten by accident, and a new file is fsynced together with its
 * directory entry before the call returns.
 */
#include "waybill/util.h"
#include "waybill/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wb_file_read(const char *path, size_t max, uint8_t **data, size_t *len)
{
    int fd, rc = 0;
    wb_buf b;
    int is_stdin = strcmp(path, "-") == 0;

    fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return wb_error_set(WB_E_NOTFOUND, "%s: no such file", path);
        return wb_error_set(WB_E_IO, "%s: %s", path, strerror(errno));
    }
    wb_buf_init(&b, max);
    for (;;) {
        uint8_t chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = wb_error_set(WB_E_IO, "%s: read: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (wb_buf_add(&b, chunk, (size_t)n) != 0) {
            rc = wb_error_set(b.err == WB_E_LIMIT ? WB_E_LIMIT : b.err,
                              "%s: larger than the %zu-byte limit", is_stdin ? "stdin" : path,
                              max);
            break;
        }
    }
    if (!is_stdin)
        close(fd);
    if (rc) {
        wb_buf_cleanup(&b);
        return rc;
    }
    return wb_buf_finish(&b, data, len);
}

int wb_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wb_error_set(WB_E_IO, "%s: %s", dir, strerror(errno));
    if (fsync(fd) != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return wb_error_set(WB_E_IO, "fsync %s: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

int wb_file_write_new(const char *path, const void *data, size_t len, unsigned mode)
{
    const uint8_t *p = data;
    size_t done = 0;
    char *copy, *dir;
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        if (errno == EEXIST)
            return wb_error_set(WB_E_EXISTS, "%s already exists; refusing to overwrite",
                                path);
        return wb_error_set(WB_E_IO, "%s: %s", path, strerror(errno));
    }
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = wb_error_set(WB_E_IO, "%s: write: %s", path, strerror(errno));
            break;
        }
        done += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = wb_error_set(WB_E_IO, "%s: fsync: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = wb_error_set(WB_E_IO, "%s: close: %s", path, strerror(errno));
    if (rc) {
        unlink(path);
        return rc;
    }
    copy = strdup(path);
    if (!copy)
        return wb_error_set(WB_E_NOMEM, "out of memory");
    dir = dirname(copy);
    rc = wb_fsync_dir(dir);
    free(copy);
    return rc;
}

int wb_file_replace(const char *path, const void *data, size_t len, unsigned mode)
{
    char tmp[4200];
    uint8_t rnd[6];
    char hex[13];
    int rc;
    FILE *urandom = fopen("/dev/urandom", "rb");
    if (!urandom || fread(rnd, 1, sizeof(rnd), urandom) != sizeof(rnd)) {
        if (urandom)
            fclose(urandom);
        return wb_error_set(WB_E_IO, "cannot read /dev/urandom");
    }
    fclose(urandom);
    wb_hex_encode(hex, rnd, sizeof(rnd));
    if (snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, hex) >= (int)sizeof(tmp))
        return wb_error_set(WB_E_LIMIT, "path %s is too long", path);
    rc = wb_file_write_new(tmp, data, len, mode);
    if (rc)
        return rc;
    if (rename(tmp, path) != 0) {
        rc = wb_error_set(WB_E_IO, "rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
    }
    return rc;
}
