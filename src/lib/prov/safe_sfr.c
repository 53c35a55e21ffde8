/*
 * safe_sfr.c: the JSON of an OCP SAFE Short-Form Report and the rules that
 * normalize its drifting field types (waybill/safe.h).
 *
 * The report (OCP SAFE "review_framework_version" 0.3 to 2.1) is
 *
 *   { "review_framework_version": "1.1",
 *     "device": { "vendor", "product", "category", "repo_tag", "fw_version",
 *                 "fw_hash_sha2_384", "fw_hash_sha2_512",
 *                 "manifest": [ { "file_name", "file_hash" } ] },
 *     "audit":  { "srp", "methodology", "completion_date", "report_version",
 *                 "scope_number", "cvss_version",
 *                 "issues": [ { "title", "cvss_score", "cvss_vector", "cwe",
 *                               "description", "cve" } ] } }
 *
 * Real reports disagree on the types of several fields; each variant seen
 * in a published, signed report is accepted and normalized (and recorded as
 * a WB_SAFE_Q_* quirk), each variant not seen is refused with the field's
 * path. Fields not listed above are refused too: a later framework version
 * that adds one must fail loudly rather than be half read. Duplicate names
 * are refused (jansson JSON_REJECT_DUPLICATES), as is invalid UTF-8.
 */
#include "safe_int.h"

#include "waybill/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small text rules ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int wb_safe_text(char *dst, size_t cap, const char *s, size_t len, const char *what)
{
    if (len >= cap)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %zu-byte limit", what, len,
                            cap - 1);
    if (len && memchr(s, 0, len))
        return wb_error_set(WB_E_INVALID, "%s: holds a NUL character", what);
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

int wb_safe_long_text(char **dst, const char *s, size_t len, const char *what)
{
    char *c;
    int rc;

    *dst = NULL;
    if (len > WB_SAFE_LONG_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %d-byte limit", what, len,
                            WB_SAFE_LONG_MAX);
    c = malloc(len + 1);
    if (!c)
        return wb_error_set(WB_E_NOMEM, "out of memory for %s", what);
    if ((rc = wb_safe_text(c, len + 1, s, len, what)) != 0) {
        free(c);
        return rc;
    }
    *dst = c;
    return 0;
}

/* digits "." digits, each 1 to 3 long */
int wb_safe_version_check(const char *s, const char *what)
{
    size_t a = 0, b = 0;

    while (is_digit(s[a]))
        a++;
    if (a >= 1 && a <= 3 && s[a] == '.') {
        while (is_digit(s[a + 1 + b]))
            b++;
        if (b >= 1 && b <= 3 && s[a + 1 + b] == '\0')
            return 0;
    }
    return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a version like \"1.1\"", what, s);
}

int wb_safe_cvss_version_check(const char *s, const char *what)
{
    static const char *const known[] = {"2.0", "3.0", "3.1", "4.0"};

    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(s, known[i]) == 0)
            return 0;
    return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a CVSS version (2.0, 3.0, 3.1, 4.0)",
                        what, s);
}

static int leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : d[m - 1];
}

/* writes "YYYY-MM-DD" (y in 1..9999) */
static void date_put(char out[11], int y, int m, int d)
{
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '-';
    out[8] = (char)('0' + d / 10);
    out[9] = (char)('0' + d % 10);
    out[10] = '\0';
}

/* reads 1 or 2 digits at s[*i] */
static int read_1or2(const char *s, size_t *i, int *v, int *ndigits)
{
    if (!is_digit(s[*i]))
        return 0;
    *v = s[*i] - '0';
    *ndigits = 1;
    (*i)++;
    if (is_digit(s[*i])) {
        *v = *v * 10 + (s[*i] - '0');
        *ndigits = 2;
        (*i)++;
    }
    return 1;
}

