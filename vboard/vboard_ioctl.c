/* vboard_ioctl.c — the usbdevfs ioctls of the virtual board's device node, answered as the kernel
 * answers them: one small handler a request, dispatched from a table keyed by the request
 * (capabilities, speed, connection info, URBs, claims and releases, kernel driver state,
 * disconnect/connect, interface and configuration, halts, resets, control and bulk requests,
 * privileges); the interface claims behind them; the standard control requests of the device
 * (the FTDI requests go to the chip model, vboard_ftdi.c). Requests usbfs has that the chip's
 * host never sends get ENOTTY and a line in the log. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/usbdevice_fs.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "tern/tern.h"
#include "vboard_usb.h"

#ifndef USBDEVFS_CAP_ZERO_PACKET
#define USBDEVFS_CAP_ZERO_PACKET 0x01
#define USBDEVFS_CAP_BULK_CONTINUATION 0x02
#define USBDEVFS_CAP_NO_PACKET_SIZE_LIM 0x04
#define USBDEVFS_CAP_BULK_SCATTER_GATHER 0x08
#define USBDEVFS_CAP_REAP_AFTER_DISCONNECT 0x10
#endif
#ifndef USBDEVFS_CAP_DROP_PRIVILEGES
#define USBDEVFS_CAP_DROP_PRIVILEGES 0x40
#endif
#ifndef USBDEVFS_CAP_CONNINFO_EX
#define USBDEVFS_CAP_CONNINFO_EX 0x80
#endif

/* What the emulated host controller offers: one URB per libusb transfer (scatter-gather, no
 * packet size limit), zero-length packets, reaping after a disconnect, DROP_PRIVILEGES and
 * CONNINFO_EX; like an xHCI controller without usbfs mmap, runtime suspend and the bulk
 * continuation flag (libusb needs none of them when it has scatter-gather). */
#define VBOARD_CAPS                                                                                                    \
    (USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_BULK_SCATTER_GATHER |                   \
     USBDEVFS_CAP_REAP_AFTER_DISCONNECT | USBDEVFS_CAP_DROP_PRIVILEGES | USBDEVFS_CAP_CONNINFO_EX)

#define SPEED_HIGH 3 /* enum usb_device_speed USB_SPEED_HIGH */

static const char *driver_name(enum vboard_driver d)
{
    return d == VBOARD_DRV_FTDI_SIO ? "ftdi_sio" : d == VBOARD_DRV_USBFS ? "usbfs" : "(none)";
}

/* usbfs releases interface ifno (a release, a disconnect, a reset). */
static void release_iface(struct vboard *vb, int ifno)
{
    struct vboard_iface *it = &vb->ifs[ifno];

    if (it->driver == VBOARD_DRV_USBFS && it->owner != VBOARD_OTHER_PROCESS)
        vboard_kill_iface_urbs(vb, it->owner, ifno);
    it->driver = VBOARD_DRV_NONE;
    it->owner = NULL;
}

static int claim_iface(struct vboard *vb, struct vboard_client *cl, unsigned ifno)
{
    struct vboard_iface *it;

    if (ifno >= 32)
        return -EINVAL;
    if (cl->dropped && !(cl->allowed_ifs & (1u << ifno)))
        return -EACCES;
    if (!vb->config || (int)ifno >= vb->nifs)
        return -ENOENT;
    it = &vb->ifs[ifno];
    if (it->driver == VBOARD_DRV_USBFS && it->owner == cl)
        return 0;
    if (it->driver != VBOARD_DRV_NONE) {
        vboard_log(vb, 1, "client %u: claim interface %u: EBUSY (held by %s%s)", cl->id, ifno,
                   driver_name(it->driver),
                   it->owner == VBOARD_OTHER_PROCESS ? ", another process" : it->owner ? ", another connection" : "");
        return -EBUSY;
    }
    it->driver = VBOARD_DRV_USBFS;
    it->owner = cl;
    it->alt = 0;
    vboard_log(vb, 1, "client %u: claimed interface %u", cl->id, ifno);
    return 0;
}

