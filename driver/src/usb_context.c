/* usb_context.c — the driver context (one libusb_context each, never the default one) and board
 * discovery: which devices are known bridges, what their descriptors say, reading their strings
 * when the device can be opened, and picking the one board a match names. */
#include <libusb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftdi_baud.h"
#include "tern/tern.h"
#include "tern/tern_usb.h"
#include "usb_transport.h"

#define FTDI_VID 0x0403u

struct tern_usb {
    libusb_context *usb;
};

/* The bridges a match with vid == -1 looks for. */
static const struct {
    uint16_t vid, pid;
} known_bridges[] = {
    { FTDI_VID, 0x6001 }, /* FT232R (and FT232AM/BM) */
    { FTDI_VID, 0x6010 }, /* FT2232H (and FT2232C/D) */
    { FTDI_VID, 0x6011 }, /* FT4232H */
    { FTDI_VID, 0x6014 }, /* FT232H */
    { FTDI_VID, 0x6015 }, /* FT-X: FT230X, FT231X, ... */
};

/* A bounded text being appended to (a message that lists devices). */
struct text {
    char *buf;
    size_t cap;
    size_t len;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (t->len < t->cap) {
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        if (n > 0)
            t->len += (size_t)n;
    }
    va_end(ap);
}

int tern_usb_code_of(int libusb_error)
{
    switch (libusb_error) {
    case LIBUSB_SUCCESS:
        return TERN_OK;
    case LIBUSB_ERROR_NO_DEVICE:
        return TERN_E_NODEV;
    case LIBUSB_ERROR_ACCESS:
        return TERN_E_ACCESS;
    case LIBUSB_ERROR_BUSY:
        return TERN_E_BUSY;
    case LIBUSB_ERROR_TIMEOUT:
        return TERN_E_TIMEOUT;
    case LIBUSB_ERROR_NO_MEM:
        return TERN_E_NOMEM;
    case LIBUSB_ERROR_INVALID_PARAM:
        return TERN_E_INVAL;
    default:
        return TERN_E_IO;
    }
}

int tern_usb_new(tern_usb **out, char *err, size_t errlen)
{
    if (!err)
        errlen = 0;
    if (!out) {
        snprintf(err, errlen, "tern_usb_new: out is NULL");
        return TERN_E_INVAL;
    }
    *out = NULL;
    tern_usb *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory for the usb context");
        return TERN_E_NOMEM;
    }
    int rc = libusb_init(&ctx->usb);
    if (rc < 0) {
        snprintf(err, errlen, "libusb_init failed: %s", libusb_error_name(rc));
        free(ctx);
        return rc == LIBUSB_ERROR_NO_MEM ? TERN_E_NOMEM : TERN_E_IO;
    }
    *out = ctx;
    return TERN_OK;
}

void tern_usb_free(tern_usb *ctx)
{
    if (!ctx)
        return;
    libusb_exit(ctx->usb);
    free(ctx);
}

struct libusb_context *tern_usb_libusb(const tern_usb *ctx)
{
    return ctx->usb;
}

static int is_known_bridge(uint16_t vid, uint16_t pid)
{
    for (size_t i = 0; i < sizeof known_bridges / sizeof known_bridges[0]; i++)
        if (known_bridges[i].vid == vid && known_bridges[i].pid == pid)
            return 1;
    return 0;
}

int tern_usb_bulk_endpoints(struct libusb_device *dev, int interface, uint8_t *ep_in,
                            uint8_t *ep_out, uint16_t *in_packet, uint8_t *interfaces)
{
    struct libusb_config_descriptor *config = NULL;
    int rc = libusb_get_active_config_descriptor(dev, &config);
    if (rc < 0)
        rc = libusb_get_config_descriptor(dev, 0, &config);
    if (rc < 0)
        return tern_usb_code_of(rc);

    if (interfaces)
        *interfaces = config->bNumInterfaces;
    int found_in = 0, found_out = 0;
    for (int i = 0; i < config->bNumInterfaces; i++) {
        const struct libusb_interface *itf = &config->interface[i];
        if (itf->num_altsetting < 1 || itf->altsetting[0].bInterfaceNumber != interface)
            continue;
        const struct libusb_interface_descriptor *alt = &itf->altsetting[0];
        for (int e = 0; e < alt->bNumEndpoints; e++) {
            const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
            if ((ep->bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK)
                continue;
            if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_DIR_MASK) == LIBUSB_ENDPOINT_IN) {
                if (!found_in) {
                    found_in = 1;
                    if (ep_in)
                        *ep_in = ep->bEndpointAddress;
                    if (in_packet)
                        *in_packet = (uint16_t)(ep->wMaxPacketSize & 0x7FFu);
                }
            } else if (!found_out) {
                found_out = 1;
                if (ep_out)
                    *ep_out = ep->bEndpointAddress;
            }
        }
    }
    libusb_free_config_descriptor(config);
    return found_in && found_out ? TERN_OK : TERN_E_NOTFOUND;
}