int wb_safe_date(char out[11], const char *s, unsigned *quirks, const char *what)
{
    size_t i = 4;
    int y = 0, m, d, nm, nd;

    for (size_t k = 0; k < 4; k++) {
        if (!is_digit(s[k]))
            goto bad;
        y = y * 10 + (s[k] - '0');
    }
    if (s[i++] != '-' || !read_1or2(s, &i, &m, &nm) || s[i++] != '-' ||
        !read_1or2(s, &i, &d, &nd) || s[i] != '\0')
        goto bad;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a calendar date", what, s);
    if (nm == 1 || nd == 1)
        *quirks |= WB_SAFE_Q_DATE_UNPADDED;
    date_put(out, y, m, d);
    return 0;
bad:
    return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a date YYYY-MM-DD", what, s);
}

int wb_safe_date_from_epoch(char out[11], int64_t t, const char *what)
{
    int64_t days, era, doe, yoe, doy, mp, y, m, d;

    /* 1970-01-01 .. 9999-12-31 */
    if (t < 0 || t > INT64_C(253402300799))
        return wb_error_set(WB_E_INVALID, "%s: time %lld is outside 1970 to 9999", what,
                            (long long)t);
    /* days since 1970-01-01 to a civil date, in 400-year eras starting on
     * 0000-03-01 (the proleptic Gregorian calendar) */
    days = t / 86400 + 719468;
    era = days / 146097;
    doe = days - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = yoe + era * 400 + (m <= 2);
    date_put(out, (int)y, (int)m, (int)d);
    return 0;
}

int wb_safe_score_check(double v, const char *what)
{
    if (!(v >= 0.0 && v <= 10.0)) /* also refuses NaN */
        return wb_error_set(WB_E_INVALID, "%s: %g is not a CVSS score (0.0 to 10.0)", what, v);
    if ((double)(int)(v * 10.0 + 0.5) / 10.0 != v)
        return wb_error_set(WB_E_INVALID,
                            "%s: %g has more than one decimal (a CVSS score is like 7.5)",
                            what, v);
    return 0;
}

/* "0".."10" with an optional one-digit fraction; no sign, no exponent, no
 * leading zero, no space */
int wb_safe_score_text(double *out, const char *s, const char *what)
{
    size_t i = 0;

    while (is_digit(s[i]))
        i++;
    if (i == 0 || i > 2 || (i == 2 && s[0] == '0'))
        goto bad;
    if (s[i] == '.') {
        if (!is_digit(s[i + 1]))
            goto bad;
        i += 2;
    }
    if (s[i] != '\0')
        goto bad;
    *out = strtod(s, NULL); /* the text is plain decimal: no locale issue */
    return wb_safe_score_check(*out, what);
bad:
    return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a CVSS score like \"3.7\"", what, s);
}

/* "AV:N/AC:L/..." : one or more KEY:VAL, KEY 1-4 letters, VAL 1-4 alnum */
static int metrics_ok(const char *m)
{
    size_t i = 0;

    for (;;) {
        size_t k = 0, v = 0;
        while (is_alpha(m[i + k]))
            k++;
        if (k < 1 || k > 4 || m[i + k] != ':')
            return 0;
        i += k + 1;
        while (is_alpha(m[i + v]) || is_digit(m[i + v]))
            v++;
        if (v < 1 || v > 4)
            return 0;
        i += v;
        if (m[i] == '\0')
            return 1;
        if (m[i] != '/')
            return 0;
        i++;
    }
}