/* The kernel's checkintf(): a URB or request on an interface the client did not claim claims it. */
int vboard_check_iface(struct vboard *vb, struct vboard_client *cl, int ifno)
{
    if (vb->ifs[ifno].driver == VBOARD_DRV_USBFS && vb->ifs[ifno].owner == cl)
        return 0;
    int rc = claim_iface(vb, cl, (unsigned)ifno);
    if (!rc)
        vboard_log(vb, 1, "client %u: did not claim interface %d before use (claimed it, as usbfs does)", cl->id, ifno);
    return rc;
}

/* ------------------------------------------------------------------------ control requests */

static void ftdi_log(void *ctx, const char *fmt, ...)
{
    struct vboard *vb = ctx;
    char buf[256];
    va_list ap;

    if (vb->verbose < 1)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    vboard_log(vb, 1, "%s", buf);
}

/* A control request: 0 (*len = data bytes), or a negative errno (-EPIPE: a stall). */
int vboard_control(struct vboard *vb, struct vboard_client *cl, const uint8_t *setup, uint8_t *data, size_t *len)
{
    uint8_t rt = setup[0], req = setup[1];
    uint16_t wvalue = (uint16_t)(setup[2] | setup[3] << 8), windex = (uint16_t)(setup[4] | setup[5] << 8);
    size_t want = *len;
    int rc;

    vb->st.controls++;
    /* the kernel's check_ctrlrecip(): standard and class requests to an interface or endpoint
     * need it claimed */
    if ((rt & 0x60) != 0x40) {
        if ((rt & 0x1F) == 1) {
            if ((windex & 0xFF) >= vb->nifs)
                return -ENOENT;
            if ((rc = vboard_check_iface(vb, cl, windex & 0xFF)))
                return rc;
        } else if ((rt & 0x1F) == 2 && (windex & 0x7F)) {
            struct vboard_ep *ep = vboard_find_ep(vb, windex & 0xFF);
            if (!ep)
                return -ENOENT;
            if ((rc = vboard_check_iface(vb, cl, ep->iface)))
                return rc;
        }
    }
    pthread_mutex_lock(&vb->ftdi.lock);
    rc = vboard_ftdi_control(&vb->ftdi, setup, data, len, vboard_now(), ftdi_log, vb);
    pthread_mutex_unlock(&vb->ftdi.lock);
    if (rc <= 0)
        goto done;
    /* standard requests of the USB device */
    rc = 0;
    *len = 0;
    switch ((rt << 8) | req) {
    case 0x8000: /* GET_STATUS device: bus powered, no remote wakeup */
    case 0x8100: /* interface */
        if (want < 2)
            return -EPIPE;
        data[0] = data[1] = 0;
        *len = 2;
        break;
    case 0x8200: { /* endpoint: halt */
        struct vboard_ep *ep = vboard_find_ep(vb, windex & 0xFF);
        if (want < 2 || (!ep && (windex & 0x7F)))
            return -EPIPE;
        data[0] = ep ? (uint8_t)ep->halted : 0;
        data[1] = 0;
        *len = 2;
        break;
    }
    case 0x0201:   /* CLEAR_FEATURE endpoint */
    case 0x0203: { /* SET_FEATURE endpoint */
        struct vboard_ep *ep = vboard_find_ep(vb, windex & 0xFF);
        if (wvalue != 0 || (!ep && (windex & 0x7F)))
            return -EPIPE;
        if (ep)
            ep->halted = req == 3;
        vboard_log(vb, 1, "client %u: %s(ENDPOINT_HALT) ep 0x%02x", cl->id, req == 3 ? "SET_FEATURE" : "CLEAR_FEATURE",
                   windex & 0xFF);
        break;
    }
    case 0x0001: /* CLEAR_FEATURE device (remote wakeup), SET_FEATURE */
    case 0x0003:
        break;
    case 0x8008: /* GET_CONFIGURATION */
        if (want < 1)
            return -EPIPE;
        data[0] = (uint8_t)vb->config;
        *len = 1;
        break;
    case 0x0009: /* SET_CONFIGURATION, bypassing the kernel: the device just takes it */
        if (wvalue > 1)
            return -EPIPE;
        vb->config = wvalue;
        break;
    case 0x810A: /* GET_INTERFACE */
        if (want < 1 || (windex & 0xFF) >= vb->nifs)
            return -EPIPE;
        data[0] = (uint8_t)vb->ifs[windex & 0xFF].alt;
        *len = 1;
        break;
    case 0x010B: /* SET_INTERFACE */
        if (wvalue != 0 || (windex & 0xFF) >= vb->nifs)
            return -EPIPE;
        break;
    default:
        vboard_log(vb, 1, "client %u: control request bmRequestType 0x%02x bRequest 0x%02x wValue 0x%04x wIndex 0x%04x: stall",
                   cl->id, rt, req, wvalue, windex);
        return -EPIPE;
    }
done:
    if (rc == 0 && vb->verbose >= 2)
        vboard_log(vb, 2, "client %u: control %02x %02x %04x %04x len %zu: %zu bytes", cl->id, rt, req, wvalue, windex,
                   want, *len);
    return rc;
}

