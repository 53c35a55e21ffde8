/*
 * wbtest_swtpm.h: a software TPM 2.0 for tests (swtpm and swtpm_setup from
 * the Debian packages swtpm and swtpm-tools): manufactured in a temporary
 * directory with an EK certificate issued by the test's own CA (through
 * swtpm_localca), sha256 and sha384 PCR banks, served on free loopback
 * ports, killed afterwards (and by the kernel if the test dies first).
 * Without swtpm the test fails, saying what to install.
 */
#ifndef WBTEST_SWTPM_H
#define WBTEST_SWTPM_H

#include <sys/types.h>

typedef struct {
    char dir[4200];
    pid_t pid;
    int port;          /* the TPM's port; the control port is port + 1 */
    char tcti[64];     /* "swtpm:host=127.0.0.1,port=P" */
} wbt_swtpm;

/* a TPM in parent/tag whose EK certificate the CA (PEM files) issues */
void wbt_swtpm_start(wbt_swtpm *t, const char *parent, const char *tag,
                     const char *ca_key_pem, const char *ca_cert_pem);
void wbt_swtpm_stop(wbt_swtpm *t);

#endif