int wb_safe_vector(char *out, size_t cap, const char *v, const char *version,
                   unsigned *quirks, const char *what)
{
    char prefix_ver[8] = "";
    const char *m = v, *ver = version;
    int n;

    if (v[0] == '\0') {
        out[0] = '\0';
        return 0;
    }
    if (strncmp(v, "CVSS:", 5) == 0) {
        const char *slash = strchr(v + 5, '/');
        size_t vl = slash ? (size_t)(slash - (v + 5)) : 0;
        if (!slash || vl == 0 || vl >= sizeof(prefix_ver))
            return wb_error_set(WB_E_INVALID, "%s: '%.64s' has a malformed CVSS: prefix",
                                what, v);
        memcpy(prefix_ver, v + 5, vl);
        prefix_ver[vl] = '\0';
        if (wb_safe_cvss_version_check(prefix_ver, what) != 0)
            return WB_E_INVALID;
        if (version[0] && strcmp(prefix_ver, version) != 0)
            return wb_error_set(WB_E_INVALID,
                                "%s: the vector says CVSS:%s but the report's "
                                "cvss_version is %s",
                                what, prefix_ver, version);
        ver = prefix_ver;
        m = slash + 1;
    } else if (v[0] == '/') {
        *quirks |= WB_SAFE_Q_VECTOR_SLASH;
        m = v + 1;
    } else {
        *quirks |= WB_SAFE_Q_VECTOR_BARE;
    }
    if (!metrics_ok(m))
        return wb_error_set(WB_E_INVALID, "%s: '%.64s' is not a CVSS vector (AV:N/AC:L/...)",
                            what, v);
    if (ver[0] == '\0')
        return wb_error_set(WB_E_INVALID,
                            "%s: '%.64s' has no CVSS:x.y/ prefix and the report names no "
                            "cvss_version",
                            what, v);
    /* CVSS v2 vectors have no prefix; v3 and v4 vectors begin CVSS:x.y/ */
    if (strcmp(ver, "2.0") == 0)
        n = snprintf(out, cap, "%s", m);
    else
        n = snprintf(out, cap, "CVSS:%s/%s", ver, m);
    if (n < 0 || (size_t)n >= cap)
        return wb_error_set(WB_E_LIMIT, "%s: over the %zu-byte limit", what, cap - 1);
    return 0;
}

int wb_safe_cve(char *out, size_t cap, const char *s, const char *what)
{
    size_t i, n;

    if (s[0] == '\0') {
        out[0] = '\0';
        return 0;
    }
    n = strlen(s);
    if (strncmp(s, "CVE-", 4) != 0 || n < 13 || n >= cap)
        goto bad;
    for (i = 4; i < 8; i++)
        if (!is_digit(s[i]))
            goto bad;
    if (s[8] != '-')
        goto bad;
    for (i = 9; i < n; i++)
        if (!is_digit(s[i]))
            goto bad;
    memcpy(out, s, n + 1);
    return 0;
bad:
    return wb_error_set(WB_E_INVALID, "%s: '%.32s' is not a CVE id like CVE-2024-12345",
                        what, s);
}

int wb_safe_hex(char out[129], size_t *nbytes, const char *s, size_t len, unsigned *quirks,
                const char *what)
{
    int upper = 0;

    *nbytes = 0;
    if (len == 0 || len % 2 != 0 || len > 128)
        return wb_error_set(WB_E_INVALID, "%s: %zu hex digits, want an even number up to 128",
                            what, len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
            upper = 1;
        } else if (!is_digit(c) && !(c >= 'a' && c <= 'f')) {
            return wb_error_set(WB_E_INVALID, "%s: character %zu is not a hex digit", what,
                                i);
        }
        out[i] = c;
    }
    out[len] = '\0';
    if (upper)
        *quirks |= WB_SAFE_Q_HEX_UPPER;
    *nbytes = len / 2;
    return 0;
}

/* ---- JSON access ---- */

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

static int known_fields(const json_t *obj, const char *const *known, const char *path)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v) {
        size_t i = 0;
        while (known[i] && strcmp(known[i], k) != 0)
            i++;
        if (!known[i])
            return wb_error_set(WB_E_INVALID,
                                "%s%s%.64s: unknown field (this importer reads OCP SAFE "
                                "SFR framework 0.3 to 2.1 and refuses what it would "
                                "otherwise drop)",
                                path, path[0] ? "." : "", k);
    }
    return 0;
}

