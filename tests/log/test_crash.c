/*
 * test_crash.c: crash safety of the durable append.
 *
 * A child process appends batches of deterministic entries to a log and,
 * after each append returns, reports the acknowledged range on a pipe. The
 * parent kills it with SIGKILL at a random moment, 25 times over. After each
 * kill the log must reopen, pass the full self-check (the tree recomputed
 * from the entry bundles equals every stored tile, the root and the signed
 * checkpoint), and hold every entry whose append had returned success,
 * with the right bytes. The store runs with synchronous=FULL, the default.
 */
#include "wbtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/log.h"

#define KILLS 25

static size_t entry_bytes(uint8_t *buf, uint64_t index)
{
    size_t len = 32 + (size_t)((index * 40503u) % 680);
    memset(buf, (int)(index & 0xff), len);
    snprintf((char *)buf, 32, "entry %llu", (unsigned long long)index);
    return len;
}

/* the child: append forever, report each success as two uint64s */
static void child(const char *dir, int fd, uint64_t seed)
{
    wb_log *log;
    static uint8_t bufs[300][720];
    wb_entry e[300];
    if (wb_log_open(&log, dir, NULL) != 0) {
        fprintf(stderr, "child open: %s\n", wb_error_message());
        _exit(3);
    }
    for (;;) {
        uint64_t size, first, report[2];
        size_t n = 1 + (size_t)(wbt_rand(&seed) % 40);
        if (wb_log_head(log, &size, NULL, NULL, NULL) != 0)
            _exit(4);
        for (size_t i = 0; i < n; i++) {
            e[i].data = bufs[i];
            e[i].len = entry_bytes(bufs[i], size + i);
        }
        if (wb_log_append(log, e, n, &first) != 0) {
            fprintf(stderr, "child append: %s\n", wb_error_message());
            _exit(5);
        }
        report[0] = first;
        report[1] = first + n;
        if (write(fd, report, sizeof(report)) != sizeof(report))
            _exit(6);
    }
}

static void test_sigkill_during_appends(void **state)
{
    (void)state;
    char *tmp = wbt_tmpdir("crash");
    char dir[4200];
    uint64_t seed = wbt_seed("crash"), acked = 0;
    snprintf(dir, sizeof(dir), "%s/log", tmp);
    assert_int_equal(wb_log_init(dir, "example.com/crash"), 0);

    for (int round = 0; round < KILLS; round++) {
        int fds[2];
        pid_t pid;
        int status;
        uint64_t report[2];
        ssize_t n;
        struct timespec ts;
        wb_log *log;
        uint64_t size, checked = 0;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child(dir, fds[1], seed + (uint64_t)round * 7919);
        }
        close(fds[1]);
        /* let it run 5..100 ms, then kill it mid-whatever */
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(5 + wbt_rand(&seed) % 95) * 1000000L;
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status))
            fail_msg("round %d: child exited with %d before the kill", round,
                     WEXITSTATUS(status));
        while ((n = read(fds[0], report, sizeof(report))) == sizeof(report)) {
            assert_true(report[0] <= report[1]);
            if (report[1] > acked)
                acked = report[1];
        }
        close(fds[0]);

        if (wb_log_open(&log, dir, NULL) != 0)
            fail_msg("round %d: reopen: %s", round, wb_error_message());
        if (wb_log_check(log, &checked) != 0)
            fail_msg("round %d: self-check: %s", round, wb_error_message());
        assert_int_equal(wb_log_head(log, &size, NULL, NULL, NULL), 0);
        if (size < acked)
            fail_msg("round %d: log has %llu entries, %llu were acknowledged", round,
                     (unsigned long long)size, (unsigned long long)acked);
        assert_true(checked == size);
        /* every acknowledged entry holds its bytes (sample plus the edges) */
        for (uint64_t i = 0; i < size; i += (i + 13 < acked ? 13 : 1)) {
            uint8_t want[720], *got;
            size_t wl = entry_bytes(want, i), gl;
            assert_int_equal(wb_log_entry(log, i, &got, &gl), 0);
            assert_int_equal(gl, wl);
            assert_memory_equal(got, want, wl);
            free(got);
        }
        acked = size; /* entries that landed unacknowledged are in the log too */
        wb_log_close(log);
        fprintf(stderr, "round %2d: %llu entries, all acknowledged ones present\n",
                round, (unsigned long long)size);
    }
    assert_true(acked > 0);
    wbt_rmtree(tmp);
    free(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_during_appends),
    };
    return cmocka_run_group_tests_name("log/crash", tests, NULL, NULL);
}
