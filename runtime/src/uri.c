/* uri.c — parsing device URIs such as "ref:config=tiny" or "sim:config=tiny,trace=run.fst". */
#include <stdio.h>
#include <string.h>

#include "tern/tern.h"
#include "tern_uri.h"

int tern_uri_parse(const char *text, struct tern_uri *out, char *err, size_t errlen)
{
    const char *p, *colon;
    size_t n;

    if (!text || !out) {
        snprintf(err, errlen, "no device URI given");
        return TERN_E_INVAL;
    }
    memset(out, 0, sizeof *out);
    colon = strchr(text, ':');
    n = colon ? (size_t)(colon - text) : strlen(text);
    if (n == 0 || n >= sizeof out->scheme) {
        snprintf(err, errlen, "device URI '%s': expected a backend name such as ref, sim or usb", text);
        return TERN_E_INVAL;
    }
    memcpy(out->scheme, text, n);
    if (!colon || !colon[1])
        return TERN_OK;
    p = colon + 1;
    while (*p) {
        const char *end = strchr(p, ','), *eq;
        size_t len = end ? (size_t)(end - p) : strlen(p);
        struct tern_uri_opt *o;

        eq = memchr(p, '=', len);
        if (out->nopts == TERN_URI_MAX_OPTS) {
            snprintf(err, errlen, "device URI '%s': more than %d options", text, TERN_URI_MAX_OPTS);
            return TERN_E_INVAL;
        }
        if (!eq || eq == p) {
            snprintf(err, errlen, "device URI '%s': option '%.*s' is not key=value", text, (int)len, p);
            return TERN_E_INVAL;
        }
        o = &out->opts[out->nopts];
        if ((size_t)(eq - p) >= sizeof o->key || len - (size_t)(eq - p) - 1 >= sizeof o->value) {
            snprintf(err, errlen, "device URI '%s': option '%.*s' is too long", text, (int)len, p);
            return TERN_E_INVAL;
        }
        memcpy(o->key, p, (size_t)(eq - p));
        memcpy(o->value, eq + 1, len - (size_t)(eq - p) - 1);
        for (size_t i = 0; i < out->nopts; i++)
            if (strcmp(out->opts[i].key, o->key) == 0) {
                snprintf(err, errlen, "device URI '%s': option '%s' given twice", text, o->key);
                return TERN_E_INVAL;
            }
        out->nopts++;
        p += len;
        if (*p == ',')
            p++;
    }
    return TERN_OK;
}

const char *tern_uri_get(struct tern_uri *uri, const char *key)
{
    for (size_t i = 0; i < uri->nopts; i++)
        if (strcmp(uri->opts[i].key, key) == 0) {
            uri->opts[i].used = 1;
            return uri->opts[i].value;
        }
    return NULL;
}

int tern_uri_check_used(const struct tern_uri *uri, char *err, size_t errlen)
{
    for (size_t i = 0; i < uri->nopts; i++)
        if (!uri->opts[i].used) {
            snprintf(err, errlen, "backend '%s' has no option '%s'", uri->scheme, uri->opts[i].key);
            return TERN_E_INVAL;
        }
    return TERN_OK;
}