/*
 * str_field finds obj[key] as a string: *s NULL when absent and optional
 * (or null, when null_ok); WB_E_INVALID when missing and required, or of
 * another type. what gets "path.key".
 */
static int str_field(const char **s, size_t *len, const json_t *obj, const char *key,
                     const char *path, int required, int null_ok, char *what, size_t wcap)
{
    json_t *v = json_object_get(obj, key);

    snprintf(what, wcap, "%s.%s", path, key);
    *s = NULL;
    *len = 0;
    if (!v || (null_ok && json_is_null(v))) {
        if (required)
            return wb_error_set(WB_E_INVALID, "%s: missing", what);
        return 0;
    }
    if (!json_is_string(v))
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a string", what, json_kind(v));
    *s = json_string_value(v);
    *len = json_string_length(v);
    return 0;
}

/* a string field copied into a fixed buffer ("" when absent) */
static int str_into(char *dst, size_t cap, const json_t *obj, const char *key,
                    const char *path, int required, int nonempty)
{
    const char *s;
    size_t len;
    char what[96];
    int rc;

    if ((rc = str_field(&s, &len, obj, key, path, required, 0, what, sizeof(what))) != 0)
        return rc;
    if (nonempty && s && len == 0)
        return wb_error_set(WB_E_INVALID, "%s: empty", what);
    return wb_safe_text(dst, cap, s ? s : "", len, what);
}

static int long_into(char **dst, const json_t *obj, const char *key, const char *path,
                     int null_ok)
{
    const char *s;
    size_t len;
    char what[96];
    int rc;

    if ((rc = str_field(&s, &len, obj, key, path, 0, null_ok, what, sizeof(what))) != 0)
        return rc;
    return wb_safe_long_text(dst, s ? s : "", len, what);
}

/* ---- the report ---- */

static const char *const top_fields[] = {"review_framework_version", "device", "audit", NULL};
static const char *const device_fields[] = {
    "vendor",          "product",          "category", "repo_tag", "fw_version",
    "fw_hash_sha2_384", "fw_hash_sha2_512", "manifest", NULL};
static const char *const file_fields[] = {"file_name", "file_hash", NULL};
static const char *const audit_fields[] = {
    "srp",          "methodology",  "completion_date", "report_version",
    "scope_number", "cvss_version", "issues",          NULL};
static const char *const issue_fields[] = {"title", "cvss_score", "cvss_vector", "cwe",
                                           "description", "cve", NULL};

/* a device hash field: "" (none) or hex of the given length */
static int device_hash(wb_safe_report *r, const json_t *dev, const char *key)
{
    const char *s;
    size_t len, nbytes;
    char what[96], hex[129];
    int is512 = strcmp(key, "fw_hash_sha2_512") == 0, rc;

    if ((rc = str_field(&s, &len, dev, key, "device", 0, 0, what, sizeof(what))) != 0)
        return rc;
    if (!s)
        return 0;
    if (len == 0) {
        r->quirks |= WB_SAFE_Q_HASH_EMPTY;
        return 0;
    }
    if ((rc = wb_safe_hex(hex, &nbytes, s, len, &r->quirks, what)) != 0)
        return rc;
    if (!is512 && nbytes == 48) {
        memcpy(r->fw_sha384, hex, 97);
        return 0;
    }
    if (is512 && nbytes == 64) {
        memcpy(r->fw_sha512, hex, 129);
        return 0;
    }
    if (is512 && nbytes == 32) {
        /*
         * AMD's MI300X report (framework 0.3) has a 32-byte value here and
         * an empty SHA-384. It is not a SHA-512, and nothing says which
         * 256-bit hash it is: kept, labelled as such, and never used as the
         * firmware digest.
         */
        memcpy(r->fw_digest32, hex, 65);
        r->quirks |= WB_SAFE_Q_SHA512_HOLDS_32;
        return 0;
    }
    return wb_error_set(WB_E_INVALID, "%s: %zu bytes (%zu hex digits), want %d", what, nbytes,
                        len, is512 ? 64 : 48);
}

