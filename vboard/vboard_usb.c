/* vboard_usb.c — the USB side of the virtual board: builds the umockdev testbed (a root hub and
 * the FTDI chip in sysfs, with the uevent properties and the binary `descriptors` attribute
 * libusb enumerates, and the device node), and answers the usbdevfs ioctls that libusb sends on
 * that node: capabilities, kernel driver state (ftdi_sio bound at start), interface claims per
 * connection, control and bulk URBs, reaping, discarding, halts, resets. URBs complete lazily:
 * whenever a client reaps, a timer fires or the engine thread made progress, the bulk queues are
 * pumped against the chip (vboard_ftdi.c) at the current wall-clock time. All URB memory is only
 * touched here, in the main-loop thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <linux/usbdevice_fs.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tern/tern.h"
#include "vboard_internal.h"

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

/* A client that moved data less than this long ago gets EAGAIN at once from an empty
 * REAPURBNDELAY; after that (idle: only status-only packets, or nothing) the reap is held up to
 * park_us for a URB to complete, which spares the CPU libusb's poll loop on an always-ready
 * node would burn. */
#define VBOARD_BUSY_US 2000

static void reply(struct vboard_client *cl, long res, int err)
{
    umockdev_ioctl_client_complete(cl->client, res, err);
}

/* -------------------------------------------------------------------------------- testbed */

static void append_hex(GString *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%02X", p[i]);
}

static const char *driver_name(enum vboard_driver d)
{
    return d == VBOARD_DRV_FTDI_SIO ? "ftdi_sio" : d == VBOARD_DRV_USBFS ? "usbfs" : "(none)";
}

int vboard_usb_setup(struct vboard *vb, char *err, size_t errlen)
{
    /* xHCI root hub of the bus: 1d6b:0002, one interrupt endpoint */
    static const uint8_t hub_desc[] = {18, 1,    0x00, 0x02, 9, 0, 1, 64, 0x6b, 0x1d, 0x02, 0x00, 0x06, 0x06, 3, 2,
                                       1,  1,    9,    2,    25, 0, 1, 1, 0,  0xe0, 0,    9,    4,    0,    0, 1,
                                       9,  0,    0,    0,    7,  5, 0x81, 3, 4, 0,    12};
    struct vboard_ftdi *f = &vb->ftdi;
    unsigned minor = (vb->bus - 1) * 128 + (vb->addr - 1);
    const char *pci = "/devices/pci0000:00/0000:00:14.0";
    GString *s = g_string_new(NULL);
    GError *gerr = NULL;
    int rc = TERN_OK;
    uint16_t pid = (uint16_t)(f->desc[10] | f->desc[11] << 8), bcd = (uint16_t)(f->desc[12] | f->desc[13] << 8);

    snprintf(vb->devnode, sizeof vb->devnode, "/dev/bus/usb/%03u/%03u", vb->bus, vb->addr);
    vb->tb = umockdev_testbed_new();
    vb->root = umockdev_testbed_get_root_dir(vb->tb);
    if (vb->addr != 1) {
        g_string_append_printf(s,
                               "P: %s/usb%u\n"
                               "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=/dev/bus/usb/%03u/001\n"
                               "E: BUSNUM=%03u\nE: DEVNUM=001\nE: MAJOR=189\nE: MINOR=%u\n"
                               "E: PRODUCT=1d6b/2/606\nE: TYPE=9/0/1\nE: DRIVER=usb\n"
                               "A: busnum=%u\nA: devnum=1\nA: speed=480\nA: idVendor=1d6b\nA: idProduct=0002\n"
                               "A: bcdDevice=0606\nA: bDeviceClass=09\nA: bDeviceSubClass=00\nA: bDeviceProtocol=01\n"
                               "A: bMaxPacketSize0=64\nA: bNumConfigurations=1\nA: bConfigurationValue=1\n"
                               "A: bNumInterfaces= 1\nA: bmAttributes=e0\nA: bMaxPower=0mA\nA: maxchild=1\n"
                               "A: manufacturer=Linux xhci-hcd\nA: product=xHCI Host Controller\n"
                               "A: serial=0000:00:14.0\nA: version= 2.00\nA: devpath=0\nA: authorized=1\n"
                               "A: dev=189:%u\nH: descriptors=",
                               pci, vb->bus, vb->bus, vb->bus, (vb->bus - 1) * 128, vb->bus, (vb->bus - 1) * 128);
        append_hex(s, hub_desc, sizeof hub_desc);
        g_string_append(s, "\n\n");
    }
    g_string_append_printf(s,
                           "P: %s/usb%u/%u-1\nN: bus/usb/%03u/%03u=",
                           pci, vb->bus, vb->bus, vb->bus, vb->addr);
    append_hex(s, f->desc, f->desc_len); /* read() of a usbfs node gives the descriptors */
    g_string_append_printf(s,
                           "\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DEVNAME=%s\n"
                           "E: BUSNUM=%03u\nE: DEVNUM=%03u\nE: MAJOR=189\nE: MINOR=%u\n"
                           "E: PRODUCT=403/%x/%x\nE: TYPE=0/0/0\nE: DRIVER=usb\n"
                           "E: ID_VENDOR_ID=0403\nE: ID_MODEL_ID=%04x\nE: ID_SERIAL_SHORT=%s\n"
                           "A: busnum=%u\nA: devnum=%u\nA: speed=480\nA: idVendor=0403\nA: idProduct=%04x\n"
                           "A: bcdDevice=%04x\nA: bDeviceClass=00\nA: bDeviceSubClass=00\nA: bDeviceProtocol=00\n"
                           "A: bMaxPacketSize0=64\nA: bNumConfigurations=1\nA: bConfigurationValue=1\n"
                           "A: bNumInterfaces= %d\nA: bmAttributes=80\nA: bMaxPower=100mA\nA: maxchild=0\n"
                           "A: manufacturer=%s\nA: product=%s\nA: serial=%s\nA: version= 2.00\nA: devpath=1\n"
                           "A: authorized=1\nA: removable=removable\nA: dev=189:%u\nH: descriptors=",
                           vb->devnode, vb->bus, vb->addr, minor, pid, bcd, pid, f->serial, vb->bus, vb->addr, pid,
                           bcd, f->nch, f->manufacturer, f->product, f->serial, minor);
    append_hex(s, f->desc, f->desc_len);
    g_string_append(s, "\n\n");
    for (int i = 0; i < f->nch; i++)
        g_string_append_printf(s,
                               "P: %s/usb%u/%u-1/%u-1:1.%d\nE: SUBSYSTEM=usb\nE: DEVTYPE=usb_interface\n"
                               "E: INTERFACE=255/255/255\nE: PRODUCT=403/%x/%x\nE: TYPE=0/0/0\n"
                               "E: MODALIAS=usb:v0403p%04Xd%04Xdc00dsc00dp00icFFiscFFipFFin%02X\n"
                               "A: bInterfaceNumber=%02x\nA: bAlternateSetting= 0\nA: bInterfaceClass=ff\n"
                               "A: bInterfaceSubClass=ff\nA: bInterfaceProtocol=ff\nA: bNumEndpoints=02\n"
                               "A: interface=%s\nA: authorized=1\n\n",
                               pci, vb->bus, vb->bus, vb->bus, i, pid, bcd, pid, bcd, i, i, f->product);
    if (!umockdev_testbed_add_from_string(vb->tb, s->str, &gerr)) {
        snprintf(err, errlen, "cannot add the device to the umockdev testbed: %s", gerr->message);
        rc = TERN_E_IO;
        goto out;
    }
    vb->syspath = g_strdup_printf("/sys%s/usb%u/%u-1", pci, vb->bus, vb->bus);
    if (vb->faults.noperm) {
        char *node = g_build_filename(vb->root, vb->devnode, NULL);
        int r = chmod(node, 0);
        g_free(node);
        if (r) {
            snprintf(err, errlen, "noperm: cannot chmod the device node: %s", strerror(errno));
            rc = TERN_E_IO;
            goto out;
        }
        vboard_log(vb, 1, "fault noperm: %s has mode 0000", vb->devnode);
    }
    /* USB state: configured, ftdi_sio bound to every interface (the detach path must run) */
    vb->config = 1;
    vb->nifs = f->nch;
    vb->neps = 2 * f->nch;
    for (int i = 0; i < f->nch; i++) {
        vb->ifs[i].driver = VBOARD_DRV_FTDI_SIO;
        vb->ifs[i].owner = NULL;
        vb->ifs[i].alt = 0;
        for (int k = 0; k < 2; k++) {
            struct vboard_ep *ep = &vb->eps[2 * i + k];
            ep->addr = k == 0 ? vboard_ftdi_ep_in(i) : vboard_ftdi_ep_out(i);
            ep->iface = i;
            ep->ch = i;
            ep->in = k == 0;
        }
    }
    if (vb->faults.busy) {
        int i = f->engine_ch;
        vb->ifs[i].driver = VBOARD_DRV_USBFS;
        vb->ifs[i].owner = VBOARD_OTHER_PROCESS;
        vboard_log(vb, 1, "fault busy: interface %d is claimed by another process for the whole run", i);
    }
out:
    g_string_free(s, TRUE);
    if (gerr)
        g_error_free(gerr);
    return rc;
}