/* Resolve the argument as a block of len bytes: NULL (and the client answered EFAULT) if not. */
static UMockdevIoctlData *arg_block(struct vboard_client *cl, size_t len)
{
    GError *gerr = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(cl->client), 0, len, &gerr);

    if (!d) {
        if (gerr)
            g_error_free(gerr);
        vboard_reply(cl, -1, EFAULT);
    }
    return d;
}

/* ----------------------------------------------------------------------------- the handlers */

/* One ioctl as a handler sees it. */
struct vboard_call {
    unsigned long req;
    UMockdevIoctlData *arg; /* the argument as the client passed it */
    UMockdevIoctlData *d;   /* resolved as a block of the table's arg_len bytes (NULL when 0) */
    int64_t now;
};

/* A handler returns what the ioctl answers (>= 0, or a negative errno), or ANSWERED when it
 * answered the client itself (or parked it until it can). */
#define ANSWERED INT_MIN
typedef int (*ioctl_fn)(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c);

static void answer(struct vboard_client *cl, int rc)
{
    vboard_reply(cl, rc < 0 ? -1 : rc, rc < 0 ? -rc : 0);
}

static int h_get_capabilities(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    (void)vb;
    (void)cl;
    *(uint32_t *)c->d->data = VBOARD_CAPS;
    return 0;
}

static int h_connectinfo(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    (void)cl;
    ((struct usbdevfs_connectinfo *)c->d->data)->devnum = vb->addr;
    ((struct usbdevfs_connectinfo *)c->d->data)->slow = 0;
    return 0;
}

static int h_submiturb(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    int rc = vboard_submit_urb(vb, cl, c->arg);

    if (rc && vb->verbose >= 1)
        vboard_log(vb, 1, "client %u: SUBMITURB refused: %s", cl->id, g_strerror(-rc));
    return rc;
}

static int h_reapurb(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    vboard_reap(vb, cl, c->req == USBDEVFS_REAPURB, c->now);
    return ANSWERED;
}

static int h_discardurb(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    return vboard_discard_urb(vb, cl, *(unsigned long *)c->arg->data);
}

static int h_claiminterface(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    return claim_iface(vb, cl, *(unsigned *)c->d->data);
}

static int h_releaseinterface(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    unsigned ifno = *(unsigned *)c->d->data;

    if (ifno >= 32)
        return -EINVAL;
    if ((int)ifno >= vb->nifs || vb->ifs[ifno].driver != VBOARD_DRV_USBFS || vb->ifs[ifno].owner != cl)
        return -EINVAL;
    release_iface(vb, (int)ifno);
    vboard_log(vb, 1, "client %u: released interface %u", cl->id, ifno);
    return 0;
}