static int parse_files(wb_safe_report *r, const json_t *arr)
{
    size_t i;
    json_t *f;

    if (!json_is_array(arr))
        return wb_error_set(WB_E_INVALID, "device.manifest: is %s, want an array",
                            json_kind(arr));
    if (json_array_size(arr) > WB_SAFE_FILES_MAX)
        return wb_error_set(WB_E_LIMIT, "device.manifest: %zu files, over the %d limit",
                            json_array_size(arr), WB_SAFE_FILES_MAX);
    r->files = calloc(json_array_size(arr) + 1, sizeof(*r->files));
    if (!r->files)
        return wb_error_set(WB_E_NOMEM, "out of memory for device.manifest");
    json_array_foreach(arr, i, f) {
        char path[48], what[96];
        wb_safe_file *wf = &r->files[i];
        const char *s;
        size_t len, nbytes;
        int rc;

        snprintf(path, sizeof(path), "device.manifest[%zu]", i);
        if (!json_is_object(f))
            return wb_error_set(WB_E_INVALID, "%s: is %s, want an object", path,
                                json_kind(f));
        if ((rc = known_fields(f, file_fields, path)) != 0 ||
            (rc = str_into(wf->name, sizeof(wf->name), f, "file_name", path, 1, 1)) != 0 ||
            (rc = str_field(&s, &len, f, "file_hash", path, 1, 0, what, sizeof(what))) != 0 ||
            (rc = wb_safe_hex(wf->hash, &nbytes, s, len, &r->quirks, what)) != 0)
            return rc;
        if (nbytes != 32 && nbytes != 48 && nbytes != 64)
            return wb_error_set(WB_E_INVALID, "%s: %zu bytes, want 32, 48 or 64", what,
                                nbytes);
        r->nfiles = i + 1;
    }
    return 0;
}

static int parse_device(wb_safe_report *r, const json_t *dev)
{
    json_t *files;
    int rc;

    if (!json_is_object(dev))
        return wb_error_set(WB_E_INVALID, "device: is %s, want an object",
                            dev ? json_kind(dev) : "missing");
    if ((rc = known_fields(dev, device_fields, "device")) != 0 ||
        (rc = str_into(r->vendor, sizeof(r->vendor), dev, "vendor", "device", 1, 1)) != 0 ||
        (rc = str_into(r->product, sizeof(r->product), dev, "product", "device", 1, 1)) != 0 ||
        (rc = str_into(r->category, sizeof(r->category), dev, "category", "device", 0, 0)) !=
            0 ||
        (rc = str_into(r->fw_version, sizeof(r->fw_version), dev, "fw_version", "device", 0,
                       0)) != 0 ||
        (rc = long_into(&r->repo_tag, dev, "repo_tag", "device", 0)) != 0 ||
        (rc = device_hash(r, dev, "fw_hash_sha2_384")) != 0 ||
        (rc = device_hash(r, dev, "fw_hash_sha2_512")) != 0)
        return rc;
    files = json_object_get(dev, "manifest");
    return files ? parse_files(r, files) : 0;
}

/*
 * scope_number: absent (framework 0.3), the string "1" (IOActive 2024), the
 * integer 1, or the float 1.0 (Micron 2025); all mean scope 1. A fraction,
 * a sign, leading zeros or anything outside 1..99 is refused.
 */
