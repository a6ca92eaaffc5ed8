/* error.c — the runtime's error codes as text. */
#include "tern/tern.h"

const char *tern_strerror(int err)
{
    switch (err) {
    case TERN_OK: return "success";
    case TERN_E_INVAL: return "invalid argument";
    case TERN_E_NOMEM: return "out of memory";
    case TERN_E_IO: return "link input/output error";
    case TERN_E_PROTO: return "protocol violation by the device";
    case TERN_E_NOFIT: return "shape does not fit the device";
    case TERN_E_TIMEOUT: return "no valid response from the device";
    case TERN_E_DEVICE: return "command refused by the device";
    case TERN_E_CODE: return "illegal ternary weight code (binary 10)";
    case TERN_E_NOTFOUND: return "not found";
    case TERN_E_FORMAT: return "malformed file";
    case TERN_E_UNSUPPORTED: return "not supported by this build";
    case TERN_E_NODEV: return "device gone (unplugged or lost from the bus)";
    case TERN_E_ACCESS: return "permission denied opening the device";
    case TERN_E_BUSY: return "device in use by another process or driver";
    default: return "unknown error";
    }
}