/* ---------------------------------------------------------------------------------- queues */

static void q_push(struct vboard_queue *q, struct vboard_urb *u)
{
    u->next = NULL;
    if (q->tail)
        q->tail->next = u;
    else
        q->head = u;
    q->tail = u;
}

static struct vboard_urb *q_pop(struct vboard_queue *q)
{
    struct vboard_urb *u = q->head;

    if (u) {
        q->head = u->next;
        if (!q->head)
            q->tail = NULL;
        u->next = NULL;
    }
    return u;
}

static int q_remove(struct vboard_queue *q, struct vboard_urb *u)
{
    struct vboard_urb *prev = NULL;

    for (struct vboard_urb *p = q->head; p; prev = p, p = p->next)
        if (p == u) {
            if (prev)
                prev->next = p->next;
            else
                q->head = p->next;
            if (q->tail == p)
                q->tail = prev;
            p->next = NULL;
            return 1;
        }
    return 0;
}

static void urb_free(struct vboard_urb *u)
{
    if (u->buf)
        g_object_unref(u->buf);
    if (u->data)
        g_object_unref(u->data);
    g_free(u);
}

static struct vboard_ep *find_ep(struct vboard *vb, unsigned addr)
{
    for (int i = 0; i < vb->neps; i++)
        if (vb->eps[i].addr == (addr & 0x8F))
            return &vb->eps[i];
    return NULL;
}

/* A URB is done: to its client's done queue, or the answer of a waiting USBDEVFS_BULK. */
static void finish(struct vboard *vb, struct vboard_urb *u, int status)
{
    struct vboard_client *cl = u->client;

    u->status = status;
    vb->st.urbs_done++;
    if (status == -EPIPE && u->type == USBDEVFS_URB_TYPE_BULK)
        vb->faults.n_stalled_urbs++;
    if (u->sync) {
        if (status)
            reply(cl, -1, -status);
        else
            reply(cl, u->actual, 0);
        cl->parked = 0;
        cl->sync_urb = NULL;
        urb_free(u);
        return;
    }
    q_push(&cl->done, u);
}

/* ------------------------------------------------------------------------------------ pump */

static void unplug(struct vboard *vb);

static void pump_out(struct vboard *vb, struct vboard_ep *ep, int64_t now, int *unplug_now)
{
    struct vboard_ftdi *f = &vb->ftdi;
    struct vboard_urb *u;
    uint8_t tmp[4096];

    for (;;) {
        /* triggers on the host -> FPGA byte count fire as soon as the count is reached */
        uint32_t ms = 0;
        unsigned trig = vboard_faults_out_trigger(&vb->faults, &ms);
        if (trig & VBOARD_TRIG_TIMEOUT) {
            vb->hold_until = now + (int64_t)ms * 1000;
            vboard_log(vb, 1, "fault timeout: after %" PRIu64 " host->FPGA bytes the chip moves no data for %u ms",
                       vb->faults.out_off, (unsigned)ms);
        }
        if (trig & VBOARD_TRIG_UNPLUG) {
            vboard_log(vb, 1, "fault unplug: after %" PRIu64 " host->FPGA bytes the device disappears",
                       vb->faults.out_off);
            *unplug_now = 1;
            return;
        }
        if (!(u = ep->q.head))
            return;
        if (u->stall)
            ep->halted = 1;
        if (ep->halted) {
            q_pop(&ep->q);
            finish(vb, u, -EPIPE);
            continue;
        }
        if (now < vb->hold_until)
            return;
        while (u->actual < u->len) {
            size_t room = vboard_ftdi_out_room(f, ep->ch);
            uint64_t lim = vboard_faults_out_limit(&vb->faults);
            size_t take = (size_t)(u->len - u->actual);
            if (take > room)
                take = room;
            if (take > lim)
                take = (size_t)lim;
            if (take > sizeof tmp)
                take = sizeof tmp;
            if (!take)
                break;
            size_t kept = vboard_faults_filter_out(&vb->faults, u->buf->data + u->actual, take, tmp);
            vboard_ftdi_out_push(f, ep->ch, tmp, kept);
            u->actual += (int)take;
            vb->st.bytes_out += take;
            if (take == lim)
                break; /* a trigger is due: the loop above fires it */
        }
        if (u->actual < u->len) {
            if (vboard_faults_out_limit(&vb->faults) == 0)
                continue;
            return; /* the RX buffer is full: the chip NAKs until the FPGA side takes bytes */
        }
        q_pop(&ep->q);
        finish(vb, u, 0);
    }
}

