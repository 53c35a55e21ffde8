/*
 * sim_fleet.c: the simulated parties and their devices.
 *
 * Every party signs its statements with its own ES256 key (registered in
 * the ledger by a governance statement). Each supplier and the integrator
 * also run a P-384 device-identity CA, self-signed, which the governance
 * statement registers as the anchor of their devices' chains. Every device
 * gets a P-384 root-of-trust key and a certificate from its maker's CA
 * (wb_x509_issue); its id is the SHA-256 of that key's SPKI DER, exactly
 * what the registration policy recomputes from the manifest's chain.
 * When the run writes its files, blades and racks keep their identity
 * private key for devices.json (sim_devfile.c): the simulated device signs
 * its alias certificate with it (`waybill sim devices`). Parts' keys are
 * dropped: a blade speaks for them. Making 10,000 P-384 keys and
 * certificates is the costly part of a run, so it runs on every core.
 */
#include "sim_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "waybill/error.h"
#include "waybill/scitt.h"
#include "waybill/util.h"

const sim_party_def sim_parties[SIM_P_COUNT] = {
    [SIM_P_ROT] = {"contoso-silicon", WB_ROLE_SUPPLIER, "Contoso Silicon", WB_CLASS_ROT,
                   "CR-100 platform RoT", "CR100", "1.4.2", 4,
                   "Contoso Silicon Device Identity CA P-384"},
    [SIM_P_TPM] = {"fabrikam-trust", WB_ROLE_SUPPLIER, "Fabrikam Trust", WB_CLASS_TPM,
                   "FT-20 TPM 2.0", "FT20", "7.2.3.1", 2, "Fabrikam Trust EK CA P-384"},
    [SIM_P_BMC] = {"adatum-systems", WB_ROLE_SUPPLIER, "Adatum Systems", WB_CLASS_BMC,
                   "AX-7 baseboard management controller", "AX7", "2.14.3", 9,
                   "Adatum Systems BMC Identity CA"},
    [SIM_P_NIC] = {"litware-networks", WB_ROLE_SUPPLIER, "Litware Networks", WB_CLASS_NIC,
                   "LN-400 200GbE NIC", "LN400", "22.31.6", 3,
                   "Litware Networks Device CA"},
    [SIM_P_SSD] = {"tailspin-storage", WB_ROLE_SUPPLIER, "Tailspin Storage", WB_CLASS_SSD,
                   "TS-8 NVMe SSD 7.68 TB", "TS8", "61082A50", 5,
                   "Tailspin Storage SPDM Root CA"},
    [SIM_P_INTEGRATOR] = {"woodgrove-integration", WB_ROLE_INTEGRATOR, "Woodgrove Systems",
                          WB_CLASS_NONE, NULL, NULL, NULL, 0,
                          "Woodgrove Systems Platform Identity CA"},
    [SIM_P_CARRIER] = {"northwind-freight", WB_ROLE_LOGISTICS, NULL, WB_CLASS_NONE, NULL,
                       NULL, NULL, 0, NULL},
    [SIM_P_DATACENTER] = {WB_SIM_DATACENTER, WB_ROLE_DATACENTER, NULL, WB_CLASS_NONE, NULL,
                          NULL, NULL, 0, NULL},
    [SIM_P_FIRMWARE] = {"proseware-firmware", WB_ROLE_FIRMWARE_VENDOR, NULL, WB_CLASS_NONE,
                        NULL, NULL, NULL, 0, NULL},
    [SIM_P_REVIEWER] = {"trey-research", WB_ROLE_REVIEWER, NULL, WB_CLASS_NONE, NULL, NULL,
                        NULL, 0, NULL},
};

