/*
 * hello.c: a complete qmpfleet device plugin in plain C, built out of tree
 * with nothing but the ABI header:
 *
 *   cc -shared -fPIC -fvisibility=hidden -I <qmpfleet>/Sources/QMPPluginABI/include \
 *      hello.c -o libqmp-hello.so
 *
 * It is built against ABI 2 (QMP_PLUGIN_ABI_VERSION): a command handler gets
 * the request's arguments as the client sent them.
 *
 * It adds one command, one event and one guest action:
 *   -> {"execute": "x-hello", "arguments": {"name": "world"}}
 *   <- {"return": {"greeting": "hello, world", "count": 1}}
 * and the guest action "wave" (from the fleet control socket) emits HELLO_WAVED
 * to every client of the VM.
 */
#include <qmp_plugin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

static const qmp_host_api *host;

/* Per-VM state: the host gives each VM its own instance. */
struct hello_vm {
    qmp_vm *vm;
    long count;
};

static const char schema[] =
    "["
    " {\"struct\": \"HelloInfo\", \"data\": {\"greeting\": \"str\", \"count\": \"int\"}},"
    " {\"command\": \"x-hello\", \"data\": {\"*name\": \"str\"}, \"returns\": \"HelloInfo\"},"
    " {\"event\": \"HELLO_WAVED\", \"data\": {\"count\": \"int\"}}"
    "]";

/*
 * Finds the string member "name" in the arguments. Built for ABI 2, the
 * plugin gets the object as the client sent it (any spacing, any member
 * order; the host has checked it against the schema, so "name" is a string
 * if present), so this skips JSON whitespace instead of expecting "name": ".
 * A name with an escape is refused by the caller; enough for a demo (a real
 * plugin would use a JSON parser).
 */
static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
        p++;
    }
    return p;
}

static void copy_name(const char *args, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s", "world");
    const char *p = args;
    while ((p = strstr(p, "\"name\"")) != NULL) {
        const char *colon = skip_space(p + strlen("\"name\""));
        p += strlen("\"name\"");
        if (*colon != ':') {
            continue; /* "name" was a value, not a key */
        }
        const char *value = skip_space(colon + 1);
        if (*value != '"') {
            continue;
        }
        value++;
        size_t n = 0;
        while (value[n] && value[n] != '"' && n + 1 < out_len) {
            n++;
        }
        memcpy(out, value, n);
        out[n] = '\0';
        return;
    }
}

static void hello_cmd(void *instance, qmp_request req, const char *args, size_t len, void *user_data)
{
    (void)len;
    (void)user_data;
    struct hello_vm *s = instance;
    char name[64], reply[160];
    copy_name(args, name, sizeof(name));
    if (strchr(name, '\\')) {
        host->reply_error(req, QMP_ERROR_GENERIC, "Parameter 'name' must be a plain name");
        return;
    }
    s->count++;
    snprintf(reply, sizeof(reply), "{\"greeting\": \"hello, %s\", \"count\": %ld}", name, s->count);
    host->reply(req, reply, strlen(reply));
}

static void wave_action(void *instance, qmp_request req, const char *args, size_t len, void *user_data)
{
    (void)args;
    (void)len;
    (void)user_data;
    struct hello_vm *s = instance;
    char data[64];
    snprintf(data, sizeof(data), "{\"count\": %ld}", s->count);
    host->emit_event(s->vm, "HELLO_WAVED", data, strlen(data));
    host->reply(req, "{}", 2);
}

static int hello_init(const qmp_host_api *api, qmp_plugin_ctx *ctx, char *err, size_t err_len)
{
    if (api->abi_version != QMP_PLUGIN_ABI_VERSION || api->struct_size < sizeof(qmp_host_api)) {
        snprintf(err, err_len, "host ABI %u is not %u", api->abi_version, QMP_PLUGIN_ABI_VERSION);
        return -1;
    }
    host = api;
    if (api->declare_schema(ctx, schema, strlen(schema)) != 0 ||
        api->bind_command(ctx, "x-hello", hello_cmd, NULL) != 0 ||
        api->register_guest_action(ctx, "wave", "{}", wave_action, NULL) != 0) {
        snprintf(err, err_len, "registration failed");
        return -1;
    }
    return 0;
}

static int hello_vm_create(qmp_vm *vm, const char *config, size_t len, void **instance, char *err, size_t err_len)
{
    (void)config;
    (void)len;
    struct hello_vm *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    s->vm = vm;
    *instance = s;
    return 0;
}

static void hello_vm_destroy(void *instance)
{
    free(instance);
}

static const qmp_plugin_descriptor descriptor = {
    .abi_version = QMP_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(qmp_plugin_descriptor),
    .name = "hello",
    .version = "1.0.0",
    .init = hello_init,
    .vm_create = hello_vm_create,
    .vm_destroy = hello_vm_destroy,
    .run_state_changed = NULL,
};

EXPORT const qmp_plugin_descriptor *qmp_plugin_entry(void)
{
    return &descriptor;
}
