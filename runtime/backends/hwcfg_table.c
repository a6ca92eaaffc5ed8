/* hwcfg_table.c — lookup in the generated table of accelerator configurations (device models only). */
#include <stddef.h>
#include <string.h>

#include "tern_hwconfigs.h"
#include "ref/tern_refdev.h"

const struct tern_hwcfg *tern_hwcfg_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < TERN_HWCFG_COUNT; i++)
        if (strcmp(tern_hwcfgs[i].name, name) == 0)
            return &tern_hwcfgs[i];
    return NULL;
}

const struct tern_hwcfg *tern_hwcfg_at(size_t i)
{
    return i < TERN_HWCFG_COUNT ? &tern_hwcfgs[i] : NULL;
}
