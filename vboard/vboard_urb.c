/* vboard_urb.c — the URB machinery of the virtual board: bulk URBs queue per endpoint and
 * complete lazily: whenever a client reaps, the timer fires or the engine thread made progress,
 * the queues are pumped against the chip (vboard_ftdi.c) at the current wall-clock time, under
 * the chip's mutex. Completed URBs wait in their client's done queue for REAPURB(NDELAY); an
 * empty reap of an idle client is parked a moment, a synchronous USBDEVFS_BULK until its URB
 * completes or its timeout; the timer goes off at the next moment an answer may change. All URB
 * memory is only touched here, in the main-loop thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <linux/usbdevice_fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "tern/tern.h"
#include "vboard_usb.h"

/* A client that moved data less than this long ago gets EAGAIN at once from an empty
 * REAPURBNDELAY; after that (idle: only status-only packets, or nothing) the reap is held up to
 * park_us for a URB to complete, which spares the CPU libusb's poll loop on an always-ready
 * node would burn. */
#define VBOARD_BUSY_US 2000

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

struct vboard_ep *vboard_find_ep(struct vboard *vb, unsigned addr)
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
            vboard_reply(cl, -1, -status);
        else
            vboard_reply(cl, u->actual, 0);
        cl->parked = 0;
        cl->sync_urb = NULL;
        urb_free(u);
        return;
    }
    q_push(&cl->done, u);
}

/* ------------------------------------------------------------------------------------ pump */

/* The head URB u of ep fails with EPIPE when the endpoint is halted (or the stall fault picked u,
 * which halts it): 1 when it did. */
static int fail_if_halted(struct vboard *vb, struct vboard_ep *ep, struct vboard_urb *u)
{
    if (u->stall)
        ep->halted = 1;
    if (!ep->halted)
        return 0;
    q_pop(&ep->q);
    finish(vb, u, -EPIPE);
    return 1;
}

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
        if (fail_if_halted(vb, ep, u))
            continue;
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
        if (fail_if_halted(vb, ep, u))
            continue;
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
        vboard_usb_unplug(vb);
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
        vboard_reply(cl, -1, EFAULT);
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
    vboard_reply(cl, 0, 0);
    g_object_unref(slot);
    urb_free(u);
}

/* Answer every waiting client that can be answered now. */
void vboard_serve_parked(struct vboard *vb, int64_t now)
{
    for (struct vboard_client *cl = vb->clients; cl; cl = cl->next) {
        if (!cl->parked)
            continue;
        if (cl->sync_urb) {
            struct vboard_urb *u = cl->sync_urb;
            if (vb->unplugged) {
                vboard_reply(cl, -1, ENODEV);
                cl->parked = 0;
                cl->sync_urb = NULL;
                urb_free(u);
            } else if (u->deadline && now >= u->deadline) {
                struct vboard_ep *ep = vboard_find_ep(vb, u->ep);
                if (ep)
                    q_remove(&ep->q, u);
                vboard_reply(cl, -1, ETIMEDOUT);
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
            vboard_reply(cl, -1, ENODEV);
        } else if (!cl->parked_block && now >= cl->park_deadline) {
            cl->parked = 0;
            vb->st.reaps_eagain++;
            vb->st.parks_expired++;
            vboard_reply(cl, -1, EAGAIN);
        }
    }
    vboard_arm_timer(vb, now);
}

void vboard_usb_service(struct vboard *vb)
{
    int64_t now = vboard_now();

    pump(vb, now);
    vboard_serve_parked(vb, now);
}

void vboard_reap(struct vboard *vb, struct vboard_client *cl, int block, int64_t now)
{
    pump(vb, now);
    if (cl->done.head)
        reply_reap(vb, cl);
    else if (vb->unplugged)
        vboard_reply(cl, -1, ENODEV);
    else if (!block && (vb->park_us == (unsigned)-1 || now - cl->last_data_us < VBOARD_BUSY_US ||
                        (!client_pending(vb, cl) && cl->empty_reaps++ == 0))) {
        /* data moved for this client a moment ago (a transfer streams: its other threads
         * submit on the same node, which a held reap would block), or nothing is in flight
         * and libusb ends its reap loop here: answer at once */
        vb->st.reaps_eagain++;
        vboard_reply(cl, -1, EAGAIN);
    } else {
        /* nothing yet: hold the answer a moment (libusb polls an always-ready node in a loop) */
        cl->parked = 1;
        cl->parked_block = block;
        cl->park_deadline = now + vb->park_us;
        vb->st.parks++;
    }
    vboard_serve_parked(vb, now); /* others may have URBs done now */
}

gboolean vboard_on_timer(gint fd, GIOCondition cond, gpointer data)
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
void vboard_arm_timer(struct vboard *vb, int64_t now)
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

/* ----------------------------------------------------------------------------- URB submit */

int vboard_submit_urb(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg)
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
        ep = vboard_find_ep(vb, k.endpoint);
        if (!ep || !vb->config || (ep->addr & 0x80) != (k.endpoint & 0x80)) {
            rc = -ENOENT;
            goto fail;
        }
        if ((rc = vboard_check_iface(vb, cl, ep->iface)))
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
        int st = vboard_control(vb, cl, buf->data, buf->data + 8, &n);
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

int vboard_discard_urb(struct vboard *vb, struct vboard_client *cl, unsigned long addr)
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
int vboard_bulk_sync(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg, int64_t now)
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
    ep = vboard_find_ep(vb, k.ep);
    if (!ep || !vb->config) {
        rc = -ENOENT;
        goto fail;
    }
    if ((rc = vboard_check_iface(vb, cl, ep->iface)))
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

/* ------------------------------------------------------------------- URBs of a client, all */

void vboard_kill_iface_urbs(struct vboard *vb, struct vboard_client *cl, int ifno)
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

void vboard_fail_all_urbs(struct vboard *vb, int status)
{
    for (int i = 0; i < vb->neps; i++) {
        struct vboard_urb *u;
        while ((u = q_pop(&vb->eps[i].q)))
            finish(vb, u, status);
    }
}

void vboard_drop_client_urbs(struct vboard *vb, struct vboard_client *cl)
{
    struct vboard_urb *u;

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
}
