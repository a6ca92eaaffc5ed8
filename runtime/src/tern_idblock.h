/* tern_idblock.h — the device's ID block (PING's answer) into a checked configuration (internal). */
#ifndef TERN_IDBLOCK_H
#define TERN_IDBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "tern/tern.h"

/* Parse the TERN_NUM_ID_REGS little-endian registers at id into *out. Every register is checked
 * (ARCHITECTURE.md section 4); TERN_E_PROTO with a message naming the register otherwise, and *out
 * is left untouched. */
int tern_idblock_parse(const uint8_t *id, struct tern_config *out, char *err, size_t errlen);

/* "LANES", "MAX_PAYLOAD", ... for an ID register index; "?" past the block. */
const char *tern_id_reg_name(unsigned index);

#endif /* TERN_IDBLOCK_H */
