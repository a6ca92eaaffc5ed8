/* tern_vboard.c — runs the virtual board: picks the engine and the chip, builds the umockdev
 * testbed (vboard_testbed.c), spawns the command with the umockdev preload library and UMOCKDEV_DIR,
 * runs the main loop that serves the device node until the command exits, and runs the engine
 * in a second thread: under the chip's mutex it takes host -> FPGA bytes from the chip's RX
 * buffer, steps the engine, passes what the FPGA sent through the fault filter into the TX
 * buffer, and sleeps on a condition variable while the engine is quiet and nothing is pending. */
#define _GNU_SOURCE
#include <errno.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "tern/tern.h"
#include "tern/tern_proto.h"
#include "tern_refdev.h"
#include "vboard_internal.h"

#define VBOARD_PRELOAD "libumockdev-preload.so.0"
#define VBOARD_DEFAULT_PARK_US 500u

int64_t vboard_now(void)
{
    return g_get_monotonic_time();
}

void vboard_log(struct vboard *vb, int level, const char *fmt, ...)
{
    char buf[512];
    va_list ap;

    if (vb->verbose < level)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tern vboard: %s\n", buf);
}

const char *tern_vboard_fault_help(void)
{
    return vboard_faults_help();
}

/* ------------------------------------------------------------------------- engine thread */

static gboolean on_wake(gpointer data)
{
    struct vboard *vb = data;

    g_atomic_int_set(&vb->wake_pending, 0);
    vboard_usb_service(vb);
    return G_SOURCE_REMOVE;
}

/* Ask the main loop to look at the buffers (coalesced: one pending wake at a time). */
static void wake_main(struct vboard *vb)
{
    if (g_atomic_int_compare_and_exchange(&vb->wake_pending, 0, 1)) {
        GSource *src = g_idle_source_new();
        g_source_set_priority(src, G_PRIORITY_HIGH);
        g_source_set_callback(src, on_wake, vb, NULL);
        g_source_attach(src, vb->ctx);
        g_source_unref(src);
    }
}

