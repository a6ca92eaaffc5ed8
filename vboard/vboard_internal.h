/* vboard_internal.h — the virtual board object shared by tern_vboard.c (run: spawn, main loop,
 * engine thread) and the USB side (vboard_usb.h: the testbed, the URB machinery and the usbdevfs
 * ioctl handlers). Internal. */
#ifndef TERN_VBOARD_INTERNAL_H
#define TERN_VBOARD_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <umockdev.h>

#include "tern_vboard.h"
#include "vboard_engine.h"
#include "vboard_faults.h"
#include "vboard_ftdi.h"

#define VBOARD_MAX_EPS 4
#define VBOARD_MAX_IFS 2

struct vboard;
struct vboard_client;

/* A URB submitted by a client (or a synchronous USBDEVFS_BULK / CONTROL request). */
struct vboard_urb {
    struct vboard_urb *next;
    struct vboard_client *client;
    UMockdevIoctlData *data; /* the struct usbdevfs_urb (NULL for a synchronous bulk request) */
    UMockdevIoctlData *buf;  /* its buffer (NULL when zero-length) */
    unsigned long addr;      /* the URB's address in the client (DISCARDURB names it so) */
    uint8_t type, ep;
    unsigned flags;
    int len, actual, status;
    int stall;        /* the stall fault picked it */
    int data_seen;    /* short fault: a packet with data arrived */
    int sync;         /* USBDEVFS_BULK: the client's ioctl waits for it */
    int64_t deadline; /* sync: its timeout */
};

struct vboard_queue {
    struct vboard_urb *head, *tail;
};

/* One open() of the device node. */
struct vboard_client {
    struct vboard_client *next;
    struct vboard *vb;
    UMockdevIoctlClient *client;
    unsigned id;
    gulong notify_id;
    struct vboard_queue done; /* completed URBs, oldest first, for REAPURB(NDELAY) */
    int parked;               /* a REAPURB(NDELAY) or BULK ioctl waits for an answer */
    int parked_block;         /* REAPURB: waits without a deadline */
    int64_t park_deadline;
    unsigned empty_reaps;     /* REAPURBNDELAY answers without a URB since the last URB */
    int64_t last_data_us;     /* when data last moved for it (a submit, a URB with data reaped) */
    struct vboard_urb *sync_urb; /* a parked USBDEVFS_BULK */
    uint32_t allowed_ifs;     /* USBDEVFS_DROP_PRIVILEGES mask (all ones when not dropped) */
    int dropped;
};

struct vboard_ep {
    uint8_t addr;
    int iface, ch, in;
    int halted;
    struct vboard_queue q; /* pending URBs, oldest first */
};

enum vboard_driver { VBOARD_DRV_NONE, VBOARD_DRV_FTDI_SIO, VBOARD_DRV_USBFS };

/* The owner of an interface claimed by "another process" (the busy fault). */
#define VBOARD_OTHER_PROCESS ((struct vboard_client *)1)

struct vboard_iface {
    enum vboard_driver driver;
    struct vboard_client *owner; /* usbfs: the client that claimed it */
    int alt;
};

struct vboard_stats {
    uint64_t ioctls, submits, reaps, reaps_eagain, discards, controls, unknown;
    uint64_t parks, parks_expired; /* empty reaps held back, and how many of them ended EAGAIN */
    uint64_t urbs_done, bytes_out, bytes_in;
};

struct vboard {
    struct tern_vboard_opts o;
    int verbose;
    unsigned bus, addr;
    unsigned park_us;
    char devnode[64]; /* /dev/bus/usb/BBB/AAA */
    struct vboard_ftdi ftdi;
    struct vboard_faults faults;
    struct vboard_engine engine;
    int have_engine;
    /* umockdev */
    UMockdevTestbed *tb;
    char *root;
    char *syspath;    /* the device's sysfs path (for removal) */
    UMockdevIoctlBase *handler;
    GMainContext *ctx;
    GMainLoop *loop;
    /* USB state, main-loop thread only */
    struct vboard_client *clients;
    unsigned next_client_id;
    struct vboard_ep eps[VBOARD_MAX_EPS];
    int neps;
    struct vboard_iface ifs[VBOARD_MAX_IFS];
    int nifs;
    int config;          /* bConfigurationValue, 0 = unconfigured */
    int unplugged;
    int64_t hold_until;  /* timeout fault: no data moves before this */
    int timer_fd;
    guint timer_src;
    int64_t timer_at;
    gint wake_pending;   /* the engine thread asked the main loop to look */
    struct vboard_stats st;
    /* engine thread */
    pthread_t thread;
    int thread_started;
    int stop;                   /* under ftdi.lock */
    int engine_failed;
    char engine_err[320];       /* the code's name, then the engine's 256-byte message */
    struct vboard_bytes spill;  /* filtered FPGA -> host bytes waiting for TX room */
    uint64_t engine_steps;
    /* the command */
    GPid child;
    int child_exited;
    int child_status;
    guint sig_src[3];
};

/* the USB side: vboard_testbed.c (setup, attach, teardown), vboard_urb.c (service) */
int vboard_usb_setup(struct vboard *vb, char *err, size_t errlen);  /* testbed and sysfs */
int vboard_usb_attach(struct vboard *vb, char *err, size_t errlen); /* handler, timer (in vb->ctx) */
void vboard_usb_teardown(struct vboard *vb);
/* The engine thread made progress (or a timer fired): move data and answer waiting reaps. */
void vboard_usb_service(struct vboard *vb);

/* tern_vboard.c */
void vboard_log(struct vboard *vb, int level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
int64_t vboard_now(void);

#endif /* TERN_VBOARD_INTERNAL_H */
