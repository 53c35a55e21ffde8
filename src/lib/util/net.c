/*
 * net.c: the listen address of a server ("ADDR:PORT", "[v6]:PORT",
 * numeric; port 0 lets the kernel pick), for `waybill serve` and `waybill
 * sim devices` alike.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "waybill/error.h"
#include "waybill/util.h"

int wb_parse_listen(struct sockaddr_storage *ss, socklen_t *sl, const char *listen)
{
    char host[256];
    const char *colon, *port;
    struct addrinfo hints, *res = NULL;
    size_t hl;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':')
            goto bad;
        hl = (size_t)(end - listen - 1);
        if (hl >= sizeof(host))
            goto bad;
        memcpy(host, listen + 1, hl);
        port = end + 2;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        hl = (size_t)(colon - listen);
        if (hl >= sizeof(host))
            goto bad;
        memcpy(host, listen, hl);
        port = colon + 1;
    }
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host[0] ? host : NULL, port, &hints, &res) != 0 || !res)
        goto bad;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    return wb_error_set(WB_E_INVALID, "listen address '%s' is not ADDR:PORT (numeric; "
                        "[v6]:PORT for IPv6)", listen);
}