int sim_party_make(sim_party *p, const sim_party_def *def, uint64_t *serial)
{
    int rc;
    memset(p, 0, sizeof(*p));
    p->def = def;
    rc = wb_key_generate(&p->key, WB_ALG_ES256);
    if (rc == 0)
        rc = wb_key_default_kid(p->kid, p->key);
    if (rc == 0)
        rc = wb_key_spki_der(p->key, &p->spki, &p->spki_len);
    if (rc == 0)
        rc = wb_cose_signer_for_key(&p->signer, p->key);
    if (rc == 0 && def->ca_name) {
        rc = wb_key_generate(&p->ca_key, WB_ALG_ES384);
        if (rc == 0)
            rc = wb_x509_issue(&p->ca_der, &p->ca_len, p->ca_key, def->ca_name,
                               def->manufacturer, p->ca_key, NULL, 0, 1, (*serial)++, 3650);
    }
    if (rc)
        return wb_error_prefix(rc, "party %s", def->name);
    return 0;
}

void sim_party_cleanup(sim_party *p)
{
    wb_key_free(p->key);
    wb_key_free(p->ca_key);
    free(p->spki);
    free(p->ca_der);
    memset(p, 0, sizeof(*p));
}

/* ---- device identities ---- */

typedef struct {
    sim_device *d;
    const sim_party *parties;
    int keep;                  /* keep blades' and racks' identity keys */
} make_ctx;

static int make_one(void *vctx, size_t i)
{
    make_ctx *c = vctx;
    sim_device *d = &c->d[i];
    const sim_party *maker = &c->parties[d->party];
    wb_key *k = NULL;
    char cn[160];
    int rc = wb_key_generate(&k, WB_ALG_ES384);
    if (d->cls == WB_CLASS_BLADE || d->cls == WB_CLASS_RACK)
        snprintf(cn, sizeof(cn), "%s %s", wb_class_name(d->cls), d->serial);
    else
        snprintf(cn, sizeof(cn), "%s %s", maker->def->model, d->serial);
    /* the serial number of the certificate: unique per CA, from the index */
    if (rc == 0)
        rc = wb_x509_issue(&d->cert, &d->cert_len, k, cn, maker->def->manufacturer,
                           maker->ca_key, maker->ca_der, maker->ca_len, 0,
                           UINT64_C(0x1000) + i, 3650);
    if (rc == 0)
        rc = wb_device_id_of_cert(d->id, d->cert, d->cert_len);
    if (rc == 0 && c->keep && (d->cls == WB_CLASS_BLADE || d->cls == WB_CLASS_RACK)) {
        size_t len;
        rc = wb_key_to_pem(&d->key_pem, &len, k, 1);
    }
    wb_key_free(k);
    if (rc)
        return wb_error_prefix(rc, "device %s", d->serial);
    return 0;
}

int sim_devices_make(sim_device *d, size_t n, const sim_party *parties, const char *run,
                     const wb_sim_options *opt)
{
    make_ctx c = {d, parties, opt->write_files};
    unsigned threads = opt->threads;
    (void)run;
    if (threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores > 0 ? (unsigned)cores : 1;
    }
    return sim_parallel(threads, n, make_one, &c, opt, "identities");
}

void sim_devices_free(sim_device *d, size_t n)
{
    for (size_t k = 0; d && k < n; k++) {
        free(d[k].cert);
        if (d[k].key_pem)
            memset(d[k].key_pem, 0, strlen(d[k].key_pem));
        free(d[k].key_pem);
    }
}

/* ---- files ---- */

int sim_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return wb_error_set(WB_E_INVALID, "directory name '%s' is empty or too long", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return wb_error_set(WB_E_IO, "mkdir %s: %s", buf, strerror(errno));
            buf[i] = c;
        }
    }
    return 0;
}

static int write_text(const char *path, const char *text, size_t len, unsigned mode)
{
    return wb_file_replace(path, text, len, mode);
}