int tern_usb_describe(struct libusb_device *dev, struct tern_usb_info *info)
{
    struct libusb_device_descriptor desc;
    memset(info, 0, sizeof *info);
    int rc = libusb_get_device_descriptor(dev, &desc);
    if (rc < 0)
        return tern_usb_code_of(rc);
    info->vid = desc.idVendor;
    info->pid = desc.idProduct;
    info->bcd_device = desc.bcdDevice;
    info->bus = libusb_get_bus_number(dev);
    info->addr = libusb_get_device_address(dev);
    enum tern_ftdi_chip chip =
        desc.idVendor == FTDI_VID ? tern_ftdi_chip_from_bcd(desc.bcdDevice) : TERN_FTDI_UNKNOWN;
    snprintf(info->chip, sizeof info->chip, "%s", tern_ftdi_chip_name(chip));
    /* descriptors of a device in a strange state are no reason to hide it: zeros then */
    (void)tern_usb_bulk_endpoints(dev, 0, NULL, NULL, &info->max_packet, &info->interfaces);
    return TERN_OK;
}

static int read_one_string(libusb_device_handle *handle, uint8_t index, char *out, size_t cap,
                           const char *which, struct tern_usb_info *info)
{
    out[0] = '\0';
    if (index == 0)
        return 0;
    int n = libusb_get_string_descriptor_ascii(handle, index, (unsigned char *)out, (int)cap);
    if (n < 0) {
        out[0] = '\0';
        snprintf(info->note, sizeof info->note, "reading the %s string failed: %s", which,
                 libusb_error_name(n));
        return n;
    }
    out[(size_t)n < cap ? (size_t)n : cap - 1] = '\0';
    return 0;
}

void tern_usb_read_strings(libusb_device_handle *handle, struct tern_usb_info *info)
{
    struct libusb_device_descriptor desc;
    int rc = libusb_get_device_descriptor(libusb_get_device(handle), &desc);
    info->strings_read = 0;
    if (rc < 0) {
        snprintf(info->note, sizeof info->note, "reading the device descriptor failed: %s",
                 libusb_error_name(rc));
        return;
    }
    if (read_one_string(handle, desc.iManufacturer, info->manufacturer,
                        sizeof info->manufacturer, "manufacturer", info) ||
        read_one_string(handle, desc.iProduct, info->product, sizeof info->product, "product",
                        info) ||
        read_one_string(handle, desc.iSerialNumber, info->serial, sizeof info->serial, "serial",
                        info))
        return;
    info->strings_read = 1;
    info->note[0] = '\0';
}

/* Open the device just long enough to read its strings; the note says why when it cannot. */
static void read_strings_unopened(libusb_device *dev, struct tern_usb_info *info)
{
    libusb_device_handle *handle = NULL;
    int rc = libusb_open(dev, &handle);
    if (rc < 0) {
        info->strings_read = 0;
        if (rc == LIBUSB_ERROR_ACCESS)
            snprintf(info->note, sizeof info->note, "no permission to open it (%s): %s",
                     libusb_error_name(rc), TERN_USB_ACCESS_HINT);
        else
            snprintf(info->note, sizeof info->note, "cannot open it to read its strings: %s",
                     libusb_error_name(rc));
        return;
    }
    tern_usb_read_strings(handle, info);
    libusb_close(handle);
}

static int matches_descriptors(const struct tern_usb_info *info, const struct tern_usb_match *m)
{
    if (m->vid < 0 && !is_known_bridge(info->vid, info->pid))
        return 0;
    if (m->vid >= 0 && info->vid != (uint16_t)m->vid)
        return 0;
    if (m->pid >= 0 && info->pid != (uint16_t)m->pid)
        return 0;
    if (m->bus >= 0 && info->bus != (uint8_t)m->bus)
        return 0;
    if (m->addr >= 0 && info->addr != (uint8_t)m->addr)
        return 0;
    return 1;
}

static int matches_serial(const struct tern_usb_info *info, const struct tern_usb_match *m)
{
    if (!m->serial)
        return 1;
    return info->strings_read && strcmp(info->serial, m->serial) == 0;
}

static int access_refused(const struct tern_usb_info *info)
{
    return !info->strings_read && strncmp(info->note, "no permission", 13) == 0;
}

static void add_device(struct text *t, const struct tern_usb_info *info)
{
    text_add(t, "%04x:%04x %s bus %u addr %u", info->vid, info->pid, info->chip, info->bus,
             info->addr);
    if (info->strings_read)
        text_add(t, " serial %s", info->serial[0] ? info->serial : "(none)");
    else
        text_add(t, " serial ? (%s)", access_refused(info) ? "no permission" : "unreadable");
}

static void add_match(struct text *t, const struct tern_usb_match *m)
{
    const char *sep = "";
    text_add(t, "usb:");
    if (m->vid >= 0) {
        text_add(t, "%svid=%04x", sep, (unsigned)m->vid);
        sep = ",";
    }
    if (m->pid >= 0) {
        text_add(t, "%spid=%04x", sep, (unsigned)m->pid);
        sep = ",";
    }
    if (m->serial) {
        text_add(t, "%sserial=%s", sep, m->serial);
        sep = ",";
    }
    if (m->bus >= 0) {
        text_add(t, "%sbus=%d", sep, m->bus);
        sep = ",";
    }
    if (m->addr >= 0) {
        text_add(t, "%saddr=%d", sep, m->addr);
        sep = ",";
    }
    if (!*sep)
        text_add(t, " (any FTDI bridge 0403:6001/6010/6011/6014/6015)");
}

