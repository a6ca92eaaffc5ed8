/* test_model_cli.c — `tern model info` and `tern model synth` as a user runs them: exit codes and messages. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "model_test_util.h"

#ifndef TERN_CLI_PATH
#error "TERN_CLI_PATH must name the built tern binary"
#endif

struct fixture {
    char dir[512];
    char out[1 << 16]; /* the last command's stdout and stderr */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (!f || scratch_make(f->dir, sizeof f->dir))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    scratch_remove(f->dir);
    free(f);
    return 0;
}

/* Runs `tern <args>` (args in shell syntax) and returns its exit status; output in f->out. */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int tern(struct fixture *f, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    int n = snprintf(cmd, sizeof cmd, "'%s' ", TERN_CLI_PATH);

    va_start(ap, fmt);
    vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t len = fread(f->out, 1, sizeof f->out - 1, p);
    f->out[len] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define SMALL "--dim 32 --hidden-dim 88 --layers 2 --heads 4 --kv-heads 2 --vocab 300 --seq-len 64"

static void test_help(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(tern(f, "--help"), 0);
    assert_non_null(strstr(f->out, "model"));
    assert_int_equal(tern(f, "model --help"), 0);
    assert_non_null(strstr(f->out, "synth"));
    assert_int_equal(tern(f, "model info --help"), 0);
    assert_non_null(strstr(f->out, "usage: tern model info"));
    assert_int_equal(tern(f, "model synth --help"), 0);
    assert_non_null(strstr(f->out, "--tokenizer-out"));
    assert_int_equal(tern(f, "model"), 2);
    assert_int_equal(tern(f, "model frobnicate"), 2);
    assert_int_equal(tern(f, "model info"), 2);
}

static void test_synth_then_info(void **state)
{
    struct fixture *f = *state;
    char model[700], tok[700], json[700], err[512];
    tern_model *m = NULL;
    tern_tokenizer *t = NULL;

    snprintf(model, sizeof model, "%s/cli.bin", f->dir);
    snprintf(tok, sizeof tok, "%s/cli.tok", f->dir);
    snprintf(json, sizeof json, "%s/cli.json", f->dir);
    if (tern(f, "model synth " SMALL " --seed 5 --out '%s' --tokenizer-out '%s'", model, tok) != 0)
        fail_msg("synth failed: %s", f->out);
    assert_int_equal(tern_model_load(model, &m, err, sizeof err), TERN_OK);
    const struct tern_model_dims want = {32, 88, 2, 4, 2, 300, 64, 1};
    assert_memory_equal(tern_model_dims(m), &want, sizeof want);
    tern_model_free(m);
    assert_int_equal(tern_tokenizer_load(tok, 300, &t, err, sizeof err), TERN_OK);
    tern_tokenizer_free(t);

    /* the command writes what the library writes for the same seed */
    char lib[700];
    size_t na, nb;
    snprintf(lib, sizeof lib, "%s/lib.bin", f->dir);
    assert_int_equal(tern_model_synth(&want, 5, lib, err, sizeof err), TERN_OK);
    uint8_t *a = read_all(model, &na), *b = read_all(lib, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);

    if (tern(f, "model info '%s' --json '%s'", model, json) != 0)
        fail_msg("info failed: %s", f->out);
    assert_non_null(strstr(f->out, "dim 32, hidden_dim 88, n_layers 2, n_heads 4, n_kv_heads 2"));
    assert_non_null(strstr(f->out, "0 illegal"));
    assert_non_null(strstr(f->out, "w2"));
    char *j = (char *)read_all(json, &na);
    assert_non_null(j);
    j[na] = '\0';
    assert_non_null(strstr(j, "\"ok\": true"));
    assert_non_null(strstr(j, "\"zero_fraction\""));
    assert_non_null(strstr(j, "\"hidden_dim\": 88"));
    free(j);

    /* --like takes the dimensions, an option overrides one */
    char like[700];
    snprintf(like, sizeof like, "%s/like.bin", f->dir);
    if (tern(f, "model synth --like '%s' --layers 3 --out '%s'", model, like) != 0)
        fail_msg("synth --like failed: %s", f->out);
    assert_int_equal(tern_model_load(like, &m, err, sizeof err), TERN_OK);
    assert_int_equal(tern_model_dims(m)->n_layers, 3);
    assert_int_equal(tern_model_dims(m)->hidden_dim, 88);
    tern_model_free(m);
}

static void test_info_bad_files(void **state)
{
    struct fixture *f = *state;
    char model[700], bad[700], json[700], err[512];
    size_t n;

    snprintf(model, sizeof model, "%s/good.bin", f->dir);
    snprintf(bad, sizeof bad, "%s/truncated.bin", f->dir);
    snprintf(json, sizeof json, "%s/bad.json", f->dir);
    const struct tern_model_dims d = {32, 88, 2, 4, 2, 300, 64, 1};
    assert_int_equal(tern_model_synth(&d, 1, model, err, sizeof err), TERN_OK);
    uint8_t *raw = read_all(model, &n);
    assert_non_null(raw);
    assert_int_equal(write_all(bad, raw, n - 10), 0);
    free(raw);
    assert_int_equal(tern(f, "model info '%s' --json '%s'", bad, json), 1);
    assert_non_null(strstr(f->out, bad));
    assert_non_null(strstr(f->out, "truncated in layer 1 w3"));
    char *j = (char *)read_all(json, &n);
    assert_non_null(j);
    j[n] = '\0';
    assert_non_null(strstr(j, "\"ok\": false"));
    free(j);

    snprintf(bad, sizeof bad, "%s/missing.bin", f->dir);
    assert_int_equal(tern(f, "model info '%s'", bad), 1);
    assert_non_null(strstr(f->out, "cannot open"));
}

static void test_synth_usage_errors(void **state)
{
    struct fixture *f = *state;
    char out[700];

    snprintf(out, sizeof out, "%s/never.bin", f->dir);
    assert_int_equal(tern(f, "model synth " SMALL), 2);
    assert_non_null(strstr(f->out, "--out FILE is required"));
    assert_int_equal(tern(f, "model synth --dim 32 --out '%s'", out), 2);
    assert_non_null(strstr(f->out, "missing --hidden-dim, --layers, --heads, --kv-heads, --vocab, --seq-len"));
    assert_int_equal(tern(f, "model synth " SMALL " --heads 3 --out '%s'", out), 2);
    assert_non_null(strstr(f->out, "dim 32 is not a multiple of n_heads 3"));
    assert_int_equal(tern(f, "model synth " SMALL " --dim 12x --out '%s'", out), 2);
    assert_non_null(strstr(f->out, "--dim '12x' is not a 32-bit integer"));
    assert_int_equal(tern(f, "model synth " SMALL " --seed -1 --out '%s'", out), 2);
    assert_int_equal(tern(f, "model synth " SMALL " --vocab 100 --out '%s' --tokenizer-out '%s.tok'", out, out), 2);
    assert_non_null(strstr(f->out, "at least 259"));
    assert_int_equal(tern(f, "model synth --like '%s/nothing.bin' --out '%s'", f->dir, out), 1);
    assert_null(fopen(out, "rb"));
}

static void test_info_real_model(void **state)
{
    struct fixture *f = *state;
    char buf[600];
    const char *path = real_file("model.bin", buf, sizeof buf);

    if (!path)
        skip();
    if (tern(f, "model info '%s'", path) != 0)
        fail_msg("info failed: %s", f->out);
    assert_non_null(strstr(f->out, "1312224 bytes"));
    assert_non_null(strstr(f->out, "3145728 weights checked: 0 illegal"));
    assert_non_null(strstr(f->out, "36.88%"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_synth_then_info),
        cmocka_unit_test(test_info_bad_files),
        cmocka_unit_test(test_synth_usage_errors),
        cmocka_unit_test(test_info_real_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