static int h_getdriver(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    struct usbdevfs_getdriver *gd = (void *)c->d->data;

    (void)cl;
    if (gd->interface >= (unsigned)vb->nifs || !vb->config || vb->ifs[gd->interface].driver == VBOARD_DRV_NONE)
        return -ENODATA;
    memset(gd->driver, 0, sizeof gd->driver);
    snprintf(gd->driver, sizeof gd->driver, "%s", driver_name(vb->ifs[gd->interface].driver));
    return 0;
}

/* USBDEVFS_IOCTL: the two requests usbfs passes to an interface, DISCONNECT and CONNECT. */
static int h_ioctl(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    struct usbdevfs_ioctl *ic = (void *)c->d->data;
    struct vboard_iface *it;

    if (cl->dropped)
        return -EACCES;
    if (!vb->config)
        return -EHOSTUNREACH;
    if (ic->ifno < 0 || ic->ifno >= vb->nifs)
        return -EINVAL;
    it = &vb->ifs[ic->ifno];
    if ((unsigned)ic->ioctl_code == (unsigned)USBDEVFS_DISCONNECT) {
        if (it->driver == VBOARD_DRV_NONE)
            return -ENODATA;
        vboard_log(vb, 1, "client %u: interface %d: %s detached", cl->id, ic->ifno, driver_name(it->driver));
        release_iface(vb, ic->ifno);
        return 0;
    }
    if ((unsigned)ic->ioctl_code == (unsigned)USBDEVFS_CONNECT) {
        if (it->driver != VBOARD_DRV_NONE)
            return -EBUSY;
        it->driver = VBOARD_DRV_FTDI_SIO; /* device_attach(): ftdi_sio binds, returns 1 */
        vboard_log(vb, 1, "client %u: interface %d: ftdi_sio attached", cl->id, ic->ifno);
        return 1;
    }
    return it->driver == VBOARD_DRV_NONE ? -ENODATA : -ENOTTY;
}

static int h_disconnect_claim(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    struct usbdevfs_disconnect_claim *dc = (void *)c->d->data;
    struct vboard_iface *it = dc->interface < (unsigned)vb->nifs ? &vb->ifs[dc->interface] : NULL;
    const char *name = it ? driver_name(it->driver) : "";
    int rc;

    dc->driver[sizeof dc->driver - 1] = 0;
    if (cl->dropped)
        rc = -EACCES;
    else if (!it || !vb->config)
        rc = -EINVAL;
    else if (it->driver == VBOARD_DRV_USBFS)
        rc = -EBUSY;
    else if (it->driver != VBOARD_DRV_NONE && (dc->flags & USBDEVFS_DISCONNECT_CLAIM_IF_DRIVER) &&
             strcmp(dc->driver, name))
        rc = -EBUSY;
    else if (it->driver != VBOARD_DRV_NONE && (dc->flags & USBDEVFS_DISCONNECT_CLAIM_EXCEPT_DRIVER) &&
             !strcmp(dc->driver, name))
        rc = -EBUSY;
    else {
        if (it->driver != VBOARD_DRV_NONE)
            vboard_log(vb, 1, "client %u: interface %u: %s detached", cl->id, dc->interface, name);
        release_iface(vb, (int)dc->interface);
        rc = claim_iface(vb, cl, dc->interface);
    }
    if (rc == -EBUSY && it && it->driver == VBOARD_DRV_USBFS)
        vboard_log(vb, 1, "client %u: DISCONNECT_CLAIM interface %u: EBUSY (claimed through usbfs)", cl->id,
                   dc->interface);
    return rc;
}

static int h_setinterface(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    struct usbdevfs_setinterface *si = (void *)c->d->data;
    int rc;

    if (si->interface >= (unsigned)vb->nifs || !vb->config)
        return -EINVAL;
    if ((rc = vboard_check_iface(vb, cl, (int)si->interface)))
        return rc;
    if (si->altsetting != 0)
        return -EINVAL;
    for (int i = 0; i < vb->neps; i++)
        if (vb->eps[i].iface == (int)si->interface)
            vb->eps[i].halted = 0; /* SET_INTERFACE resets the endpoints */
    return 0;
}

