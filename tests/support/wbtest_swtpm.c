/*
 * wbtest_swtpm.c: software TPMs for tests (wbtest_swtpm.h).
 */
#include "wbtest.h"
#include "wbtest_swtpm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* the path of an executable in $PATH, or fails the test saying what to install */
static void need_tool(char *out, size_t cap, const char *name, const char *package)
{
    const char *path = getenv("PATH");
    char buf[4096];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", path ? path : "/usr/bin:/bin");
    for (char *d = strtok_r(buf, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, cap, "%s/%s", d, name);
        if (access(out, X_OK) == 0)
            return;
    }
    fail_msg("%s not found in PATH: the TPM tests need a software TPM; install the Debian "
             "package %s (sh scripts/install-deps.sh does)",
             name, package);
}

/* runs argv with stdout and stderr into log; returns the exit status */
static int run_logged(char *const argv[], const char *log)
{
    pid_t pid = fork();
    int status = 0;

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void fail_with_log(const char *what, const char *log)
{
    char *text = wbt_read_file(log, NULL);
    fprintf(stderr, "---- %s ----\n%s\n----\n", log, text);
    free(text);
    fail_msg("%s (its output is above)", what);
}

/* a port P with P and P+1 free on loopback right now */
static int free_port_pair(void)
{
    for (int tries = 0; tries < 100; tries++) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t alen = sizeof(a);
        int s1 = socket(AF_INET, SOCK_STREAM, 0), s2 = socket(AF_INET, SOCK_STREAM, 0);
        int port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s1 >= 0 && s2 >= 0 && bind(s1, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(s1, (struct sockaddr *)&a, &alen) == 0 && ntohs(a.sin_port) < 65535) {
            port = ntohs(a.sin_port);
            a.sin_port = htons((uint16_t)(port + 1));
            if (bind(s2, (struct sockaddr *)&a, sizeof(a)) != 0)
                port = -1;
        }
        close(s1);
        close(s2);
        if (port > 0)
            return port;
    }
    fail_msg("no two adjacent free loopback ports");
    return -1;
}

static int can_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int s = socket(AF_INET, SOCK_STREAM, 0), ok;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void wbt_swtpm_start(wbt_swtpm *t, const char *parent, const char *tag,
                     const char *ca_key_pem, const char *ca_cert_pem)
{
    char swtpm_bin[4200], setup_bin[4200], localca_bin[4200], p[4300], log[4300];
    char state[4300], conf[4300], arg_state[4400], arg_server[64], arg_ctrl[64];
    char text[16000];

    need_tool(swtpm_bin, sizeof(swtpm_bin), "swtpm", "swtpm");
    need_tool(setup_bin, sizeof(setup_bin), "swtpm_setup", "swtpm-tools");
    need_tool(localca_bin, sizeof(localca_bin), "swtpm_localca", "swtpm-tools");

    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "%s/%s", parent, tag);
    assert_int_equal(mkdir(t->dir, 0700), 0);
    snprintf(state, sizeof(state), "%s/state", t->dir);
    assert_int_equal(mkdir(state, 0700), 0);
    snprintf(log, sizeof(log), "%s/swtpm.log", t->dir);

    /* swtpm_localca signs the EK certificate with the test's vendor CA */
    snprintf(p, sizeof(p), "%s/localca.conf", t->dir);
    snprintf(text, sizeof(text),
             "statedir = %s\nsigningkey = %s\nissuercert = %s\n"
             "certserial = %s/certserial\n",
             t->dir, ca_key_pem, ca_cert_pem, t->dir);
    wbt_write_file(p, text, strlen(text));
    snprintf(p, sizeof(p), "%s/localca.options", t->dir);
    snprintf(text, sizeof(text), "--platform-manufacturer waybill\n--platform-version 2.1\n"
                                 "--platform-model test\n");
    wbt_write_file(p, text, strlen(text));
    snprintf(conf, sizeof(conf), "%s/swtpm_setup.conf", t->dir);
    snprintf(text, sizeof(text),
             "create_certs_tool = %s\ncreate_certs_tool_config = %s/localca.conf\n"
             "create_certs_tool_options = %s/localca.options\n",
             localca_bin, t->dir, t->dir);
    wbt_write_file(conf, text, strlen(text));
    {
        char *argv[] = {setup_bin, "--tpm2", "--tpmstate", state, "--create-ek-cert",
                        "--config", conf, "--pcr-banks", "sha256,sha384", "--logfile", log,
                        NULL};
        if (run_logged(argv, log) != 0)
            fail_with_log("swtpm_setup could not manufacture the TPM", log);
    }

    snprintf(arg_state, sizeof(arg_state), "dir=%s", state);
    for (int attempt = 0; attempt < 5; attempt++) {
        int status;
        t->port = free_port_pair();
        snprintf(arg_server, sizeof(arg_server), "type=tcp,port=%d", t->port);
        snprintf(arg_ctrl, sizeof(arg_ctrl), "type=tcp,port=%d", t->port + 1);
        t->pid = fork();
        assert_true(t->pid >= 0);
        if (t->pid == 0) {
            char *argv[] = {swtpm_bin, "socket", "--tpm2", "--tpmstate", arg_state,
                            "--server", arg_server, "--ctrl", arg_ctrl, "--flags",
                            "not-need-init,startup-clear", NULL};
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            execv(argv[0], argv);
            _exit(127);
        }
        /* ready when the control port accepts; gone if the ports were taken */
        for (int i = 0; i < 500; i++) {
            if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
                t->pid = 0;
                break;
            }
            if (can_connect(t->port + 1) && can_connect(t->port)) {
                snprintf(t->tcti, sizeof(t->tcti), "swtpm:host=127.0.0.1,port=%d", t->port);
                return;
            }
            sleep_ms(10);
        }
        if (t->pid > 0) {
            kill(t->pid, SIGKILL);
            waitpid(t->pid, &status, 0);
            t->pid = 0;
        }
    }
    fail_with_log("swtpm did not start", log);
}

void wbt_swtpm_stop(wbt_swtpm *t)
{
    if (t->pid > 0) {
        int status;
        kill(t->pid, SIGTERM);
        waitpid(t->pid, &status, 0);
        t->pid = 0;
    }
}
