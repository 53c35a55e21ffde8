/*
 * wbtest_pg.c: a throwaway PostgreSQL cluster for tests (see wbtest_pg.h).
 * Commands run with fork/execv, never through a shell; their output goes
 * to DIR/commands.log, which a failure prints.
 */
#include "wbtest_pg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PG_BIN_DEFAULT "/usr/lib/postgresql/15/bin"

/* runs argv (argv[0] a full path), as postgres when pg->as_postgres;
 * returns the exit status, -1 if it could not run */
static int run(wbt_pg *pg, const char *const *argv)
{
    const char *full[32];
    size_t n = 0;
    char logpath[600];
    pid_t pid;
    int status;

    if (pg->as_postgres) {
        full[n++] = "/usr/sbin/runuser";
        full[n++] = "-u";
        full[n++] = "postgres";
        full[n++] = "--";
    }
    for (size_t i = 0; argv[i] && n < 31; i++)
        full[n++] = argv[i];
    full[n] = NULL;
    snprintf(logpath, sizeof(logpath), "%s/commands.log", pg->dir);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int devnull = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (devnull >= 0)
            dup2(devnull, 0);
        /* the server must not inherit the test's listening sockets etc. */
        for (int fdn = 3; fdn < 1024; fdn++)
            close(fdn);
        execv(full[0], (char *const *)full);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void print_log(wbt_pg *pg)
{
    char path[600];
    FILE *f;
    char line[512];
    snprintf(path, sizeof(path), "%s/commands.log", pg->dir);
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f))
            fprintf(stderr, "  pg| %s", line);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/server.log", pg->dir);
    if ((f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), f))
            fprintf(stderr, "  pg server| %s", line);
        fclose(f);
    }
}

/* a port that was free a moment ago (bind port 0, read it, close) */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &alen) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void admin_conninfo(const wbt_pg *pg, char *out, size_t cap, const char *db)
{
    snprintf(out, cap, "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=10",
             pg->port, db);
}

static void admin_exec(wbt_pg *pg, const char *sql)
{
    char ci[300];
    PGconn *c;
    PGresult *r;
    admin_conninfo(pg, ci, sizeof(ci), "postgres");
    c = PQconnectdb(ci);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        PQfinish(c);
        fail_msg("postgres test cluster: cannot connect: %s", msg);
    }
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        fail_msg("postgres test cluster: %s: %s", sql, msg);
    }
    PQclear(r);
    PQfinish(c);
}

void wbt_pg_start(wbt_pg *pg, const char *tag)
{
    const char *bin = getenv("WB_PG_BIN");
    const char *base = getenv("TMPDIR");
    char initdb[400], pg_ctl[400], data[600], logf[600], opts[900], port[16];
    struct stat sb;
    struct passwd *pw = NULL;
    int rc = -1;

    memset(pg, 0, sizeof(*pg));
    snprintf(pg->bin, sizeof(pg->bin), "%s", bin && *bin ? bin : PG_BIN_DEFAULT);
    snprintf(initdb, sizeof(initdb), "%s/initdb", pg->bin);
    snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", pg->bin);
    if (access(initdb, X_OK) != 0 || access(pg_ctl, X_OK) != 0)
        fail_msg("PostgreSQL 15 server binaries not found in %s (set WB_PG_BIN, or install "
                 "the postgresql-15 package: scripts/install-deps.sh)", pg->bin);
    pg->as_postgres = geteuid() == 0;
    if (pg->as_postgres) {
        pw = getpwnam("postgres");
        if (!pw)
            fail_msg("running as root, the test PostgreSQL must run as the user 'postgres', "
                     "which does not exist (install postgresql-15: scripts/install-deps.sh)");
        if (access("/usr/sbin/runuser", X_OK) != 0)
            fail_msg("running as root, /usr/sbin/runuser is needed to start PostgreSQL as "
                     "'postgres'");
    }
    /* short: the socket path DIR/.s.PGSQL.PORT must fit in 107 bytes */
    snprintf(pg->dir, sizeof(pg->dir), "%s/wbpg-%.16s-XXXXXX", base ? base : "/tmp", tag);
    if (!mkdtemp(pg->dir))
        fail_msg("mkdtemp %s: %s", pg->dir, strerror(errno));
    if (pw && chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0)
        fail_msg("chown %s postgres: %s", pg->dir, strerror(errno));
    /* commands.log is written by the child before it changes user */
    snprintf(data, sizeof(data), "%s/data", pg->dir);
    snprintf(logf, sizeof(logf), "%s/server.log", pg->dir);
    {
        const char *argv[] = {initdb, "-D", data, "-A", "trust", "-U", "postgres",
                              "--no-locale", "-E", "UTF8", "--no-sync", NULL};
        if (run(pg, argv) != 0) {
            print_log(pg);
            fail_msg("initdb in %s failed (output above)", data);
        }
    }
    if (stat(data, &sb) != 0)
        fail_msg("initdb made no %s", data);
    /* a port can be taken between free_port and the server's bind: retry */
    for (int attempt = 0; attempt < 5 && rc != 0; attempt++) {
        pg->port = free_port();
        if (pg->port <= 0)
            fail_msg("no free loopback port");
        snprintf(port, sizeof(port), "%d", pg->port);
        snprintf(opts, sizeof(opts),
                 "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "
                 "-c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB",
                 pg->port, pg->dir);
        {
            const char *argv[] = {pg_ctl, "-D", data, "-l", logf, "-w", "-t", "30", "-o", opts,
                                  "start", NULL};
            rc = run(pg, argv);
        }
    }
    if (rc != 0) {
        print_log(pg);
        fail_msg("pg_ctl start failed (output above)");
    }
    pg->started = 1;
    admin_exec(pg, "CREATE DATABASE waybill");
    admin_conninfo(pg, pg->conninfo, sizeof(pg->conninfo), "waybill");
}

void wbt_pg_createdb(wbt_pg *pg, char *out, size_t cap)
{
    char sql[64], name[32];
    snprintf(name, sizeof(name), "wbtest_%u", ++pg->ndbs);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    admin_exec(pg, sql);
    admin_conninfo(pg, out, cap, name);
}

void wbt_pg_stop(wbt_pg *pg)
{
    if (!pg || !pg->dir[0])
        return;
    if (pg->started) {
        char pg_ctl[400], data[600];
        snprintf(pg_ctl, sizeof(pg_ctl), "%s/pg_ctl", pg->bin);
        snprintf(data, sizeof(data), "%s/data", pg->dir);
        {
            const char *argv[] = {pg_ctl, "-D", data, "-m", "immediate", "-w", "stop", NULL};
            if (run(pg, argv) != 0)
                print_log(pg);
        }
        pg->started = 0;
    }
    if (!getenv("WB_KEEP"))
        wbt_rmtree(pg->dir);
    pg->dir[0] = '\0';
}
