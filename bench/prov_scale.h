/*
 * prov_scale.h: section 7 of `make bench`, provenance at scale (issue 5,
 * "Scale"): the simulator's fleet of at least 100,000 devices registered
 * through a `waybill serve --dev` child process with its projection and
 * anomaly rules, the rate as a ratio to the bare registration rate of
 * section 6 in the same run, and the latency of the journey and compliance
 * queries at that size.
 *
 *   prov_scale.c  the run and what it prints
 *   prov_child.c  the server and perf child processes, CPU accounting
 *   prov_bare.c   the bare rate when section 6 did not run: a short closed
 *                 loop of plain statements against a fresh server
 *   prov_query.c  GET latency over one keep-alive connection (libcurl)
 */
#ifndef WAYBILL_BENCH_PROV_SCALE_H
#define WAYBILL_BENCH_PROV_SCALE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- prov_scale.c ---- */

typedef struct {
    const char *waybill;     /* the waybill binary */
    const char *base;        /* scratch directory */
    size_t devices;          /* at least this many devices (default 100,000) */
    double bare_rate;        /* section 6's higher closed-loop rate, 0 if it did not run */
    double bare_bytes;       /* its statements' average size */
    const char *perf_file;   /* if set: perf record of the server during ingestion */
} bench_prov_opts;

/* prints section 7; 0, or 1 on a failure already reported */
int bench_prov(const bench_prov_opts *o);

/* ---- prov_child.c ---- */

typedef struct {
    pid_t pid;
    char dir[4200];          /* its --dev directory */
    char log[4400];          /* its stderr */
    unsigned short port;
    char url[64];            /* http://127.0.0.1:PORT */
} prov_server;

/* starts `waybill serve --dev dir --listen 127.0.0.1:0` and waits for its
 * port; 0, or -1 with its log on stderr */
int prov_server_start(prov_server *s, const char *waybill, const char *dir);
void prov_server_stop(prov_server *s);
/* the last lines of its log on stderr */
void prov_server_show_log(const prov_server *s);

/* starts `perf record --call-graph dwarf -F 99 -p target -o file` (its
 * messages in file.log);
 * 0 or -1 (reported; the benchmark goes on without a profile) */
int prov_perf_start(pid_t *perf, pid_t target, const char *file);
/* stops it with SIGINT and waits until it has written the file */
void prov_perf_stop(pid_t perf);

double prov_mono(void);
double prov_proc_cpu(pid_t pid);  /* utime + stime of pid, s; -1 if unknown */
double prov_machine_busy(void);   /* busy CPU seconds of the machine; -1 */
double prov_self_cpu(void);       /* CPU seconds of this process */

/* ---- attest_scale.c: section 8, attestation of 10,000 units ---- */

/* prints section 8; 0, or 1 on a failure already reported */
int bench_attest(const char *waybill, const char *base);

/* ---- prov_bare.c ---- */

/*
 * prov_bare_rate measures the bare registration rate as section 6 does
 * (pre-signed ES256 statements, 512 keep-alive connections, closed loop,
 * 1 s warm-up) for seconds against a fresh dev server in dir: registrations
 * (201) per second, and the statements' average size. 0 or -1 (reported).
 */
int prov_bare_rate(double *rate, double *avg_bytes, const char *waybill, const char *dir,
                   double seconds);

/* ---- prov_query.c ---- */

typedef struct {
    size_t n;                /* requests answered 200 */
    size_t errors;           /* any other answer or a transport error */
    double p50, p99, max;    /* ms, over the 200s */
    double mean_bytes;       /* body size of the 200s */
} prov_latency;

/*
 * prov_get_latency sends GET base + paths[i] for every i, in order, one at a
 * time over one keep-alive connection, and times each from the request to
 * the last byte of the answer. 0, or -1 when no connection could be made.
 */
int prov_get_latency(prov_latency *out, const char *base, char *const *paths, size_t n);

/* GET base + path into a malloc'd NUL-terminated body; the HTTP status, or
 * -1 on a transport error */
long prov_get(char **body, size_t *len, const char *base, const char *path);

#endif