/* Walk the bus: call found() for every device that matches m, with its description (strings
 * read when the device could be opened). seen lists every FTDI device (may be NULL). */
typedef void (*found_fn)(void *arg, libusb_device *dev, const struct tern_usb_info *info);

static int walk(tern_usb *ctx, const struct tern_usb_match *m, found_fn found, void *arg,
                struct text *seen, size_t *seen_count, int *access_problem, char *err,
                size_t errlen)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(ctx->usb, &list);
    if (n < 0) {
        snprintf(err, errlen, "listing the USB devices failed: %s", libusb_error_name((int)n));
        return tern_usb_code_of((int)n);
    }
    for (ssize_t i = 0; i < n; i++) {
        struct tern_usb_info info;
        if (tern_usb_describe(list[i], &info) != TERN_OK)
            continue;
        int ftdi = info.vid == FTDI_VID;
        int candidate = matches_descriptors(&info, m);
        if (!ftdi && !candidate)
            continue;
        read_strings_unopened(list[i], &info);
        if (ftdi && seen) {
            text_add(seen, "%s", *seen_count ? "; " : ": ");
            add_device(seen, &info);
        }
        if (ftdi && seen_count)
            (*seen_count)++;
        if (candidate && access_problem && access_refused(&info))
            *access_problem = 1;
        if (candidate && matches_serial(&info, m))
            found(arg, list[i], &info);
    }
    libusb_free_device_list(list, 1);
    return TERN_OK;
}

struct list_state {
    struct tern_usb_info *out;
    size_t cap;
    size_t count;
};

static void list_found(void *arg, libusb_device *dev, const struct tern_usb_info *info)
{
    struct list_state *s = arg;
    (void)dev;
    if (s->count < s->cap)
        s->out[s->count] = *info;
    s->count++;
}

int tern_usb_list(tern_usb *ctx, const struct tern_usb_match *m, struct tern_usb_info *out,
                  size_t cap, size_t *count, char *err, size_t errlen)
{
    const struct tern_usb_match any = TERN_USB_MATCH_ANY;
    struct list_state s = { out, out ? cap : 0, 0 };
    if (!err)
        errlen = 0;
    if (!ctx) {
        snprintf(err, errlen, "tern_usb_list: no context");
        return TERN_E_INVAL;
    }
    int rc = walk(ctx, m ? m : &any, list_found, &s, NULL, NULL, NULL, err, errlen);
    if (count)
        *count = rc == TERN_OK ? s.count : 0;
    return rc;
}

struct find_state {
    libusb_device *first;
    struct tern_usb_info first_info;
    size_t count;
    struct text candidates;
};

static void find_found(void *arg, libusb_device *dev, const struct tern_usb_info *info)
{
    struct find_state *s = arg;
    if (s->count == 0) {
        s->first = libusb_ref_device(dev);
        s->first_info = *info;
    }
    text_add(&s->candidates, "%s", s->count ? "; " : "");
    add_device(&s->candidates, info);
    s->count++;
}

int tern_usb_find_one(tern_usb *ctx, const struct tern_usb_match *m, struct libusb_device **out,
                      struct tern_usb_info *info, char *err, size_t errlen)
{
    char seen_buf[512], candidates_buf[512];
    struct text seen = { seen_buf, sizeof seen_buf, 0 };
    struct find_state s = { NULL, { 0 }, 0, { candidates_buf, sizeof candidates_buf, 0 } };
    size_t seen_count = 0;
    int access_problem = 0;
    seen_buf[0] = candidates_buf[0] = '\0';

    int rc = walk(ctx, m, find_found, &s, &seen, &seen_count, &access_problem, err, errlen);
    if (rc)
        goto fail;
    if (s.count == 0) {
        struct text msg = { err, errlen, 0 };
        text_add(&msg, "no board matches ");
        add_match(&msg, m);
        text_add(&msg, " (%zu FTDI device%s seen%s)", seen_count, seen_count == 1 ? "" : "s",
                 seen_buf);
        if (access_problem)
            text_add(&msg, "; a serial could not be read for lack of permission: %s",
                     TERN_USB_ACCESS_HINT);
        rc = TERN_E_NOTFOUND;
        goto fail;
    }
    if (s.count > 1) {
        struct text msg = { err, errlen, 0 };
        text_add(&msg, "%zu boards match ", s.count);
        add_match(&msg, m);
        text_add(&msg, ": %s; pick one with serial= or bus=,addr=", candidates_buf);
        rc = TERN_E_INVAL;
        goto fail;
    }
    *out = s.first;
    *info = s.first_info;
    return TERN_OK;

fail:
    if (s.first)
        libusb_unref_device(s.first);
    return rc;
}
