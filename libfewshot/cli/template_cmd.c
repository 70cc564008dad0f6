/*
 * `fewshot template render`: render a Mustache template with JSON data, to iterate on prompt
 * wording without running a sweep.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_template_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot template render TEMPLATE [DATA.json] [--partials DIR]\n"
            "                               [--escape html|none]\n"
            "\n"
            "Prints TEMPLATE (a Mustache file, - for standard input) rendered with DATA (a JSON\n"
            "file; standard input when omitted) exactly, with no newline added. Partial {{>name}}\n"
            "is read from DIR/name.mustache. {{x}} is HTML-escaped unless --escape none (what\n"
            "the prompt generator uses). See fewshot-template(1) and fewshot-template(7).\n");
}

static int slurp(FILE *f, const char *name, char **text, size_t *len)
{
    fewshot_text_buf buf = FEWSHOT_TEXT_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf.len + n > ((size_t)64 << 20)) {    /* /dev/zero must not fill memory */
            fewshot_text_buf_free(&buf);
            fewshot_error_set(FEWSHOT_ERANGE, "%s: larger than 64 MiB", name);
            return -1;
        }
        if (fewshot_text_buf_append(&buf, chunk, n)) {
            fewshot_text_buf_free(&buf);
            return -1;
        }
    }
    if (ferror(f)) {
        fewshot_text_buf_free(&buf);
        fewshot_error_set(FEWSHOT_EIO, "%s: read error", name);
        return -1;
    }
    *len = buf.len;
    *text = fewshot_text_buf_detach(&buf);
    return 0;
}

static int read_input(const char *path, char **text, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return slurp(stdin, "<stdin>", text, len);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fewshot_error_set(FEWSHOT_EIO, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = slurp(f, path, text, len);
    fclose(f);
    return rc;
}

static const struct option long_options[] = {
    {"partials", required_argument, NULL, 'P'},
    {"escape", required_argument, NULL, 'e'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int template_render(int argc, char **argv)
{
    const char *partials = NULL, *escape = "html", *tpath = NULL, *dpath = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (c) {
        case 'P':
            partials = optarg;
            break;
        case 'e':
            escape = optarg;
            break;
        case 'h':
            cli_template_usage(stdout);
            return EXIT_OK;
        default:
            return cli_usage_error("template render: unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    for (; optind < argc; optind++) {
        if (!tpath)
            tpath = argv[optind];
        else if (!dpath)
            dpath = argv[optind];
        else
            return cli_usage_error("template render: unexpected argument '%s'", argv[optind]);
    }
    if (!tpath)
        return cli_usage_error("template render: missing TEMPLATE");
    if (strcmp(escape, "html") != 0 && strcmp(escape, "none") != 0)
        return cli_usage_error("template render: --escape must be html or none, not '%s'",
                               escape);
    if (strcmp(tpath, "-") == 0 && (!dpath || strcmp(dpath, "-") == 0))
        return cli_usage_error("template render: TEMPLATE and DATA cannot both be standard input");

    char *text = NULL, *data_text = NULL;
    size_t len = 0, dlen = 0;
    json_t *data = NULL;
    fewshot_template *tpl = NULL;
    fewshot_text_buf out = FEWSHOT_TEXT_BUF_INIT;
    int status = EXIT_USAGE, rc;
    if (read_input(tpath, &text, &len) || read_input(dpath ? dpath : "-", &data_text, &dlen)) {
        cli_error_last();
        goto done;
    }
    json_error_t jerr;
    data = json_loadb(data_text, dlen, JSON_DECODE_ANY, &jerr);
    if (!data) {
        fewshot_error_set_at(FEWSHOT_EPARSE, dpath ? dpath : "<stdin>", jerr.line, jerr.column,
                             "%s", jerr.text);
        cli_error_last();
        goto done;
    }
    fewshot_template_options opts = FEWSHOT_TEMPLATE_OPTIONS_INIT;
    opts.name = strcmp(tpath, "-") == 0 ? "<stdin>" : tpath;
    opts.partials_dir = partials;
    opts.escape = strcmp(escape, "none") == 0 ? FEWSHOT_TEMPLATE_ESCAPE_NONE
                                              : FEWSHOT_TEMPLATE_ESCAPE_HTML;
    if ((rc = fewshot_template_new(&tpl, text, len, &opts)) != 0 ||
        (rc = fewshot_template_render(tpl, data, &out)) != 0) {
        cli_error_last();
        status = cli_exit_for(rc);
        goto done;
    }
    if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        fprintf(stderr, "fewshot: template render: write error\n");
        status = EXIT_FAILED;
        goto done;
    }
    status = EXIT_OK;
done:
    fewshot_text_buf_free(&out);
    fewshot_template_free(tpl);
    json_decref(data);
    free(text);
    free(data_text);
    return status;
}

int cli_template(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        cli_template_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "render") == 0)
        return template_render(argc - 1, argv + 1);
    return cli_usage_error("template: unknown subcommand '%s' (try render)", argv[1]);
}