/* USBDEVFS_CLEAR_HALT and USBDEVFS_RESETEP (which only checks the endpoint). */
static int h_clear_halt(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    struct vboard_ep *ep = vboard_find_ep(vb, *(unsigned *)c->d->data);
    int rc;

    if (!ep || !vb->config)
        return -ENOENT;
    if ((rc = vboard_check_iface(vb, cl, ep->iface)) == 0 && c->req == USBDEVFS_CLEAR_HALT) {
        if (ep->halted)
            vboard_log(vb, 1, "client %u: CLEAR_HALT ep 0x%02x: the endpoint runs again", cl->id, ep->addr);
        ep->halted = 0;
    }
    return rc;
}

static int h_setconfiguration(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    int value = *(int *)c->d->data;

    if (cl->dropped)
        return -EACCES;
    for (int i = 0; i < vb->nifs && vb->config; i++)
        if (vb->ifs[i].driver != VBOARD_DRV_NONE) {
            vboard_log(vb, 1, "client %u: SETCONFIGURATION %d: EBUSY, interface %d is claimed by %s", cl->id, value,
                       i, driver_name(vb->ifs[i].driver));
            return -EBUSY;
        }
    if (value == -1)
        value = 0;
    if (value != 0 && value != 1)
        return -EINVAL;
    for (int i = 0; i < vb->neps; i++)
        vb->eps[i].halted = 0;
    if (value == 1 && vb->config == 0)
        for (int i = 0; i < vb->nifs; i++)
            if (vb->ifs[i].driver == VBOARD_DRV_NONE)
                vb->ifs[i].driver = VBOARD_DRV_FTDI_SIO; /* the kernel probes drivers */
    vb->config = value;
    umockdev_testbed_set_attribute(vb->tb, vb->syspath, "bConfigurationValue", value ? "1" : "");
    return 0;
}

static int h_reset(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    int64_t now = vboard_now();

    (void)c;
    if (cl->dropped)
        for (int i = 0; i < vb->nifs; i++)
            if (vb->ifs[i].driver != VBOARD_DRV_NONE && vb->ifs[i].owner != cl)
                return -EACCES;
    /* interfaces usbfs held are unbound and, after the reset, bound again to their driver */
    for (int i = 0; i < vb->nifs; i++)
        if (vb->ifs[i].driver == VBOARD_DRV_USBFS && vb->ifs[i].owner != VBOARD_OTHER_PROCESS) {
            release_iface(vb, i);
            vb->ifs[i].driver = VBOARD_DRV_FTDI_SIO;
        }
    for (int i = 0; i < vb->neps; i++)
        vb->eps[i].halted = 0;
    pthread_mutex_lock(&vb->ftdi.lock);
    vboard_ftdi_power_on(&vb->ftdi, now);
    pthread_cond_broadcast(&vb->ftdi.cond);
    pthread_mutex_unlock(&vb->ftdi.lock);
    vboard_log(vb, 1, "client %u: USB reset: the chip is back to its power-on state", cl->id);
    return 0;
}

/* A synchronous control request: answered here, so that the data block it wrote goes back first. */
static int h_control(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    GError *gerr = NULL;
    struct usbdevfs_ctrltransfer ct = *(struct usbdevfs_ctrltransfer *)c->d->data;
    uint8_t setup[8] = {ct.bRequestType,      ct.bRequest,       (uint8_t)ct.wValue,  (uint8_t)(ct.wValue >> 8),
                        (uint8_t)ct.wIndex,   (uint8_t)(ct.wIndex >> 8), (uint8_t)ct.wLength,
                        (uint8_t)(ct.wLength >> 8)};
    UMockdevIoctlData *buf = NULL;
    uint8_t none[1];
    size_t n = ct.wLength;
    int rc;

    if (ct.wLength) {
        buf = umockdev_ioctl_data_resolve(c->d, offsetof(struct usbdevfs_ctrltransfer, data), ct.wLength, &gerr);
        if (!buf) {
            if (gerr)
                g_error_free(gerr);
            return -EFAULT;
        }
    }
    rc = vboard_control(vb, cl, setup, buf ? buf->data : none, &n);
    answer(cl, rc < 0 ? rc : (int)n);
    if (buf)
        g_object_unref(buf);
    return ANSWERED;
}

