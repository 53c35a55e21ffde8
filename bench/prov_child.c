/*
 * prov_child.c: the child processes of section 7 (prov_scale.h): a
 * development-mode server, `waybill serve --dev DIR` on a free loopback
 * port, started the way section 6 starts its own (service.c), and
 * optionally `perf record --call-graph dwarf -p PID` on it; and the CPU accounting read
 * from /proc, so that a figure can say who used the cores.
 */
#include "prov_scale.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double prov_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double prov_proc_cpu(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
                     &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

double prov_machine_busy(void)
{
    unsigned long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    int n;
    if (!f)
        return -1;
    n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return -1;
    /* all but idle and iowait */
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

double prov_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void prov_server_show_log(const prov_server *s)
{
    char cmd[4500];
    snprintf(cmd, sizeof(cmd), "tail -n 20 '%s' >&2", s->log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no server log at %s)\n", s->log);
}

int prov_server_start(prov_server *s, const char *waybill, const char *dir)
{
    char portfile[4400], buf[32];
    double t0 = prov_mono();
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    snprintf(portfile, sizeof(portfile), "%s.port", dir);
    snprintf(s->log, sizeof(s->log), "%s.log", dir);
    unlink(portfile);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        perror("waybill-bench: fork");
        s->pid = 0;
        return -1;
    }
    if (s->pid == 0) {
        FILE *lf;
        /* a benchmark stopped by a signal leaves no server behind */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        lf = freopen(s->log, "w", stderr);
        if (!lf || !freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(waybill, "waybill", "serve", "--dev", dir, "--listen", "127.0.0.1:0",
              "--port-file", portfile, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", waybill, strerror(errno));
        _exit(127);
    }
    while (prov_mono() - t0 < 20) {
        FILE *f = fopen(portfile, "r");
        int status;
        if (f) {
            int ok = fgets(buf, sizeof(buf), f) != NULL;
            fclose(f);
            if (ok && atoi(buf) > 0) {
                s->port = (unsigned short)atoi(buf);
                snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u", s->port);
                return 0;
            }
        }
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "waybill-bench: waybill serve exited early; its log:\n");
            prov_server_show_log(s);
            s->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    fprintf(stderr, "waybill-bench: waybill serve did not start in 20 s; its log:\n");
    prov_server_show_log(s);
    prov_server_stop(s);
    return -1;
}

/* SIGTERM, then SIGKILL after 20 s */
static void stop_child(pid_t pid, int sig, const char *what)
{
    double t0 = prov_mono();
    int status;
    if (pid <= 0)
        return;
    kill(pid, sig);
    while (waitpid(pid, &status, WNOHANG) != pid) {
        if (prov_mono() - t0 > 20) {
            fprintf(stderr, "waybill-bench: %s ignored its signal; killing it\n", what);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        usleep(10000);
    }
}

void prov_server_stop(prov_server *s)
{
    stop_child(s->pid, SIGTERM, "waybill serve");
    s->pid = 0;
}

int prov_perf_start(pid_t *perf, pid_t target, const char *file)
{
    char pid[32], log[4200];
    snprintf(pid, sizeof(pid), "%d", (int)target);
    snprintf(log, sizeof(log), "%s.log", file);
    fflush(NULL);
    *perf = fork();
    if (*perf < 0) {
        perror("waybill-bench: fork");
        *perf = 0;
        return -1;
    }
    if (*perf == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        prctl(PR_SET_PDEATHSIG, SIGINT);
        if (fd < 0 || dup2(fd, 2) < 0 || !freopen("/dev/null", "w", stdout))
            _exit(126);
        /* DWARF call graphs: libcrypto and SQLite are built without frame
         * pointers, so -g (fp) stacks stop at their first frame */
        execlp("perf", "perf", "record", "--call-graph", "dwarf,8192", "-F", "99", "-p", pid,
               "-o", file, (char *)NULL);
        fprintf(stderr, "exec perf: %s\n", strerror(errno));
        _exit(127);
    }
    usleep(300000); /* perf attaches */
    {
        int status;
        if (waitpid(*perf, &status, WNOHANG) == *perf) {
            fprintf(stderr, "waybill-bench: perf record exited at once (see %s); going on "
                            "without a profile\n", log);
            *perf = 0;
            return -1;
        }
    }
    return 0;
}

void prov_perf_stop(pid_t perf)
{
    stop_child(perf, SIGINT, "perf record");
}
