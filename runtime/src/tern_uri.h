/* tern_uri.h — device URIs: "scheme" or "scheme:key=value,key=value" (internal). */
#ifndef TERN_URI_H
#define TERN_URI_H

#include <stddef.h>

#define TERN_URI_MAX_OPTS 16

struct tern_uri_opt {
    char key[32];
    char value[256];
    int used; /* set by the backend that consumed it */
};

struct tern_uri {
    char scheme[16];
    size_t nopts;
    struct tern_uri_opt opts[TERN_URI_MAX_OPTS];
};

/* Parse; on failure returns TERN_E_INVAL and writes the reason into err. */
int tern_uri_parse(const char *text, struct tern_uri *out, char *err, size_t errlen);
/* The value of key (marking it used), or NULL when absent. */
const char *tern_uri_get(struct tern_uri *uri, const char *key);
/* TERN_OK when every option was used, else TERN_E_INVAL naming the first unused one. */
int tern_uri_check_used(const struct tern_uri *uri, char *err, size_t errlen);

#endif /* TERN_URI_H */
