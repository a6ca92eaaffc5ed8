/* vboard_usb.h — the USB side of the virtual board, shared by its three parts (internal): the
 * testbed (vboard_testbed.c: the device in sysfs, the node, clients, unplugging), the URB
 * machinery (vboard_urb.c: endpoint queues, pumping them against the chip, completion, reaping,
 * parking, the timer) and the usbdevfs ioctl handlers (vboard_ioctl.c: one function a request,
 * dispatched from a table; interface claims; control requests). Everything here runs in the
 * main-loop thread. */
#ifndef TERN_VBOARD_USB_H
#define TERN_VBOARD_USB_H

#include "vboard_internal.h"

/* Answer the client's pending ioctl: res, or -1 with errno err. */
static inline void vboard_reply(struct vboard_client *cl, long res, int err)
{
    umockdev_ioctl_client_complete(cl->client, res, err);
}

/* vboard_testbed.c */
void vboard_usb_unplug(struct vboard *vb); /* the device leaves the bus: every URB fails ENODEV */

/* vboard_urb.c */
struct vboard_ep *vboard_find_ep(struct vboard *vb, unsigned addr);
/* USBDEVFS_SUBMITURB, USBDEVFS_DISCARDURB, USBDEVFS_BULK: 0 or a negative errno to answer (BULK:
 * 0 means parked until its URB completes). */
int vboard_submit_urb(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg);
int vboard_discard_urb(struct vboard *vb, struct vboard_client *cl, unsigned long addr);
int vboard_bulk_sync(struct vboard *vb, struct vboard_client *cl, UMockdevIoctlData *arg, int64_t now);
/* USBDEVFS_REAPURB (block) or REAPURBNDELAY: answers the client now or parks it. */
void vboard_reap(struct vboard *vb, struct vboard_client *cl, int block, int64_t now);
/* Answer every waiting client that can be answered now; arm the timer for the next moment. */
void vboard_serve_parked(struct vboard *vb, int64_t now);
void vboard_arm_timer(struct vboard *vb, int64_t now);
gboolean vboard_on_timer(gint fd, GIOCondition cond, gpointer data);
/* Complete with ENOENT the URBs of interface ifno (of client cl only, unless cl is NULL). */
void vboard_kill_iface_urbs(struct vboard *vb, struct vboard_client *cl, int ifno);
void vboard_fail_all_urbs(struct vboard *vb, int status);        /* every queued URB, e.g. -ENODEV */
void vboard_drop_client_urbs(struct vboard *vb, struct vboard_client *cl); /* freed, unanswered */

/* vboard_ioctl.c */
gboolean vboard_ioctl_handle(UMockdevIoctlBase *base, UMockdevIoctlClient *client, gpointer data);
/* The kernel's checkintf(): a URB or request on an interface the client did not claim claims it. */
int vboard_check_iface(struct vboard *vb, struct vboard_client *cl, int ifno);
/* A control request: 0 (*len = data bytes), or a negative errno (-EPIPE: a stall). */
int vboard_control(struct vboard *vb, struct vboard_client *cl, const uint8_t *setup, uint8_t *data, size_t *len);

#endif /* TERN_VBOARD_USB_H */