static void pump_in(struct vboard *vb, struct vboard_ep *ep, int64_t now)
{
    struct vboard_urb *u;
    uint8_t pkt[VBOARD_PKT];
    int64_t next;

    while ((u = ep->q.head)) {
        if (u->stall)
            ep->halted = 1;
        if (ep->halted) {
            q_pop(&ep->q);
            finish(vb, u, -EPIPE);
            continue;
        }
        size_t n = vboard_ftdi_in_packet(&vb->ftdi, ep->ch, now, now < vb->hold_until, pkt, &next);
        if (!n)
            return;
        size_t room = (size_t)(u->len - u->actual);
        if (n > room) { /* babble: the packet does not fit the URB */
            if (room)
                memcpy(u->buf->data + u->actual, pkt, room);
            u->actual += (int)room;
            q_pop(&ep->q);
            finish(vb, u, -EOVERFLOW);
            continue;
        }
        memcpy(u->buf->data + u->actual, pkt, n);
        u->actual += (int)n;
        vb->st.bytes_in += n - 2;
        int cut = 0;
        if (n > 2 && !u->data_seen) {
            u->data_seen = 1;
            if (vboard_faults_short(&vb->faults)) {
                cut = 1;
                vboard_log(vb, 1, "fault short: IN URB cut after its first packet (%zu bytes)", n);
            }
        }
        if (n < VBOARD_PKT || u->actual == u->len || cut) {
            q_pop(&ep->q);
            finish(vb, u, (u->flags & USBDEVFS_URB_SHORT_NOT_OK) && u->actual < u->len ? -EREMOTEIO : 0);
        }
    }
}

static void pump(struct vboard *vb, int64_t now)
{
    int unplug_now = 0;

    if (vb->unplugged)
        return;
    pthread_mutex_lock(&vb->ftdi.lock);
    for (int i = 0; i < vb->neps && !unplug_now; i++) {
        struct vboard_ep *ep = &vb->eps[i];
        if (ep->in)
            pump_in(vb, ep, now);
        else
            pump_out(vb, ep, now, &unplug_now);
    }
    pthread_mutex_unlock(&vb->ftdi.lock);
    if (unplug_now)
        unplug(vb);
}

/* --------------------------------------------------------------------- reaping and parking */

/* 1 when the client has a URB in flight (something may complete for it). */
static int client_pending(struct vboard *vb, struct vboard_client *cl)
{
    for (int i = 0; i < vb->neps; i++)
        for (struct vboard_urb *u = vb->eps[i].q.head; u; u = u->next)
            if (u->client == cl)
                return 1;
    return 0;
}

static void reply_reap(struct vboard *vb, struct vboard_client *cl)
{
    struct vboard_urb *u = q_pop(&cl->done);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(cl->client), *slot;
    GError *gerr = NULL;

    cl->parked = 0;
    cl->empty_reaps = 0;
    if (u->actual > ((u->ep & 0x80) && u->type == USBDEVFS_URB_TYPE_BULK ? 2 : 0))
        cl->last_data_us = vboard_now(); /* data, not a status-only packet */
    slot = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &gerr);
    if (!slot) {
        vboard_log(vb, 1, "client %u: REAPURB: cannot resolve the URB pointer slot: %s", cl->id,
                   gerr ? gerr->message : "NULL");
        if (gerr)
            g_error_free(gerr);
        u->next = cl->done.head; /* keep it first for the next reap */
        cl->done.head = u;
        if (!cl->done.tail)
            cl->done.tail = u;
        reply(cl, -1, EFAULT);
        return;
    }
    struct usbdevfs_urb *k = (struct usbdevfs_urb *)u->data->data;
    k->status = u->status;
    k->actual_length = u->actual;
    k->error_count = 0;
    umockdev_ioctl_data_set_ptr(slot, 0, u->data);
    vb->st.reaps++;
    if (vb->verbose >= 2)
        vboard_log(vb, 2, "client %u: reap URB ep 0x%02x len %d: actual %d status %d", cl->id, u->ep, u->len,
                   u->actual, u->status);
    reply(cl, 0, 0);
    g_object_unref(slot);
    urb_free(u);
}

static void arm_timer(struct vboard *vb, int64_t now);

/* Answer every waiting client that can be answered now. */
static void serve_parked(struct vboard *vb, int64_t now)
{
    for (struct vboard_client *cl = vb->clients; cl; cl = cl->next) {
        if (!cl->parked)
            continue;
        if (cl->sync_urb) {
            struct vboard_urb *u = cl->sync_urb;
            if (vb->unplugged) {
                reply(cl, -1, ENODEV);
                cl->parked = 0;
                cl->sync_urb = NULL;
                urb_free(u);
            } else if (u->deadline && now >= u->deadline) {
                struct vboard_ep *ep = find_ep(vb, u->ep);
                if (ep)
                    q_remove(&ep->q, u);
                reply(cl, -1, ETIMEDOUT);
                cl->parked = 0;
                cl->sync_urb = NULL;
                urb_free(u);
            }
            continue;
        }
        if (cl->done.head)
            reply_reap(vb, cl);
        else if (vb->unplugged) {
            cl->parked = 0;
            reply(cl, -1, ENODEV);
        } else if (!cl->parked_block && now >= cl->park_deadline) {
            cl->parked = 0;
            vb->st.reaps_eagain++;
            vb->st.parks_expired++;
            reply(cl, -1, EAGAIN);
        }
    }
    arm_timer(vb, now);
}

void vboard_usb_service(struct vboard *vb)
{
    int64_t now = vboard_now();

    pump(vb, now);
    serve_parked(vb, now);
}