static int parse_scope(wb_safe_report *r, const json_t *audit)
{
    json_t *v = json_object_get(audit, "scope_number");
    const char *what = "audit.scope_number";
    long long n;

    if (!v) {
        r->quirks |= WB_SAFE_Q_SCOPE_ABSENT;
        r->scope_number = 0;
        return 0;
    }
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d >= 1.0 && d <= 99.0) || d != (double)(long long)d)
            return wb_error_set(WB_E_INVALID, "%s: %g is not a whole scope number", what, d);
        n = (long long)d;
        r->quirks |= WB_SAFE_Q_SCOPE_FLOAT;
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        if (len < 1 || len > 2 || s[0] == '0' || !is_digit(s[0]) ||
            (len == 2 && !is_digit(s[1])))
            return wb_error_set(WB_E_INVALID, "%s: '%.16s' is not a scope number", what, s);
        n = atoll(s);
        r->quirks |= WB_SAFE_Q_SCOPE_STRING;
    } else {
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a number", what, json_kind(v));
    }
    if (n < 1 || n > 99)
        return wb_error_set(WB_E_INVALID, "%s: %lld is outside 1 to 99", what, n);
    r->scope_number = (int)n;
    return 0;
}

static int parse_issue(wb_safe_report *r, wb_safe_issue *is, const json_t *o, size_t i)
{
    char path[48], what[96];
    const char *s;
    size_t len;
    json_t *score, *cve;
    int rc;

    snprintf(path, sizeof(path), "audit.issues[%zu]", i);
    if (!json_is_object(o))
        return wb_error_set(WB_E_INVALID, "%s: is %s, want an object", path, json_kind(o));
    if ((rc = known_fields(o, issue_fields, path)) != 0 ||
        (rc = str_into(is->title, sizeof(is->title), o, "title", path, 1, 1)) != 0 ||
        (rc = long_into(&is->description, o, "description", path, 1)) != 0)
        return rc;

    /* cwe: "CWE-787", or like cve, null or absent for none */
    if ((rc = str_field(&s, &len, o, "cwe", path, 0, 1, what, sizeof(what))) != 0 ||
        (rc = wb_safe_text(is->cwe, sizeof(is->cwe), s ? s : "", len, what)) != 0)
        return rc;

    /* cvss_score: a string ("3.7", every real report) or a number */
    snprintf(what, sizeof(what), "%s.cvss_score", path);
    score = json_object_get(o, "cvss_score");
    if (!score)
        return wb_error_set(WB_E_INVALID, "%s: missing", what);
    if (json_is_string(score)) {
        if ((rc = wb_safe_score_text(&is->cvss_score, json_string_value(score), what)) != 0)
            return rc;
        r->quirks |= WB_SAFE_Q_SCORE_STRING;
    } else if (json_is_number(score)) {
        is->cvss_score = json_number_value(score);
        if ((rc = wb_safe_score_check(is->cvss_score, what)) != 0)
            return rc;
    } else {
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a number", what, json_kind(score));
    }

    if ((rc = str_field(&s, &len, o, "cvss_vector", path, 0, 0, what, sizeof(what))) != 0)
        return rc;
    if (s && len > WB_SAFE_VECTOR_MAX)
        return wb_error_set(WB_E_LIMIT, "%s: %zu bytes, over the %d-byte limit", what, len,
                            WB_SAFE_VECTOR_MAX);
    if (s && (rc = wb_safe_vector(is->cvss_vector, sizeof(is->cvss_vector), s,
                                  r->cvss_version, &r->quirks, what)) != 0)
        return rc;

    /* cve: "" (IOActive), null (Keysight, SGS) or absent all mean none */
    snprintf(what, sizeof(what), "%s.cve", path);
    cve = json_object_get(o, "cve");
    if (cve && json_is_null(cve)) {
        r->quirks |= WB_SAFE_Q_CVE_NULL;
    } else if (cve && json_is_string(cve)) {
        if (json_string_length(cve) == 0)
            r->quirks |= WB_SAFE_Q_CVE_EMPTY;
        else if ((rc = wb_safe_cve(is->cve, sizeof(is->cve), json_string_value(cve), what)) != 0)
            return rc;
    } else if (cve) {
        return wb_error_set(WB_E_INVALID, "%s: is %s, want a string or null", what,
                            json_kind(cve));
    }
    return 0;
}