static void *engine_main(void *arg)
{
    struct vboard *vb = arg;
    struct vboard_ftdi *f = &vb->ftdi;
    const struct vboard_engine_ops *ops = vb->engine.ops;
    uint8_t in[4096], out[4096];
    int quiet = 0; /* the engine said it has nothing to do until more input comes */
    int idle = 0;  /* the last step moved no byte */
    int moved = 0; /* bytes moved since the main loop was last told */

    pthread_mutex_lock(&f->lock);
    while (!vb->stop) {
        if (f->baud_pending) {
            uint32_t baud = f->baud_for_engine;
            f->baud_pending = 0;
            pthread_mutex_unlock(&f->lock);
            if (ops->set_baud && vb->engine.link == TERN_LINK_UART)
                ops->set_baud(vb->engine.ctx, baud);
            pthread_mutex_lock(&f->lock);
            continue;
        }
        /* what the fault filter holds back (a duplicated frame) goes first */
        if (vb->spill.len) {
            size_t room = vboard_ftdi_tx_room(f), n = vb->spill.len < room ? vb->spill.len : room;
            if (n) {
                vboard_ftdi_tx_push(f, vb->spill.p, n);
                vboard_bytes_consume(&vb->spill, n);
                moved = 1;
            }
        }
        size_t in_len = vboard_ftdi_rx_peek(f, in, sizeof in);
        size_t out_cap = vb->spill.len ? 0 : vboard_ftdi_tx_room(f);
        int live = vboard_ftdi_live(f, f->engine_ch);
        int64_t slow_us = 0; /* the slow fault holds the waiting bytes back this long */
        in_len = vboard_faults_slow_allow(&vb->faults, in_len, vboard_now(), &slow_us);
        if (out_cap > sizeof out)
            out_cap = sizeof out;
        /* sleep while there is nothing to do: the chip does not connect the FPGA, the engine is
         * quiet and no byte waits (or may go yet), or the last step moved nothing and cannot (no
         * TX room) */
        if (!live || (quiet && !in_len) || (idle && (quiet || !out_cap))) {
            if (moved) {
                moved = 0;
                pthread_mutex_unlock(&f->lock);
                wake_main(vb);
                pthread_mutex_lock(&f->lock);
                continue;
            }
            if (!live || (quiet && !in_len && !slow_us)) {
                pthread_cond_wait(&f->cond, &f->lock);
            } else {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += slow_us ? slow_us * 1000 : 2000000;
                while (ts.tv_nsec >= 1000000000) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&f->cond, &f->lock, &ts);
            }
            idle = 0;
            continue;
        }
        uint64_t gen = f->ch[f->engine_ch].rx_gen;
        size_t in_used = 0, out_len = 0;
        int q = 0;
        char err[256] = "";
        pthread_mutex_unlock(&f->lock);
        int rc = ops->step(vb->engine.ctx, in, in_len, &in_used, out, out_cap, &out_len, &q, err, sizeof err);
        pthread_mutex_lock(&f->lock);
        vb->engine_steps++;
        if (rc) {
            vb->engine_failed = 1;
            snprintf(vb->engine_err, sizeof vb->engine_err, "%s: %s", tern_strerror(rc), err);
            break;
        }
        if (in_used > in_len)
            in_used = in_len;
        if (out_len > out_cap)
            out_len = out_cap;
        if (gen == f->ch[f->engine_ch].rx_gen)
            vboard_ftdi_rx_drop(f, in_used);
        vboard_faults_slow_took(&vb->faults, in_used);
        if (out_len) {
            if (vboard_faults_filter_in(&vb->faults, out, out_len, &vb->spill)) {
                vb->engine_failed = 1;
                snprintf(vb->engine_err, sizeof vb->engine_err, "out of memory in the fault filter");
                break;
            }
            size_t room = vboard_ftdi_tx_room(f), n = vb->spill.len < room ? vb->spill.len : room;
            vboard_ftdi_tx_push(f, vb->spill.p, n);
            vboard_bytes_consume(&vb->spill, n);
        }
        quiet = q;
        idle = !in_used && !out_len;
        if (!idle || moved) {
            moved = 0;
            pthread_mutex_unlock(&f->lock);
            wake_main(vb);
            pthread_mutex_lock(&f->lock);
        }
    }
    pthread_mutex_unlock(&f->lock);
    if (vb->engine_failed) {
        fprintf(stderr, "tern vboard: engine %s failed: %s (the board no longer answers)\n", vb->engine.name,
                vb->engine_err);
        wake_main(vb);
    }
    return NULL;
}

/* ------------------------------------------------------------------------- the command */

static void on_child_exit(GPid pid, gint status, gpointer data)
{
    struct vboard *vb = data;

    vb->child_exited = 1;
    if (WIFEXITED(status))
        vb->child_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        vb->child_status = 128 + WTERMSIG(status);
    else
        vb->child_status = 255;
    g_spawn_close_pid(pid);
    vboard_log(vb, 1, "command exited with status %d", vb->child_status);
    g_main_loop_quit(vb->loop);
}

/* In the command, before exec: a 1 ns timer slack (inherited by every thread and process it
 * starts). The preload library calls usleep(0) after every ioctl, which sleeps the timer slack:
 * 50 us by default, a third of an emulated ioctl. */