static gboolean on_timer(gint fd, GIOCondition cond, gpointer data)
{
    struct vboard *vb = data;
    uint64_t ticks;

    (void)cond;
    if (read(fd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        vboard_log(vb, 1, "timerfd read: %s", strerror(errno));
    vb->timer_at = 0;
    vboard_usb_service(vb);
    return G_SOURCE_CONTINUE;
}

/* The timer goes off at the next moment a waiting client's answer may change: its park
 * deadline, the latency timer of a channel with IN URBs pending, the end of a timeout fault. */
static void arm_timer(struct vboard *vb, int64_t now)
{
    int64_t at = INT64_MAX;
    int any = 0;
    struct itimerspec its;

    for (struct vboard_client *cl = vb->clients; cl; cl = cl->next) {
        if (!cl->parked)
            continue;
        any = 1;
        if (cl->sync_urb) {
            if (cl->sync_urb->deadline && cl->sync_urb->deadline < at)
                at = cl->sync_urb->deadline;
        } else if (!cl->parked_block && cl->park_deadline < at)
            at = cl->park_deadline;
    }
    if (any && !vb->unplugged) {
        pthread_mutex_lock(&vb->ftdi.lock);
        for (int i = 0; i < vb->neps; i++) {
            struct vboard_ep *ep = &vb->eps[i];
            if (ep->in && ep->q.head && !ep->halted) {
                const struct vboard_ftdi_channel *c = &vb->ftdi.ch[ep->ch];
                int64_t due = c->last_pkt_us + (int64_t)c->latency_ms * 1000;
                if (due < at)
                    at = due;
            }
        }
        pthread_mutex_unlock(&vb->ftdi.lock);
        if (vb->hold_until > now && vb->hold_until < at)
            at = vb->hold_until;
    }
    if (!any || at == INT64_MAX) {
        if (vb->timer_at) {
            memset(&its, 0, sizeof its);
            timerfd_settime(vb->timer_fd, 0, &its, NULL);
            vb->timer_at = 0;
        }
        return;
    }
    if (at <= now)
        at = now + 1;
    if (vb->timer_at == at)
        return;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = at / 1000000;
    its.it_value.tv_nsec = (at % 1000000) * 1000;
    timerfd_settime(vb->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
    vb->timer_at = at;
}

/* ---------------------------------------------------------------------------------- unplug */

/* MurmurHash2 (Austin Appleby, public domain) with seed 0: the hash libudev puts in its monitor
 * messages for the in-kernel subsystem / devtype socket filter. */
static uint32_t murmur2(const char *s)
{
    const uint32_t m = 0x5bd1e995u;
    size_t len = strlen(s);
    uint32_t h = (uint32_t)len;
    const unsigned char *p = (const unsigned char *)s;

    for (; len >= 4; len -= 4, p += 4) {
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
    }
    switch (len) {
    case 3:
        h ^= (uint32_t)p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

/* Send a udev "remove" event for a device to every client's monitor socket. The preload turns a
 * client's NETLINK_KOBJECT_UEVENT socket into a unix socket $UMOCKDEV_DIR/event<fd>; the message
 * is what the udev daemon sends (a "libudev" header, then KEY=VALUE strings). umockdev's own
 * sender asks libudev about the device, which this process (not preloaded) cannot see. */
static void send_remove_uevent(struct vboard *vb, const char *devpath, const char *devtype, int with_node)
{
    struct {
        char prefix[8];
        uint32_t magic, header_size, properties_off, properties_len;
        uint32_t subsystem_hash, devtype_hash, bloom_hi, bloom_lo;
    } h;
    GString *props = g_string_new(NULL);
    GDir *dir;
    const char *name;
    int fd, sent = 0;

    g_string_append_printf(props, "ACTION=remove%cDEVPATH=%s%cSUBSYSTEM=usb%cDEVTYPE=%s%cSEQNUM=%u%c", 0, devpath, 0,
                           0, devtype, 0, 1000 + vb->next_client_id, 0);
    if (with_node)
        g_string_append_printf(props, "DEVNAME=%s%cBUSNUM=%03u%cDEVNUM=%03u%cMAJOR=189%cMINOR=%u%c", vb->devnode, 0,
                               vb->bus, 0, vb->addr, 0, 0, (vb->bus - 1) * 128 + (vb->addr - 1), 0);
    memset(&h, 0, sizeof h);
    memcpy(h.prefix, "libudev", 8);
    h.magic = GUINT32_TO_BE(0xfeedcafeu);
    h.header_size = sizeof h;
    h.properties_off = sizeof h;
    h.properties_len = (uint32_t)props->len;
    h.subsystem_hash = GUINT32_TO_BE(murmur2("usb"));
    h.devtype_hash = GUINT32_TO_BE(murmur2(devtype));
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    dir = fd >= 0 ? g_dir_open(vb->root, 0, NULL) : NULL;
    while (dir && (name = g_dir_read_name(dir))) {
        struct sockaddr_un sa;
        struct iovec iov[2] = {{&h, sizeof h}, {props->str, props->len}};
        struct msghdr msg;
        if (strncmp(name, "event", 5))
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", vb->root, name) >= sizeof sa.sun_path)
            continue;
        memset(&msg, 0, sizeof msg);
        msg.msg_name = &sa;
        msg.msg_namelen = sizeof sa;
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        if (sendmsg(fd, &msg, MSG_DONTWAIT) >= 0)
            sent++; /* a closed process's socket refuses: fine */
    }
    if (dir)
        g_dir_close(dir);
    if (fd >= 0)
        close(fd);
    vboard_log(vb, 1, "uevent remove %s sent to %d monitor socket%s", devpath, sent, sent == 1 ? "" : "s");
    g_string_free(props, TRUE);
}

static void unplug(struct vboard *vb)
{
    if (vb->unplugged)
        return;
    vb->unplugged = 1;
    for (int i = 0; i < vb->neps; i++) {
        struct vboard_urb *u;
        while ((u = q_pop(&vb->eps[i].q)))
            finish(vb, u, -ENODEV);
    }
    /* gone from sysfs and /dev: libusb's udev monitor sees "remove", a new open() fails */
    for (int i = vb->nifs - 1; i >= 0; i--) {
        char *p = g_strdup_printf("%s/%u-1:1.%d", vb->syspath, vb->bus, i);
        send_remove_uevent(vb, p + 4, "usb_interface", 0);
        umockdev_testbed_remove_device(vb->tb, p);
        g_free(p);
    }
    send_remove_uevent(vb, vb->syspath + 4, "usb_device", 1);
    umockdev_testbed_remove_device(vb->tb, vb->syspath);
    /* the node goes with the device; make sure (a noperm node, or an older umockdev) */
    char *node = g_build_filename(vb->root, vb->devnode, NULL);
    if (unlink(node) && errno != ENOENT)
        vboard_log(vb, 1, "unplug: cannot remove %s: %s", node, strerror(errno));
    g_free(node);
    vboard_log(vb, 1, "device %s unplugged: every URB and ioctl fails with ENODEV from now on", vb->devnode);
}

/* ---------------------------------------------------------------------- interface claims */

static void kill_iface_urbs(struct vboard *vb, struct vboard_client *cl, int ifno)
{
    for (int i = 0; i < vb->neps; i++) {
        struct vboard_ep *ep = &vb->eps[i];
        struct vboard_urb *u, *next;
        if (ep->iface != ifno)
            continue;
        for (u = ep->q.head; u; u = next) {
            next = u->next;
            if (cl && u->client != cl)
                continue;
            q_remove(&ep->q, u);
            finish(vb, u, -ENOENT);
        }
    }
}

/* usbfs releases interface ifno (a release, a disconnect, a reset). */
static void release_iface(struct vboard *vb, int ifno)
{
    struct vboard_iface *it = &vb->ifs[ifno];

    if (it->driver == VBOARD_DRV_USBFS && it->owner != VBOARD_OTHER_PROCESS)
        kill_iface_urbs(vb, it->owner, ifno);
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
static int check_iface(struct vboard *vb, struct vboard_client *cl, int ifno)
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
static int control(struct vboard *vb, struct vboard_client *cl, const uint8_t *setup, uint8_t *data, size_t *len)
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
            if ((rc = check_iface(vb, cl, windex & 0xFF)))
                return rc;
        } else if ((rt & 0x1F) == 2 && (windex & 0x7F)) {
            struct vboard_ep *ep = find_ep(vb, windex & 0xFF);
            if (!ep)
                return -ENOENT;
            if ((rc = check_iface(vb, cl, ep->iface)))
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
        struct vboard_ep *ep = find_ep(vb, windex & 0xFF);
        if (want < 2 || (!ep && (windex & 0x7F)))
            return -EPIPE;
        data[0] = ep ? (uint8_t)ep->halted : 0;
        data[1] = 0;
        *len = 2;
        break;
    }
    case 0x0201:   /* CLEAR_FEATURE endpoint */
    case 0x0203: { /* SET_FEATURE endpoint */
        struct vboard_ep *ep = find_ep(vb, windex & 0xFF);
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

/* ----------------------------------------------------------------------------- URB submit */

static int submit_urb(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg)
{
    GError *gerr = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &gerr), *buf = NULL;
    struct vboard_urb *u = NULL;
    struct vboard_ep *ep = NULL;
    int rc = 0;

    if (!d) {
        if (gerr)
            g_error_free(gerr);
        return -EFAULT;
    }
    struct usbdevfs_urb k = *(struct usbdevfs_urb *)d->data;
    if (k.buffer_length < 0 || (k.buffer_length > 0 && !k.buffer)) {
        rc = k.buffer_length < 0 ? -EINVAL : -EFAULT;
        goto fail;
    }
    if (k.type == USBDEVFS_URB_TYPE_CONTROL) {
        if ((k.endpoint & 0x7F) != 0 || k.buffer_length < 8) {
            rc = -EINVAL;
            goto fail;
        }
    } else if (k.type == USBDEVFS_URB_TYPE_BULK) {
        ep = find_ep(vb, k.endpoint);
        if (!ep || !vb->config || (ep->addr & 0x80) != (k.endpoint & 0x80)) {
            rc = -ENOENT;
            goto fail;
        }
        if ((rc = check_iface(vb, cl, ep->iface)))
            goto fail;
    } else {
        rc = -EINVAL; /* the chips have no interrupt or isochronous endpoints */
        goto fail;
    }
    if (k.buffer_length > 0) {
        buf = umockdev_ioctl_data_resolve(d, offsetof(struct usbdevfs_urb, buffer), (gsize)k.buffer_length, &gerr);
        if (!buf) {
            if (gerr)
                g_error_free(gerr);
            rc = -EFAULT;
            goto fail;
        }
    }
    if (k.type == USBDEVFS_URB_TYPE_CONTROL || !(k.endpoint & 0x80))
        cl->last_data_us = vboard_now(); /* data goes out: no held reaps for a while */
    u = g_new0(struct vboard_urb, 1);
    u->client = cl;
    u->data = d;
    u->buf = buf;
    u->addr = d->client_addr;
    u->type = k.type;
    u->ep = k.endpoint;
    u->flags = k.flags;
    u->len = k.buffer_length;
    vb->st.submits++;
    if (k.type == USBDEVFS_URB_TYPE_CONTROL) {
        uint16_t wlength = (uint16_t)(buf->data[6] | buf->data[7] << 8);
        size_t n = wlength;
        if ((size_t)k.buffer_length < 8u + wlength) {
            u->data = NULL;
            u->buf = NULL;
            g_free(u);
            rc = -EINVAL;
            goto fail;
        }
        int st = control(vb, cl, buf->data, buf->data + 8, &n);
        u->actual = st ? 0 : (int)n;
        if (st == -ENOENT || st == -EBUSY || st == -EACCES) { /* refused at submit, as the kernel does */
            u->data = NULL;
            u->buf = NULL;
            g_free(u);
            rc = st;
            goto fail;
        }
        finish(vb, u, st);
        return 0;
    }
    u->stall = vboard_faults_submit(&vb->faults, ep->in);
    if (u->stall)
        vboard_log(vb, 1, "fault stall: bulk %s URB #%" PRIu64 " on ep 0x%02x fails with EPIPE; the endpoint halts",
                   ep->in ? "IN" : "OUT", vb->faults.urbs[ep->in ? 1 : 0], ep->addr);
    if (vb->verbose >= 2)
        vboard_log(vb, 2, "client %u: submit bulk URB ep 0x%02x len %d", cl->id, u->ep, u->len);
    q_push(&ep->q, u);
    return 0;

fail:
    if (buf)
        g_object_unref(buf);
    g_object_unref(d);
    return rc;
}

static int discard_urb(struct vboard *vb, struct vboard_client *cl, unsigned long addr)
{
    vb->st.discards++;
    for (int i = 0; i < vb->neps; i++)
        for (struct vboard_urb *u = vb->eps[i].q.head; u; u = u->next)
            if (u->client == cl && u->addr == addr && !u->sync) {
                q_remove(&vb->eps[i].q, u);
                if (vb->verbose >= 2)
                    vboard_log(vb, 2, "client %u: discard URB ep 0x%02x (%d of %d bytes done)", cl->id, u->ep,
                               u->actual, u->len);
                finish(vb, u, -ENOENT);
                return 0;
            }
    return -EINVAL;
}

/* A synchronous USBDEVFS_BULK: a URB whose completion answers the ioctl. */
static int bulk_sync(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg, int64_t now)
{
    GError *gerr = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_bulktransfer), &gerr), *buf = NULL;
    struct vboard_ep *ep;
    int rc;

    if (!d) {
        if (gerr)
            g_error_free(gerr);
        return -EFAULT;
    }
    struct usbdevfs_bulktransfer k = *(struct usbdevfs_bulktransfer *)d->data;
    ep = find_ep(vb, k.ep);
    if (!ep || !vb->config) {
        rc = -ENOENT;
        goto fail;
    }
    if ((rc = check_iface(vb, cl, ep->iface)))
        goto fail;
    if (k.len > 0) {
        buf = umockdev_ioctl_data_resolve(d, offsetof(struct usbdevfs_bulktransfer, data), k.len, &gerr);
        if (!buf) {
            if (gerr)
                g_error_free(gerr);
            rc = -EFAULT;
            goto fail;
        }
    }
    struct vboard_urb *u = g_new0(struct vboard_urb, 1);
    u->client = cl;
    u->buf = buf;
    u->type = USBDEVFS_URB_TYPE_BULK;
    u->ep = ep->addr;
    u->len = (int)k.len;
    u->sync = 1;
    u->deadline = k.timeout ? now + (int64_t)k.timeout * 1000 : 0;
    u->stall = vboard_faults_submit(&vb->faults, ep->in);
    cl->parked = 1;
    cl->sync_urb = u;
    q_push(&ep->q, u);
    g_object_unref(d);
    return 0;

fail:
    g_object_unref(d);
    return rc;
}

/* ------------------------------------------------------------------------------- the ioctls */

static const char *ioctl_name(unsigned long req)
{
    switch ((unsigned int)req) {
#define N(x)                                                                                                           \
    case (unsigned int)x:                                                                                              \
        return #x;
        N(USBDEVFS_CONTROL)
        N(USBDEVFS_BULK)
        N(USBDEVFS_RESETEP)
        N(USBDEVFS_SETINTERFACE)
        N(USBDEVFS_SETCONFIGURATION)
        N(USBDEVFS_GETDRIVER)
        N(USBDEVFS_SUBMITURB)
        N(USBDEVFS_DISCARDURB)
        N(USBDEVFS_REAPURB)
        N(USBDEVFS_REAPURBNDELAY)
        N(USBDEVFS_DISCSIGNAL)
        N(USBDEVFS_CLAIMINTERFACE)
        N(USBDEVFS_RELEASEINTERFACE)
        N(USBDEVFS_CONNECTINFO)
        N(USBDEVFS_IOCTL)
        N(USBDEVFS_HUB_PORTINFO)
        N(USBDEVFS_RESET)
        N(USBDEVFS_CLEAR_HALT)
        N(USBDEVFS_CLAIM_PORT)
        N(USBDEVFS_RELEASE_PORT)
        N(USBDEVFS_GET_CAPABILITIES)
        N(USBDEVFS_DISCONNECT_CLAIM)
        N(USBDEVFS_ALLOC_STREAMS)
        N(USBDEVFS_FREE_STREAMS)
        N(USBDEVFS_DROP_PRIVILEGES)
        N(USBDEVFS_GET_SPEED)
        N(USBDEVFS_FORBID_SUSPEND)
        N(USBDEVFS_ALLOW_SUSPEND)
        N(USBDEVFS_WAIT_FOR_RESUME)
#undef N
    default:
        if (_IOC_TYPE(req) == 'U' && _IOC_NR(req) == 32)
            return "USBDEVFS_CONNINFO_EX";
        return NULL;
    }
}

/* Resolve the argument as a block of len bytes: NULL (and the client answered EFAULT) if not. */
static UMockdevIoctlData *arg_block(struct vboard_client *cl, size_t len)
{
    GError *gerr = NULL;
    UMockdevIoctlData *d = umockdev_ioctl_data_resolve(umockdev_ioctl_client_get_arg(cl->client), 0, len, &gerr);

    if (!d) {
        if (gerr)
            g_error_free(gerr);
        reply(cl, -1, EFAULT);
    }
    return d;
}

#define ANSWER(rc) reply(cl, (rc) < 0 ? -1 : (rc), (rc) < 0 ? -(rc) : 0)

static void usb_reset(struct vboard *vb, struct vboard_client *cl)
{
    int64_t now = vboard_now();

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
}

static gboolean on_ioctl(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer data)
{
    struct vboard *vb = data;
    struct vboard_client *cl = g_object_get_data(G_OBJECT(client), "vboard-client");
    unsigned long req = umockdev_ioctl_client_get_request(client);
    UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client), *d;
    int64_t now = vboard_now();
    int rc;

    (void)base;
    if (!cl) {
        umockdev_ioctl_client_complete(client, -1, ENODEV);
        return TRUE;
    }
    vb->st.ioctls++;
    if (vb->verbose >= 2 && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_SUBMITURB) {
        const char *name = ioctl_name(req);
        vboard_log(vb, 2, "client %u: ioctl %s (0x%08lx)", cl->id, name ? name : "?", req);
    }
    if (vb->unplugged && req != USBDEVFS_REAPURB && req != USBDEVFS_REAPURBNDELAY) {
        reply(cl, -1, ENODEV);
        return TRUE;
    }
    switch ((unsigned int)req) {
    case (unsigned int)USBDEVFS_GET_CAPABILITIES:
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        *(uint32_t *)d->data = VBOARD_CAPS;
        reply(cl, 0, 0);
        g_object_unref(d);
        return TRUE;
    case (unsigned int)USBDEVFS_GET_SPEED:
        reply(cl, SPEED_HIGH, 0);
        return TRUE;
    case (unsigned int)USBDEVFS_CONNECTINFO:
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_connectinfo))))
            return TRUE;
        ((struct usbdevfs_connectinfo *)d->data)->devnum = vb->addr;
        ((struct usbdevfs_connectinfo *)d->data)->slow = 0;
        reply(cl, 0, 0);
        g_object_unref(d);
        return TRUE;
    case (unsigned int)USBDEVFS_SUBMITURB:
        rc = submit_urb(vb, cl, arg);
        if (rc && vb->verbose >= 1)
            vboard_log(vb, 1, "client %u: SUBMITURB refused: %s", cl->id, g_strerror(-rc));
        ANSWER(rc);
        return TRUE;
    case (unsigned int)USBDEVFS_REAPURB:
    case (unsigned int)USBDEVFS_REAPURBNDELAY:
        pump(vb, now);
        if (cl->done.head)
            reply_reap(vb, cl);
        else if (vb->unplugged)
            reply(cl, -1, ENODEV);
        else if (req == USBDEVFS_REAPURBNDELAY &&
                 (vb->park_us == (unsigned)-1 || now - cl->last_data_us < VBOARD_BUSY_US ||
                  (!client_pending(vb, cl) && cl->empty_reaps++ == 0))) {
            /* data moved for this client a moment ago (a transfer streams: its other threads
             * submit on the same node, which a held reap would block), or nothing is in flight
             * and libusb ends its reap loop here: answer at once */
            vb->st.reaps_eagain++;
            reply(cl, -1, EAGAIN);
        } else {
            /* nothing yet: hold the answer a moment (libusb polls an always-ready node in a loop) */
            cl->parked = 1;
            cl->parked_block = req == USBDEVFS_REAPURB;
            cl->park_deadline = now + vb->park_us;
            vb->st.parks++;
        }
        serve_parked(vb, now); /* others may have URBs done now */
        return TRUE;
    case (unsigned int)USBDEVFS_DISCARDURB:
        rc = discard_urb(vb, cl, *(unsigned long *)arg->data);
        ANSWER(rc);
        return TRUE;
    case (unsigned int)USBDEVFS_CLAIMINTERFACE:
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        rc = claim_iface(vb, cl, *(unsigned *)d->data);
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    case (unsigned int)USBDEVFS_RELEASEINTERFACE: {
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        unsigned ifno = *(unsigned *)d->data;
        if (ifno >= 32)
            rc = -EINVAL;
        else if ((int)ifno >= vb->nifs || vb->ifs[ifno].driver != VBOARD_DRV_USBFS || vb->ifs[ifno].owner != cl)
            rc = -EINVAL;
        else {
            release_iface(vb, (int)ifno);
            vboard_log(vb, 1, "client %u: released interface %u", cl->id, ifno);
            rc = 0;
        }
        ANSWER(rc);
        g_object_unref(d);
        serve_parked(vb, now);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_GETDRIVER: {
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_getdriver))))
            return TRUE;
        struct usbdevfs_getdriver *gd = (void *)d->data;
        if (gd->interface >= (unsigned)vb->nifs || !vb->config || vb->ifs[gd->interface].driver == VBOARD_DRV_NONE)
            rc = -ENODATA;
        else {
            memset(gd->driver, 0, sizeof gd->driver);
            snprintf(gd->driver, sizeof gd->driver, "%s", driver_name(vb->ifs[gd->interface].driver));
            rc = 0;
        }
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_IOCTL: {
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_ioctl))))
            return TRUE;
        struct usbdevfs_ioctl *ic = (void *)d->data;
        if (cl->dropped)
            rc = -EACCES;
        else if (!vb->config)
            rc = -EHOSTUNREACH;
        else if (ic->ifno < 0 || ic->ifno >= vb->nifs)
            rc = -EINVAL;
        else if ((unsigned)ic->ioctl_code == (unsigned)USBDEVFS_DISCONNECT) {
            struct vboard_iface *it = &vb->ifs[ic->ifno];
            if (it->driver == VBOARD_DRV_NONE)
                rc = -ENODATA;
            else {
                vboard_log(vb, 1, "client %u: interface %d: %s detached", cl->id, ic->ifno, driver_name(it->driver));
                release_iface(vb, ic->ifno);
                rc = 0;
            }
        } else if ((unsigned)ic->ioctl_code == (unsigned)USBDEVFS_CONNECT) {
            struct vboard_iface *it = &vb->ifs[ic->ifno];
            if (it->driver != VBOARD_DRV_NONE)
                rc = -EBUSY;
            else {
                it->driver = VBOARD_DRV_FTDI_SIO; /* device_attach(): ftdi_sio binds, returns 1 */
                vboard_log(vb, 1, "client %u: interface %d: ftdi_sio attached", cl->id, ic->ifno);
                rc = 1;
            }
        } else
            rc = vb->ifs[ic->ifno].driver == VBOARD_DRV_NONE ? -ENODATA : -ENOTTY;
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_DISCONNECT_CLAIM: {
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_disconnect_claim))))
            return TRUE;
        struct usbdevfs_disconnect_claim *dc = (void *)d->data;
        struct vboard_iface *it = dc->interface < (unsigned)vb->nifs ? &vb->ifs[dc->interface] : NULL;
        const char *name = it ? driver_name(it->driver) : "";
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
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_SETINTERFACE: {
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_setinterface))))
            return TRUE;
        struct usbdevfs_setinterface *si = (void *)d->data;
        if (si->interface >= (unsigned)vb->nifs || !vb->config)
            rc = -EINVAL;
        else if ((rc = check_iface(vb, cl, (int)si->interface)) == 0) {
            if (si->altsetting != 0)
                rc = -EINVAL;
            else
                for (int i = 0; i < vb->neps; i++)
                    if (vb->eps[i].iface == (int)si->interface)
                        vb->eps[i].halted = 0; /* SET_INTERFACE resets the endpoints */
        }
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_CLEAR_HALT:
    case (unsigned int)USBDEVFS_RESETEP: {
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        unsigned epno = *(unsigned *)d->data;
        struct vboard_ep *ep = find_ep(vb, epno);
        if (!ep || !vb->config)
            rc = -ENOENT;
        else if ((rc = check_iface(vb, cl, ep->iface)) == 0 && req == USBDEVFS_CLEAR_HALT) {
            if (ep->halted)
                vboard_log(vb, 1, "client %u: CLEAR_HALT ep 0x%02x: the endpoint runs again", cl->id, ep->addr);
            ep->halted = 0;
        }
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_SETCONFIGURATION: {
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        int value = *(int *)d->data;
        rc = 0;
        if (cl->dropped)
            rc = -EACCES;
        for (int i = 0; i < vb->nifs && !rc && vb->config; i++)
            if (vb->ifs[i].driver != VBOARD_DRV_NONE) {
                vboard_log(vb, 1, "client %u: SETCONFIGURATION %d: EBUSY, interface %d is claimed by %s", cl->id,
                           value, i, driver_name(vb->ifs[i].driver));
                rc = -EBUSY;
            }
        if (!rc) {
            if (value == -1)
                value = 0;
            if (value != 0 && value != 1)
                rc = -EINVAL;
            else {
                for (int i = 0; i < vb->neps; i++)
                    vb->eps[i].halted = 0;
                if (value == 1 && vb->config == 0)
                    for (int i = 0; i < vb->nifs; i++)
                        if (vb->ifs[i].driver == VBOARD_DRV_NONE)
                            vb->ifs[i].driver = VBOARD_DRV_FTDI_SIO; /* the kernel probes drivers */
                vb->config = value;
                umockdev_testbed_set_attribute(vb->tb, vb->syspath, "bConfigurationValue", value ? "1" : "");
            }
        }
        ANSWER(rc);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_RESET:
        rc = 0;
        if (cl->dropped)
            for (int i = 0; i < vb->nifs; i++)
                if (vb->ifs[i].driver != VBOARD_DRV_NONE && vb->ifs[i].owner != cl)
                    rc = -EACCES;
        if (!rc)
            usb_reset(vb, cl);
        ANSWER(rc);
        serve_parked(vb, now);
        return TRUE;
    case (unsigned int)USBDEVFS_CONTROL: {
        GError *gerr = NULL;
        if (!(d = arg_block(cl, sizeof(struct usbdevfs_ctrltransfer))))
            return TRUE;
        struct usbdevfs_ctrltransfer ct = *(struct usbdevfs_ctrltransfer *)d->data;
        uint8_t setup[8] = {ct.bRequestType, ct.bRequest, (uint8_t)ct.wValue, (uint8_t)(ct.wValue >> 8),
                            (uint8_t)ct.wIndex, (uint8_t)(ct.wIndex >> 8), (uint8_t)ct.wLength,
                            (uint8_t)(ct.wLength >> 8)};
        UMockdevIoctlData *buf = NULL;
        uint8_t none[1];
        size_t n = ct.wLength;
        if (ct.wLength) {
            buf = umockdev_ioctl_data_resolve(d, offsetof(struct usbdevfs_ctrltransfer, data), ct.wLength, &gerr);
            if (!buf) {
                if (gerr)
                    g_error_free(gerr);
                reply(cl, -1, EFAULT);
                g_object_unref(d);
                return TRUE;
            }
        }
        rc = control(vb, cl, setup, buf ? buf->data : none, &n);
        ANSWER(rc < 0 ? rc : (int)n);
        if (buf)
            g_object_unref(buf);
        g_object_unref(d);
        return TRUE;
    }
    case (unsigned int)USBDEVFS_BULK:
        rc = bulk_sync(vb, cl, arg, now);
        if (rc)
            ANSWER(rc);
        else
            vboard_usb_service(vb);
        return TRUE;
    case (unsigned int)USBDEVFS_DROP_PRIVILEGES:
        if (!(d = arg_block(cl, 4)))
            return TRUE;
        cl->allowed_ifs &= *(uint32_t *)d->data;
        cl->dropped = 1;
        reply(cl, 0, 0);
        g_object_unref(d);
        return TRUE;
    case (unsigned int)USBDEVFS_DISCSIGNAL:
    case (unsigned int)USBDEVFS_FORBID_SUSPEND:
    case (unsigned int)USBDEVFS_ALLOW_SUSPEND:
    case (unsigned int)USBDEVFS_WAIT_FOR_RESUME:
        reply(cl, 0, 0);
        return TRUE;
    case (unsigned int)USBDEVFS_ALLOC_STREAMS:
    case (unsigned int)USBDEVFS_FREE_STREAMS:
        reply(cl, -1, EINVAL); /* bulk streams are USB 3 */
        return TRUE;
    default:
        break;
    }
    if (_IOC_TYPE(req) == 'U' && _IOC_NR(req) == 32 && (_IOC_DIR(req) & _IOC_READ)) { /* CONNINFO_EX(len) */
        size_t len = _IOC_SIZE(req);
        struct usbdevfs_conninfo_ex ci;
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
            return TRUE;
        memcpy(d->data, &ci, len);
        reply(cl, 0, 0);
        g_object_unref(d);
        return TRUE;
    }
    vb->st.unknown++;
    vboard_log(vb, 1, "client %u: unknown ioctl 0x%08lx (type '%c' nr %lu size %lu): ENOTTY", cl->id, req,
               (int)_IOC_TYPE(req) >= 32 && (int)_IOC_TYPE(req) < 127 ? (int)_IOC_TYPE(req) : '?',
               (unsigned long)_IOC_NR(req), (unsigned long)_IOC_SIZE(req));
    reply(cl, -1, ENOTTY);
    return TRUE;
}

