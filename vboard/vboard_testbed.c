/* vboard_testbed.c — the virtual board's device as the host sees it before any ioctl: the umockdev
 * testbed (a root hub and the FTDI chip in sysfs, with the uevent properties and the binary
 * `descriptors` attribute libusb enumerates, and the device node), the connections to the node
 * (one client a open()), the ioctl handler and the timer attached to the main loop, and the
 * device leaving the bus (the unplug fault: sysfs, the node and udev "remove" events). */
#define _GNU_SOURCE
#include <errno.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "tern/tern.h"
#include "vboard_usb.h"

/* -------------------------------------------------------------------------------- testbed */

static void append_hex(GString *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(s, "%02X", p[i]);
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

void vboard_usb_unplug(struct vboard *vb)
{
    if (vb->unplugged)
        return;
    vb->unplugged = 1;
    vboard_fail_all_urbs(vb, -ENODEV);
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

/* --------------------------------------------------------------------------------- clients */

static void client_free(struct vboard *vb, struct vboard_client *cl, int quiet)
{
    for (int i = 0; i < vb->nifs; i++)
        if (vb->ifs[i].owner == cl) {
            vb->ifs[i].driver = VBOARD_DRV_NONE; /* released on close; no driver rebinds by itself */
            vb->ifs[i].owner = NULL;
            if (!quiet)
                vboard_log(vb, 1, "client %u: interface %d released on close", cl->id, i);
        }
    vboard_drop_client_urbs(vb, cl);
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
    vboard_arm_timer(vb, vboard_now());
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
    g_signal_connect(vb->handler, "handle-ioctl", G_CALLBACK(vboard_ioctl_handle), vb);
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
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))vboard_on_timer, vb, NULL);
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