static int h_bulk(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    int rc = vboard_bulk_sync(vb, cl, c->arg, c->now);

    if (rc)
        return rc;
    vboard_usb_service(vb); /* it may complete at once; else the client waits, parked */
    return ANSWERED;
}

static int h_drop_privileges(struct vboard *vb, struct vboard_client *cl, const struct vboard_call *c)
{
    (void)vb;
    cl->allowed_ifs &= *(uint32_t *)c->d->data;
    cl->dropped = 1;
    return 0;
}

/* USBDEVFS_CONNINFO_EX(len): its request number carries the caller's struct size. */
static int is_conninfo_ex(unsigned long req)
{
    return _IOC_TYPE(req) == 'U' && _IOC_NR(req) == 32;
}

static void conninfo_ex(struct vboard *vb, struct vboard_client *cl, unsigned long req)
{
    size_t len = _IOC_SIZE(req);
    struct usbdevfs_conninfo_ex ci;
    UMockdevIoctlData *d;

    memset(&ci, 0, sizeof ci);
    ci.size = sizeof ci;
    ci.busnum = vb->bus;
    ci.devnum = vb->addr;
    ci.speed = SPEED_HIGH;
    ci.num_ports = 1;
    ci.ports[0] = 1;
    if (len > sizeof ci)
        len = sizeof ci;
    if (!(d = arg_block(cl, len)))
        return;
    memcpy(d->data, &ci, len);
    vboard_reply(cl, 0, 0);
    g_object_unref(d);
}

/* ------------------------------------------------------------------------------- the table */

#define SERVE_AFTER 1u /* after the answer, answer every waiting client that can be answered now */
#define CONSTANT 2u    /* no handler: the answer is always `value` */

static const struct ioctl_entry {
    unsigned int req;
    const char *name;
    size_t arg_len; /* the argument is resolved as a block of this many bytes first (0: not) */
    ioctl_fn fn;    /* NULL and not CONSTANT: usbfs has it, the emulated device does not (ENOTTY) */
    unsigned flags;
    int value;      /* CONSTANT: what it answers (>= 0, or a negative errno) */
} ioctls[] = {
#define E(req, len, fn, flags) {(unsigned int)req, #req, len, fn, flags, 0}
#define K(req, value) {(unsigned int)req, #req, 0, NULL, CONSTANT, value}
    E(USBDEVFS_REAPURBNDELAY, 0, h_reapurb, 0),
    E(USBDEVFS_SUBMITURB, 0, h_submiturb, 0),
    E(USBDEVFS_REAPURB, 0, h_reapurb, 0),
    E(USBDEVFS_DISCARDURB, 0, h_discardurb, 0),
    E(USBDEVFS_GET_CAPABILITIES, 4, h_get_capabilities, 0),
    K(USBDEVFS_GET_SPEED, SPEED_HIGH),
    E(USBDEVFS_CONNECTINFO, sizeof(struct usbdevfs_connectinfo), h_connectinfo, 0),
    E(USBDEVFS_CLAIMINTERFACE, 4, h_claiminterface, 0),
    E(USBDEVFS_RELEASEINTERFACE, 4, h_releaseinterface, SERVE_AFTER),
    E(USBDEVFS_GETDRIVER, sizeof(struct usbdevfs_getdriver), h_getdriver, 0),
    E(USBDEVFS_IOCTL, sizeof(struct usbdevfs_ioctl), h_ioctl, 0),
    E(USBDEVFS_DISCONNECT_CLAIM, sizeof(struct usbdevfs_disconnect_claim), h_disconnect_claim, 0),
    E(USBDEVFS_SETINTERFACE, sizeof(struct usbdevfs_setinterface), h_setinterface, 0),
    E(USBDEVFS_CLEAR_HALT, 4, h_clear_halt, 0),
    E(USBDEVFS_RESETEP, 4, h_clear_halt, 0),
    E(USBDEVFS_SETCONFIGURATION, 4, h_setconfiguration, 0),
    E(USBDEVFS_RESET, 0, h_reset, SERVE_AFTER),
    E(USBDEVFS_CONTROL, sizeof(struct usbdevfs_ctrltransfer), h_control, 0),
    E(USBDEVFS_BULK, 0, h_bulk, 0),
    E(USBDEVFS_DROP_PRIVILEGES, 4, h_drop_privileges, 0),
    K(USBDEVFS_DISCSIGNAL, 0),
    K(USBDEVFS_FORBID_SUSPEND, 0),
    K(USBDEVFS_ALLOW_SUSPEND, 0),
    K(USBDEVFS_WAIT_FOR_RESUME, 0),
    K(USBDEVFS_ALLOC_STREAMS, -EINVAL), /* bulk streams are USB 3 */
    K(USBDEVFS_FREE_STREAMS, -EINVAL),
    E(USBDEVFS_HUB_PORTINFO, 0, NULL, 0),
    E(USBDEVFS_CLAIM_PORT, 0, NULL, 0),
    E(USBDEVFS_RELEASE_PORT, 0, NULL, 0),
#undef K
#undef E
};

