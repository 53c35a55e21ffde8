/*
 * persona.c: `waybill persona token`: a fresh bearer token for a reader of
 * the ledger, and the line that names it in the service's configuration
 * (docs/personas.md). The service keeps only the token's SHA-256.
 */
#include "cli.h"

#include <string.h>

#include "waybill/error.h"
#include "waybill/server.h"
#include "waybill/util.h"

static int run(int argc, char **argv);

const wb_cli_cmd wb_cmd_persona_token = {
    .group = "persona",
    .name = "token",
    .summary = "make a bearer token for a reader ([persona NAME])",
    .usage =
        "usage: waybill persona token [--json]\n"
        "\n"
        "Prints a fresh random bearer token (256 bits: 'wbp_' and 43 base64url\n"
        "characters) and the configuration line that names it:\n"
        "\n"
        "  token: wbp_...\n"
        "  token_sha256 = <hex SHA-256 of the token>\n"
        "\n"
        "Paste the second line into the reader's [persona NAME] section of the\n"
        "service's configuration (docs/personas.md) and give the token to the\n"
        "reader, who passes it as --token TOKEN or WAYBILL_TOKEN to every\n"
        "waybill command, or signs in to the web console with it. The service\n"
        "keeps only the digest; a lost token is replaced, not recovered.\n"
        "\n"
        "options:\n"
        "  --json    print {\"token\", \"token_sha256\"}\n"
        "\n"
        "exit codes: 0 printed, 2 usage, 5 no randomness\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    char token[WB_PERSONA_TOKEN_LEN + 1], hex[65];
    uint8_t d[32];
    cli_args a;
    int rc = cli_parse(&wb_cmd_persona_token, argc, argv, NULL, 0, &a, NULL, 0);
    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = wb_persona_token_new(token, d)) != 0)
        return cli_fail("persona token", rc);
    wb_hex_encode(hex, d, 32);
    if (a.json)
        printf("{\"token\": \"%s\", \"token_sha256\": \"%s\"}\n", token, hex);
    else
        printf("token: %s\ntoken_sha256 = %s\n", token, hex);
    explicit_bzero(token, sizeof(token));
    return WB_EXIT_OK;
}