static int write_key(const char *dir, const char *name, const char *suffix, const wb_key *k,
                     int private_part)
{
    char path[4400], *pem = NULL;
    size_t len;
    int rc = wb_key_to_pem(&pem, &len, k, private_part);
    snprintf(path, sizeof(path), "%s/%s%s", dir, name, suffix);
    if (rc == 0)
        rc = write_text(path, pem, len, private_part ? 0600 : 0644);
    free(pem);
    return rc;
}

static int write_cert(wb_buf *b, const uint8_t *der, size_t len)
{
    char *pem = NULL;
    int rc = wb_x509_der_to_pem(&pem, der, len);
    if (rc == 0)
        wb_buf_add_str(b, pem);
    free(pem);
    return rc ? rc : wb_buf_error(b);
}

static int write_buf(const char *path, wb_buf *b, unsigned mode)
{
    uint8_t *data;
    size_t len;
    int rc = wb_buf_finish(b, &data, &len);
    if (rc == 0) {
        rc = write_text(path, (const char *)data, len, mode);
        free(data);
    }
    return rc;
}

int sim_write_files(const char *dir, const sim_party *parties, const sim_device *d, size_t n)
{
    char keys[4200], cas[4200], certs[4200], path[4400];
    wb_buf b;
    int rc;
    snprintf(keys, sizeof(keys), "%s/keys", dir);
    snprintf(cas, sizeof(cas), "%s/cas", dir);
    snprintf(certs, sizeof(certs), "%s/devices", dir);
    rc = sim_mkdirs(keys);
    if (rc == 0)
        rc = sim_mkdirs(cas);
    if (rc == 0)
        rc = sim_mkdirs(certs);
    /* each party's signing key (private and public) and CA */
    for (int i = 0; rc == 0 && i < SIM_P_COUNT; i++) {
        const sim_party *p = &parties[i];
        rc = write_key(keys, p->def->name, ".key", p->key, 1);
        if (rc == 0)
            rc = write_key(keys, p->def->name, ".pub", p->key, 0);
        if (rc == 0 && p->ca_key) {
            rc = write_key(cas, p->def->name, "-ca.key", p->ca_key, 1);
            if (rc == 0) {
                wb_buf_init(&b, 1 << 20);
                rc = write_cert(&b, p->ca_der, p->ca_len);
                snprintf(path, sizeof(path), "%s/%s-ca.pem", cas, p->def->name);
                if (rc == 0)
                    rc = write_buf(path, &b, 0644);
                else
                    wb_buf_cleanup(&b);
            }
        }
    }
    /* the device certificates, one PEM bundle per maker */
    for (int i = 0; rc == 0 && i < SIM_P_COUNT; i++) {
        int any = 0;
        if (!parties[i].ca_key)
            continue;
        wb_buf_init(&b, (size_t)1 << 30);
        for (size_t k = 0; rc == 0 && k < n; k++)
            if (d[k].party == i) {
                any = 1;
                rc = write_cert(&b, d[k].cert, d[k].cert_len);
            }
        snprintf(path, sizeof(path), "%s/%s.pem", certs, parties[i].def->name);
        if (rc == 0 && any)
            rc = write_buf(path, &b, 0644);
        else
            wb_buf_cleanup(&b);
    }
    /* the inventory: one line per device */
    if (rc == 0) {
        wb_buf_init(&b, (size_t)1 << 30);
        wb_buf_add_str(&b, "# id\tclass\tmanufacturer\tserial\tparent\tslot\n");
        for (size_t k = 0; k < n; k++)
            wb_buf_printf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", d[k].id, wb_class_name(d[k].cls),
                          parties[d[k].party].def->manufacturer, d[k].serial,
                          d[k].parent >= 0 ? d[d[k].parent].id : (d[k].spare ? "spare" : "-"),
                          d[k].slot[0] ? d[k].slot : "-");
        snprintf(path, sizeof(path), "%s/devices.tsv", dir);
        rc = write_buf(path, &b, 0644);
    }
    return rc ? wb_error_prefix(rc, "writing the fleet's files to %s", dir) : 0;
}
