/*
 * cli.h: what the one-file-per-command CLI shares: the command table entry,
 * exit codes, error printing and option helpers.
 *
 * Exit codes (docs/cli.md):
 *   0  success
 *   1  verification failed: a signature, proof or checkpoint did not verify
 *   2  usage: unknown command or option, missing argument
 *   3  invalid input: malformed, empty or oversized data, index out of range
 *   4  not found or already exists, or a file could not be read/written
 *   5  storage, corruption or internal failure
 */
#ifndef WAYBILL_CLI_H
#define WAYBILL_CLI_H

#include <stdio.h>

#include <jansson.h>

enum {
    WB_EXIT_OK = 0,
    WB_EXIT_VERIFY = 1,
    WB_EXIT_USAGE = 2,
    WB_EXIT_INPUT = 3,
    WB_EXIT_NOTFOUND = 4,
    WB_EXIT_INTERNAL = 5,
};

typedef struct {
    const char *group;   /* "log", or NULL for a top-level command */
    const char *name;    /* "init" */
    const char *summary; /* one line for the command list */
    const char *usage;   /* full --help text */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} wb_cli_cmd;

/* maps a WB_E_* code to an exit code */
int cli_exit_code(int rc);
/* prints "waybill <cmd>: <message>" (the thread's error message) and
 * returns the exit code for rc */
int cli_fail(const char *cmd, int rc);
/* prints a usage error and returns WB_EXIT_USAGE */
int cli_usage_error(const wb_cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * cli_parse_common scans argv for the options every command has (--help,
 * --json) and the ones it names in value_opts (each takes a value, as
 * "--opt VALUE" or "--opt=VALUE"). Positional arguments are collected into
 * pos (up to maxpos). Returns -1 after printing help (exit 0), a usage exit
 * code on error, 0 otherwise.
 */
typedef struct {
    const char *name;  /* "--size" */
    const char **value;
} cli_opt;

typedef struct {
    int json;
    int npos;
    char **pos;
} cli_args;

int cli_parse(const wb_cli_cmd *cmd, int argc, char **argv, cli_opt *opts,
              size_t nopts, cli_args *out, char **posbuf, int maxpos);

/* parses a decimal uint64 argument; prints a usage error on failure */
int cli_parse_u64(const wb_cli_cmd *cmd, const char *what, const char *s,
                  unsigned long long *out);

/*
 * cli_get_json fetches base+path and parses the JSON answer; a problem
 * details answer becomes an error (WB_E_NOTFOUND for 404, WB_E_INVALID for
 * other 4xx, WB_E_INTERNAL for 5xx) with the service's detail.
 */
int cli_get_json(json_t **out, const char *base, const char *path);

/* writes port to path atomically (a script waits for the file) */
int cli_write_port_file(const char *path, unsigned short port);

/* removes every "flag" (an option without a value) from argv; 1 if there
 * was one */
int cli_take_flag(int *argc, char **argv, const char *flag);

/* ---- the verifier's options, shared by attest and intake (attest.c) ---- */
#include "waybill/verifier.h"

typedef struct {
    const char *url, *devices, *tpm, *site, *issuer, *key_file, *threads, *timeout,
        *max_age;
    int dry_run;
    wb_key *key;
    wb_verifier_tpm tpm_one;
    wb_verifier_options o;
} cli_verifier;

/* checks the options and fills v->o (reads the key); an exit code on error */
int cli_verifier_setup(cli_verifier *v, const wb_cli_cmd *cmd);
void cli_verifier_cleanup(cli_verifier *v);
/* one line per unit, the failures with their findings, and a summary */
void cli_verifier_print(const wb_verifier_report *r);

/* the string member k of o, or dflt */
const char *cli_str(json_t *o, const char *k, const char *dflt);

/* prints a JSON object to stdout with a newline and frees it */
void cli_print_json(json_t *obj);

/* the command table (main.c) */
extern const wb_cli_cmd *const wb_cli_commands[];

/* each command file defines one of these */
extern const wb_cli_cmd wb_cmd_log_init;
extern const wb_cli_cmd wb_cmd_log_append;
extern const wb_cli_cmd wb_cmd_log_checkpoint;
extern const wb_cli_cmd wb_cmd_log_prove;
extern const wb_cli_cmd wb_cmd_log_verify;
extern const wb_cli_cmd wb_cmd_keygen;
extern const wb_cli_cmd wb_cmd_sign;
extern const wb_cli_cmd wb_cmd_submit;
extern const wb_cli_cmd wb_cmd_verify;
extern const wb_cli_cmd wb_cmd_serve;
extern const wb_cli_cmd wb_cmd_issuer_add;
extern const wb_cli_cmd wb_cmd_issuer_update;
extern const wb_cli_cmd wb_cmd_issuer_retire;
extern const wb_cli_cmd wb_cmd_device_show;
extern const wb_cli_cmd wb_cmd_device_tree;
extern const wb_cli_cmd wb_cmd_device_export;
extern const wb_cli_cmd wb_cmd_fleet;
extern const wb_cli_cmd wb_cmd_findings;
extern const wb_cli_cmd wb_cmd_reindex;
extern const wb_cli_cmd wb_cmd_audit;
extern const wb_cli_cmd wb_cmd_mirror;
extern const wb_cli_cmd wb_cmd_attest;
extern const wb_cli_cmd wb_cmd_intake;
extern const wb_cli_cmd wb_cmd_review_import;
extern const wb_cli_cmd wb_cmd_sim;
extern const wb_cli_cmd wb_cmd_sim_devices;
extern const wb_cli_cmd wb_cmd_sim_fault;
extern const wb_cli_cmd wb_cmd_witness_serve;
extern const wb_cli_cmd wb_cmd_witness_keygen;
extern const wb_cli_cmd wb_cmd_persona_token;

#endif