/* --------------------------------------------------------------------------------- clients */

static void client_free(struct vboard *vb, struct vboard_client *cl, int quiet)
{
    struct vboard_urb *u;

    for (int i = 0; i < vb->nifs; i++)
        if (vb->ifs[i].owner == cl) {
            vb->ifs[i].driver = VBOARD_DRV_NONE; /* released on close; no driver rebinds by itself */
            vb->ifs[i].owner = NULL;
            if (!quiet)
                vboard_log(vb, 1, "client %u: interface %d released on close", cl->id, i);
        }
    for (int i = 0; i < vb->neps; i++) {
        struct vboard_urb *next;
        for (u = vb->eps[i].q.head; u; u = next) {
            next = u->next;
            if (u->client == cl) {
                q_remove(&vb->eps[i].q, u);
                urb_free(u);
            }
        }
    }
    while ((u = q_pop(&cl->done)))
        urb_free(u);
    cl->sync_urb = NULL; /* it was in an endpoint queue */
    g_signal_handler_disconnect(cl->client, cl->notify_id);
    g_object_set_data(G_OBJECT(cl->client), "vboard-client", NULL);
    g_object_unref(cl->client);
    g_free(cl);
}

static void on_client_notify(GObject *obj, GParamSpec *pspec, gpointer data)
{
    struct vboard_client *cl = data;
    struct vboard *vb = cl->vb;

    (void)pspec;
    if (umockdev_ioctl_client_get_connected(UMOCKDEV_IOCTL_CLIENT(obj)))
        return;
    vboard_log(vb, 1, "client %u: closed", cl->id);
    for (struct vboard_client **pp = &vb->clients; *pp; pp = &(*pp)->next)
        if (*pp == cl) {
            *pp = cl->next;
            break;
        }
    client_free(vb, cl, 0);
    arm_timer(vb, vboard_now());
}