static int parse_audit(wb_safe_report *r, const json_t *audit)
{
    const char *s;
    size_t len, i;
    char what[96];
    json_t *issues, *o;
    int rc;

    if (!json_is_object(audit))
        return wb_error_set(WB_E_INVALID, "audit: is %s, want an object",
                            audit ? json_kind(audit) : "missing");
    if ((rc = known_fields(audit, audit_fields, "audit")) != 0 ||
        (rc = str_into(r->srp, sizeof(r->srp), audit, "srp", "audit", 1, 1)) != 0 ||
        (rc = str_into(r->methodology, sizeof(r->methodology), audit, "methodology", "audit",
                       0, 0)) != 0 ||
        (rc = str_into(r->report_version, sizeof(r->report_version), audit,
                       "report_version", "audit", 0, 0)) != 0 ||
        (rc = str_field(&s, &len, audit, "completion_date", "audit", 1, 0, what,
                        sizeof(what))) != 0 ||
        (rc = wb_safe_date(r->completion_date, s, &r->quirks, what)) != 0 ||
        (rc = parse_scope(r, audit)) != 0 ||
        (rc = str_into(r->cvss_version, sizeof(r->cvss_version), audit, "cvss_version",
                       "audit", 0, 0)) != 0)
        return rc;
    if (r->cvss_version[0] &&
        (rc = wb_safe_cvss_version_check(r->cvss_version, "audit.cvss_version")) != 0)
        return rc;
    issues = json_object_get(audit, "issues");
    if (!json_is_array(issues))
        return wb_error_set(WB_E_INVALID, "audit.issues: is %s, want an array",
                            issues ? json_kind(issues) : "missing");
    if (json_array_size(issues) > WB_SAFE_ISSUES_MAX)
        return wb_error_set(WB_E_LIMIT, "audit.issues: %zu issues, over the %d limit",
                            json_array_size(issues), WB_SAFE_ISSUES_MAX);
    r->issues = calloc(json_array_size(issues) + 1, sizeof(*r->issues));
    if (!r->issues)
        return wb_error_set(WB_E_NOMEM, "out of memory for audit.issues");
    json_array_foreach(issues, i, o) {
        r->nissues = i + 1; /* so that cleanup frees its description */
        if ((rc = parse_issue(r, &r->issues[i], o, i)) != 0)
            return rc;
    }
    return 0;
}

int wb_safe_sfr_parse(wb_safe_report *r, const uint8_t *json, size_t len)
{
    json_error_t err;
    json_t *root;
    const char *s;
    size_t slen;
    char what[96];
    int rc;

    memset(r, 0, sizeof(*r));
    if (len > WB_SAFE_REPORT_MAX)
        return wb_error_set(WB_E_LIMIT, "report JSON: %zu bytes, over the %d-byte limit", len,
                            WB_SAFE_REPORT_MAX);
    root = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return wb_error_set(WB_E_INVALID, "report JSON: %s (line %d, column %d)", err.text,
                            err.line, err.column);
    if (!json_is_object(root)) {
        rc = wb_error_set(WB_E_INVALID, "report JSON: is %s, want an object",
                          json_kind(root));
        goto done;
    }
    if ((rc = known_fields(root, top_fields, "")) != 0 ||
        (rc = str_field(&s, &slen, root, "review_framework_version", "report", 1, 0, what,
                        sizeof(what))) != 0 ||
        (rc = wb_safe_text(r->framework_version, sizeof(r->framework_version), s, slen,
                           what)) != 0 ||
        (rc = wb_safe_version_check(r->framework_version, what)) != 0 ||
        (rc = parse_device(r, json_object_get(root, "device"))) != 0 ||
        (rc = parse_audit(r, json_object_get(root, "audit"))) != 0)
        goto done;
done:
    json_decref(root);
    if (rc)
        wb_safe_report_cleanup(r);
    return rc;
}