static const struct ioctl_entry *find_ioctl(unsigned long req)
{
    for (size_t i = 0; i < sizeof ioctls / sizeof ioctls[0]; i++)
        if (ioctls[i].req == (unsigned int)req)
            return &ioctls[i];
    return NULL;
}

static void unknown_ioctl(struct vboard *vb, struct vboard_client *cl, unsigned long req)
{
    vb->st.unknown++;
    vboard_log(vb, 1, "client %u: unknown ioctl 0x%08lx (type '%c' nr %lu size %lu): ENOTTY", cl->id, req,
               (int)_IOC_TYPE(req) >= 32 && (int)_IOC_TYPE(req) < 127 ? (int)_IOC_TYPE(req) : '?',
               (unsigned long)_IOC_NR(req), (unsigned long)_IOC_SIZE(req));
    vboard_reply(cl, -1, ENOTTY);
}

gboolean vboard_ioctl_handle(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer data)
{
    struct vboard *vb = data;
    struct vboard_client *cl = g_object_get_data(G_OBJECT(client), "vboard-client");
    unsigned long req = umockdev_ioctl_client_get_request(client);
    const struct ioctl_entry *e = find_ioctl(req);
    struct vboard_call c = {req, umockdev_ioctl_client_get_arg(client), NULL, vboard_now()};
    int rc;

    (void)base;
    if (!cl) {
        umockdev_ioctl_client_complete(client, -1, ENODEV);
        return TRUE;
    }
    vb->st.ioctls++;
    if (vb->verbose >= 2 && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_SUBMITURB) {
        const char *name = e ? e->name : is_conninfo_ex(req) ? "USBDEVFS_CONNINFO_EX" : "?";
        vboard_log(vb, 2, "client %u: ioctl %s (0x%08lx)", cl->id, name, req);
    }
    if (vb->unplugged && req != USBDEVFS_REAPURB && req != USBDEVFS_REAPURBNDELAY) {
        vboard_reply(cl, -1, ENODEV);
        return TRUE;
    }
    if (e && (e->flags & CONSTANT)) {
        answer(cl, e->value);
        return TRUE;
    }
    if (!e || !e->fn) {
        if (is_conninfo_ex(req) && (_IOC_DIR(req) & _IOC_READ))
            conninfo_ex(vb, cl, req);
        else
            unknown_ioctl(vb, cl, req);
        return TRUE;
    }
    if (e->arg_len && !(c.d = arg_block(cl, e->arg_len)))
        return TRUE;
    rc = e->fn(vb, cl, &c);
    if (rc != ANSWERED)
        answer(cl, rc);
    if (c.d)
        g_object_unref(c.d);
    if (e->flags & SERVE_AFTER)
        vboard_serve_parked(vb, c.now);
    return TRUE;
}