static void child_setup(gpointer data)
{
    (void)data;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

struct sig_fwd {
    struct vboard *vb;
    int sig;
};

static gboolean on_signal(gpointer data)
{
    struct sig_fwd *s = data;

    if (!s->vb->child_exited && s->vb->child > 0)
        kill(s->vb->child, s->sig);
    return G_SOURCE_CONTINUE;
}

static int pick_engine(struct vboard *vb, char *err, size_t errlen)
{
    const char *engine = vb->o.engine ? vb->o.engine : "rtl";
    const char *config = vb->o.config ? vb->o.config : "default";
    int rc;

    if (!strcmp(engine, "loopback")) {
        int link = TERN_LINK_UART;
        uint32_t baud = 3000000;
        if (vb->o.config) {
            const struct tern_hwcfg *c = tern_hwcfg_find(vb->o.config);
            if (!c) {
                snprintf(err, errlen, "no configuration '%s'", vb->o.config);
                return TERN_E_NOTFOUND;
            }
            link = (int)c->link_kind;
            if (link == TERN_LINK_UART)
                baud = c->link_bytes_per_s * 10;
        }
        if (vb->o.link) {
            if (!strcmp(vb->o.link, "uart"))
                link = TERN_LINK_UART;
            else if (!strcmp(vb->o.link, "fifo245"))
                link = TERN_LINK_FIFO245;
            else {
                snprintf(err, errlen, "unknown link '%s' (uart, fifo245)", vb->o.link);
                return TERN_E_INVAL;
            }
        }
        rc = vboard_engine_loopback(link, baud, &vb->engine, err, errlen);
    } else if (!strcmp(engine, "ref")) {
        rc = vboard_engine_ref(config, &vb->engine, err, errlen);
    } else if (!strcmp(engine, "rtl")) {
        rc = vboard_engine_rtl(config, vb->o.trace_path, &vb->engine, err, errlen);
    } else {
        snprintf(err, errlen, "unknown engine '%s' (rtl, ref, loopback)", engine);
        return TERN_E_INVAL;
    }
    if (rc)
        return rc;
    vb->have_engine = 1;
    if (vb->o.link && strcmp(engine, "loopback"))
        vboard_log(vb, 0, "--link is for the loopback engine; the %s engine's link comes from its configuration",
                   engine);
    return TERN_OK;
}

/* The bridge chip: the one the engine's link needs, or the one the options name. */
static int pick_chip(struct vboard *vb, enum vboard_chip *chip, char *err, size_t errlen)
{
    *chip = vb->engine.link == TERN_LINK_UART ? VBOARD_FT2232H : VBOARD_FT232H;
    if (!vb->o.chip)
        return TERN_OK;
    if (!g_ascii_strcasecmp(vb->o.chip, "ft2232h"))
        *chip = VBOARD_FT2232H;
    else if (!g_ascii_strcasecmp(vb->o.chip, "ft232h"))
        *chip = VBOARD_FT232H;
    else {
        snprintf(err, errlen, "unknown chip '%s' (ft2232h, ft232h)", vb->o.chip);
        return TERN_E_INVAL;
    }
    return TERN_OK;
}

static void set_env(gchar ***env, const char *name, const char *value)
{
    *env = g_environ_setenv(*env, name, value, TRUE);
}

/* The command's environment: ours with the testbed in it (passed on to its children). */
static gchar **command_env(struct vboard *vb, enum vboard_chip chip)
{
    gchar **env = g_get_environ();
    const char *pre = g_environ_getenv(env, "LD_PRELOAD");
    char *p = pre && *pre ? g_strdup_printf("%s:%s", VBOARD_PRELOAD, pre) : g_strdup(VBOARD_PRELOAD);
    char num[32];

    set_env(&env, "LD_PRELOAD", p);
    g_free(p);
    set_env(&env, "UMOCKDEV_DIR", vb->root);
    set_env(&env, "TERN_VBOARD_DIR", vb->root);
    set_env(&env, "TERN_VBOARD_DEVNODE", vb->devnode);
    set_env(&env, "TERN_VBOARD_CHIP", vboard_chip_name(chip));
    set_env(&env, "TERN_VBOARD_SERIAL", vb->ftdi.serial);
    set_env(&env, "TERN_VBOARD_ENGINE", vb->engine.name);
    snprintf(num, sizeof num, "%u", vb->bus);
    set_env(&env, "TERN_VBOARD_BUS", num);
    snprintf(num, sizeof num, "%u", vb->addr);
    set_env(&env, "TERN_VBOARD_ADDR", num);
    return env;
}

/* The main loop ends when the command exits; SIGINT, SIGTERM and SIGHUP go on to it. */
static void watch_command(struct vboard *vb, struct sig_fwd fwd[3])
{
    static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
    GSource *src = g_child_watch_source_new(vb->child);

    g_source_set_callback(src, (GSourceFunc)(void (*)(void))on_child_exit, vb, NULL);
    g_source_attach(src, vb->ctx);
    g_source_unref(src);
    for (int i = 0; i < 3; i++) {
        fwd[i].vb = vb;
        fwd[i].sig = sigs[i];
        src = g_unix_signal_source_new(sigs[i]);
        g_source_set_callback(src, on_signal, &fwd[i], NULL);
        vb->sig_src[i] = g_source_attach(src, vb->ctx);
        g_source_unref(src);
    }
}

static void log_summary(struct vboard *vb)
{
    char line[768];
    const struct vboard_stats *st = &vb->st;
    uint64_t status_pkts = 0, discarded = 0;

    for (int i = 0; i < vb->ftdi.nch; i++) {
        status_pkts += vb->ftdi.ch[i].status_pkts;
        discarded += vb->ftdi.ch[i].bytes_discarded;
    }
    vboard_log(vb, 1,
               "summary: %" PRIu64 " ioctls (%" PRIu64 " unknown), %" PRIu64 " URBs submitted, %" PRIu64
               " completed, %" PRIu64 " reaped, %" PRIu64 " empty reaps (%" PRIu64 " held, %" PRIu64
               " of them in vain), %" PRIu64 " discarded, %" PRIu64
               " control requests; %" PRIu64 " bytes out (%" PRIu64 " to no FPGA), %" PRIu64 " bytes in, %" PRIu64
               " status-only packets; %" PRIu64 " engine steps",
               st->ioctls, st->unknown, st->submits, st->urbs_done, st->reaps, st->reaps_eagain, st->parks,
               st->parks_expired, st->discards,
               st->controls, st->bytes_out, discarded, st->bytes_in, status_pkts, vb->engine_steps);
    vboard_faults_summary(&vb->faults, line, sizeof line);
    vboard_log(vb, 1, "%s", line);
}

static void free_vboard(struct vboard *vb)
{
    if (vb->have_engine && vb->engine.ops->destroy)
        vb->engine.ops->destroy(vb->engine.ctx);
    vboard_ftdi_destroy(&vb->ftdi);
    vboard_faults_free(&vb->faults);
    vboard_bytes_free(&vb->spill);
    free(vb);
}

int tern_vboard_run(const struct tern_vboard_opts *o, char *const argv[], int *child_status, char *err,
                    size_t errlen)
{
    struct vboard *vb;
    enum vboard_chip chip;
    gchar **env = NULL;
    GError *gerr = NULL;
    struct sig_fwd fwd[3];
    char *old_umockdev_dir = NULL;
    int had_umockdev_dir;
    int rc;

    if (child_status)
        *child_status = 255;
    if (!o || !argv || !argv[0]) {
        snprintf(err, errlen, "no command to run");
        return TERN_E_INVAL;
    }
    if (g_getenv("UMOCKDEV_DIR") && g_getenv("LD_PRELOAD") && strstr(g_getenv("LD_PRELOAD"), "libumockdev-preload")) {
        snprintf(err, errlen, "already inside a umockdev testbed (UMOCKDEV_DIR is set and the preload library "
                              "is loaded): run tern vboard outside of it");
        return TERN_E_INVAL;
    }
    vb = calloc(1, sizeof *vb);
    if (!vb) {
        snprintf(err, errlen, "out of memory");
        return TERN_E_NOMEM;
    }
    vb->o = *o;
    vb->verbose = o->verbose;
    vb->bus = o->bus ? o->bus : 1;
    vb->addr = o->addr ? o->addr : 2;
    vb->park_us = o->park_us ? o->park_us : VBOARD_DEFAULT_PARK_US;
    vb->timer_fd = -1;
    vb->child_status = 255;
    if (vb->bus > 255 || vb->addr > 127) {
        snprintf(err, errlen, "bus %u / address %u out of range (1..255 / 1..127)", vb->bus, vb->addr);
        free(vb);
        return TERN_E_INVAL;
    }
    for (size_t i = 0; i < o->nfaults; i++)
        if ((rc = vboard_faults_add(&vb->faults, o->faults[i], err, errlen)))
            goto fail_faults;

    /* the engine, then the chip its link needs */
    if ((rc = pick_engine(vb, err, errlen)))
        goto fail_faults;
    if (vb->engine.link != TERN_LINK_UART && vb->engine.link != TERN_LINK_FIFO245) {
        snprintf(err, errlen, "the %s engine uses a %s link; the virtual board emulates FTDI UART and FIFO only",
                 vb->engine.name, tern_link_kind_name(vb->engine.link));
        rc = TERN_E_UNSUPPORTED;
        goto fail_engine;
    }
    if ((rc = pick_chip(vb, &chip, err, errlen)))
        goto fail_engine;
    if ((rc = vboard_ftdi_init(&vb->ftdi, chip, vb->engine.link, o->serial, err, errlen)))
        goto fail_engine;

    /* the testbed (it sets UMOCKDEV_DIR in this process: put back what was there afterwards) */
    had_umockdev_dir = g_getenv("UMOCKDEV_DIR") != NULL;
    old_umockdev_dir = g_strdup(g_getenv("UMOCKDEV_DIR"));
    vb->ctx = g_main_context_new();
    g_main_context_push_thread_default(vb->ctx);
    vb->loop = g_main_loop_new(vb->ctx, FALSE);
    if ((rc = vboard_usb_setup(vb, err, errlen)) || (rc = vboard_usb_attach(vb, err, errlen)))
        goto fail_usb;
    vboard_log(vb, 1, "%s %04x:%04x serial %s at %s (testbed %s), engine %s (%s link%s%s), FPGA on channel %c",
               vboard_chip_name(chip), 0x0403, chip == VBOARD_FT232H ? 0x6014 : 0x6010, vb->ftdi.serial, vb->devnode,
               vb->root, vb->engine.name, tern_link_kind_name(vb->engine.link),
               vb->engine.link == TERN_LINK_UART ? ", " : "",
               vb->engine.link == TERN_LINK_UART ? "needs SIO_SET_BAUD_RATE" : ", needs SIO_SET_BITMODE 0x40",
               'A' + vb->ftdi.engine_ch);

    /* the engine thread */
    pthread_mutex_lock(&vb->ftdi.lock);
    vboard_ftdi_power_on(&vb->ftdi, vboard_now());
    pthread_mutex_unlock(&vb->ftdi.lock);
    if (pthread_create(&vb->thread, NULL, engine_main, vb)) {
        snprintf(err, errlen, "cannot start the engine thread");
        rc = TERN_E_NOMEM;
        goto fail_usb;
    }
    vb->thread_started = 1;

    /* the command, with the testbed in its environment (and its children's) */
    env = command_env(vb, chip);
    if (!g_spawn_async(NULL, (gchar **)argv, env,
                       G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_CHILD_INHERITS_STDIN,
                       child_setup, NULL, &vb->child, &gerr)) {
        snprintf(err, errlen, "cannot run '%s': %s", argv[0], gerr->message);
        rc = g_error_matches(gerr, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT) ? TERN_E_NOTFOUND : TERN_E_IO;
        if (child_status)
            *child_status = 127;
        g_error_free(gerr);
        goto fail_thread;
    }
    watch_command(vb, fwd);

    g_main_loop_run(vb->loop);

    for (int i = 0; i < 3; i++) {
        GSource *s = g_main_context_find_source_by_id(vb->ctx, vb->sig_src[i]);
        if (s)
            g_source_destroy(s);
    }
    if (child_status)
        *child_status = vb->child_status;
    rc = TERN_OK;
    if (vb->verbose >= 1)
        log_summary(vb);

fail_thread:
    pthread_mutex_lock(&vb->ftdi.lock);
    vb->stop = 1;
    pthread_cond_broadcast(&vb->ftdi.cond);
    pthread_mutex_unlock(&vb->ftdi.lock);
    pthread_join(vb->thread, NULL);
    vb->thread_started = 0;
fail_usb:
    vboard_usb_teardown(vb);
    g_strfreev(env);
    g_main_loop_unref(vb->loop);
    g_main_context_pop_thread_default(vb->ctx);
    g_main_context_unref(vb->ctx);
    if (had_umockdev_dir)
        g_setenv("UMOCKDEV_DIR", old_umockdev_dir, TRUE);
    else
        g_unsetenv("UMOCKDEV_DIR");
    g_free(old_umockdev_dir);
fail_engine:
fail_faults:
    free_vboard(vb);
    return rc;
}