static void on_client_connected(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer data)
{
    struct vboard *vb = data;
    struct vboard_client *cl = g_new0(struct vboard_client, 1);

    (void)base;
    cl->vb = vb;
    cl->client = g_object_ref(client);
    cl->id = ++vb->next_client_id;
    cl->allowed_ifs = ~0u;
    cl->next = vb->clients;
    vb->clients = cl;
    g_object_set_data(G_OBJECT(client), "vboard-client", cl);
    cl->notify_id = g_signal_connect(client, "notify::connected", G_CALLBACK(on_client_notify), cl);
    vboard_log(vb, 1, "client %u: opened %s", cl->id, vb->devnode);
}

/* ------------------------------------------------------------------------- attach, detach */

int vboard_usb_attach(struct vboard *vb, char *err, size_t errlen)
{
    GError *gerr = NULL;
    GSource *src;

    vb->handler = umockdev_ioctl_base_new();
    g_signal_connect(vb->handler, "handle-ioctl", G_CALLBACK(on_ioctl), vb);
    g_signal_connect(vb->handler, "client-connected", G_CALLBACK(on_client_connected), vb);
    if (!umockdev_testbed_attach_ioctl(vb->tb, vb->devnode, vb->handler, &gerr)) {
        snprintf(err, errlen, "cannot attach the ioctl handler to %s: %s", vb->devnode, gerr->message);
        g_error_free(gerr);
        return TERN_E_IO;
    }
    vb->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (vb->timer_fd < 0) {
        snprintf(err, errlen, "timerfd_create: %s", strerror(errno));
        return TERN_E_IO;
    }
    src = g_unix_fd_source_new(vb->timer_fd, G_IO_IN);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_timer, vb, NULL);
    g_source_set_priority(src, G_PRIORITY_HIGH);
    vb->timer_src = g_source_attach(src, vb->ctx);
    g_source_unref(src);
    return TERN_OK;
}

void vboard_usb_teardown(struct vboard *vb)
{
    if (vb->timer_src) {
        GSource *src = g_main_context_find_source_by_id(vb->ctx, vb->timer_src);
        if (src)
            g_source_destroy(src);
        vb->timer_src = 0;
    }
    if (vb->timer_fd > 0)
        close(vb->timer_fd);
    vb->timer_fd = -1;
    while (vb->clients) {
        struct vboard_client *cl = vb->clients;
        vb->clients = cl->next;
        client_free(vb, cl, 1);
    }
    if (vb->tb && vb->handler)
        umockdev_testbed_detach_ioctl(vb->tb, vb->devnode, NULL);
    if (vb->handler)
        g_object_unref(vb->handler);
    vb->handler = NULL;
    g_free(vb->syspath);
    vb->syspath = NULL;
    g_free(vb->root);
    vb->root = NULL;
    if (vb->tb)
        g_object_unref(vb->tb);
    vb->tb = NULL;
}
