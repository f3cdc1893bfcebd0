/*
 * qmp_plugin.h: the qmpfleet device-plugin ABI, version 2 (the host loads
 * plugins built for version 1 too).
 *
 * This header is the only contract between the qmpfleet host and a plugin.
 * It is plain C99 so that a plugin can be written in C, Swift (see the
 * QMPPluginKit module) or any language with a C ABI, and built out of tree:
 *
 *     cc -shared -fPIC -fvisibility=hidden -I<qmpfleet>/Sources/QMPPluginABI/include \
 *        my_plugin.c -o libqmp-myplugin.so
 *
 * Life cycle
 * ----------
 * 1. The host dlopen()s the library and calls qmp_plugin_entry(). It returns a
 *    static descriptor; nothing else may happen in it.
 * 2. The host checks descriptor->abi_version (QMP_PLUGIN_ABI_MIN_VERSION to
 *    QMP_PLUGIN_ABI_VERSION; the host's table says the same version) and
 *    descriptor->struct_size, then calls init() once per process with a
 *    registration context. init() declares the plugin's QAPI schema (commands,
 *    events, types), binds command handlers, and registers device drivers, QOM
 *    object types and guest actions. The context is valid only during init().
 * 3. For every VM that lists the plugin, the host calls vm_create() with the
 *    plugin's section of that VM's configuration. The returned instance pointer
 *    is handed back to every handler for that VM. vm_destroy() ends it; the
 *    host has already cancelled the instance's timers and pending requests.
 *
 * Threading: every call into a plugin for one VM happens on that VM's loop
 * thread, one at a time, and every host function must be called on that thread
 * from inside a callback. Instance state therefore needs no locks. The host
 * refuses a call made from any other thread (a function that returns a
 * value returns its failure value: 0, -1 or NULL; the others do nothing) and
 * logs it, and it refuses a call through a handle whose VM has ended: the
 * handle is a number the host looks up, never a pointer it follows. Work that
 * must not run on the loop (file I/O) goes to work_queue(), fd_transfer()
 * and, for a path a client named, open_file_async(). A plugin
 * must not keep per-VM state in globals: the same library serves many VMs,
 * and a fleet runs its VMs on several loop threads at once, so any state a
 * library shares between VMs must be immutable or locked by the plugin. A
 * request answered from another thread than its VM's is ignored (and times
 * out).
 *
 * Values cross the boundary as UTF-8 JSON text (not NUL-terminated unless said
 * so; lengths are given). Strings returned by the host stay valid until the
 * callback that received them returns, unless documented otherwise.
 *
 * Text a plugin gives the host (reply(), emit_event()) that is already in
 * QEMU's form (no whitespace but ": " and ", ", object members in QEMU's
 * QDict order, control and non-ASCII characters as uppercase \uXXXX and no
 * other escapes but \" \\ \b \f \n \r \t) is copied into the client's line as
 * it is; other valid JSON is parsed and rewritten in that form (slower).
 *
 * Requests: a command handler gets a qmp_request token and must answer it
 * exactly once with reply() or reply_error(), either before it returns or later
 * (from a timer, for commands that complete asynchronously). A second answer is
 * ignored with a logged warning; a request never answered gets a GenericError
 * after the host's configured timeout. Answering a request whose client has
 * gone is harmless.
 */
#ifndef QMP_PLUGIN_H
#define QMP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * The ABI version this header describes. Bumped on incompatible change.
 * Version 2 changed what a command handler's args_json holds (see
 * qmp_command_fn): a plugin built for version 1 gets what it always got.
 */
#define QMP_PLUGIN_ABI_VERSION 2u

/** The oldest version the host still loads. */
#define QMP_PLUGIN_ABI_MIN_VERSION 1u

/**
 * Compatible additions within a version: members appended to qmp_host_api.
 * Revision 2 added the live-migration members (vm_save_device_state to
 * vm_exit), revision 3 work_queue, revision 4 fd_transfer, revision 5
 * device_realized, revision 6 request_qom_path, revision 7 open_file_async,
 * revision 8 register_hmp_info, revision 9 vm_machine_json_shared and
 * vm_vcpu_thread_ids. A plugin built against a later header checks
 * QMP_HOST_HAS(host, member) before it calls a member a revision added; one
 * built against an earlier header never sees them.
 */
#define QMP_PLUGIN_ABI_REVISION 9u

/** True when the host's table is long enough to hold member. */
#define QMP_HOST_HAS(host, member) \
    ((host)->struct_size >= offsetof(qmp_host_api, member) + sizeof((host)->member) && (host)->member != NULL)

/** The symbol every plugin exports. */
#define QMP_PLUGIN_ENTRY_SYMBOL "qmp_plugin_entry"

/** An opaque handle for one VM, owned by the host. */
typedef struct qmp_vm qmp_vm;

/** An opaque registration context, valid only during init(). */
typedef struct qmp_plugin_ctx qmp_plugin_ctx;

/** A token for one pending request. Not a pointer to anything: never dereference it. */
typedef uint64_t qmp_request;

/** A token for one timer; 0 means "no timer". */
typedef uint64_t qmp_timer;

/** QMP error classes, as QEMU names them on the wire. */
typedef enum qmp_error_class {
    QMP_ERROR_GENERIC = 0,           /* "GenericError" */
    QMP_ERROR_COMMAND_NOT_FOUND = 1, /* "CommandNotFound" */
    QMP_ERROR_DEVICE_NOT_ACTIVE = 2, /* "DeviceNotActive" */
    QMP_ERROR_DEVICE_NOT_FOUND = 3,  /* "DeviceNotFound" */
    QMP_ERROR_KVM_MISSING_CAP = 4    /* "KVMMissingCap" */
} qmp_error_class;

typedef enum qmp_log_level {
    QMP_LOG_DEBUG = 0,
    QMP_LOG_INFO = 1,
    QMP_LOG_WARNING = 2,
    QMP_LOG_ERROR = 3
} qmp_log_level;

/**
 * A command handler, and also a guest-action handler.
 * args_json is the request's "arguments" object (or "{}"), already checked
 * against the command's QAPI declaration by the host, NUL-terminated
 * (args_len does not count the NUL). In a plugin built for ABI 2 it is the
 * object as the client sent it (its member order and whitespace) whenever
 * the host's parser read the request on its fast path (standard JSON that
 * means the same to any parser: no string escapes, no floats); otherwise,
 * and always for a guest action and in a plugin built for ABI 1, it is the
 * host's text in QEMU's form (members in QDict order, ": " and ", ").
 * user_data is what the plugin gave when it bound the handler (lets one
 * function serve several commands, as language SDKs do).
 */
typedef void (*qmp_command_fn)(void *instance, qmp_request req,
                               const char *args_json, size_t args_len,
                               void *user_data);

/** A timer callback. */
typedef void (*qmp_timer_fn)(void *instance, void *opaque);

/**
 * Work for work_queue(): runs on a worker thread, where it may block (file
 * I/O) but must not call any host function.
 */
typedef void (*qmp_work_fn)(void *opaque);
/**
 * Runs on the VM's loop thread once the work is done, with the plugin's
 * instance; instance is NULL when the VM ended meanwhile (free what opaque
 * holds, touch nothing else).
 */
typedef void (*qmp_work_done_fn)(void *instance, void *opaque);

/**
 * Runs on the VM's loop thread when an fd_transfer() ends, with the bytes
 * moved (all of a write; a read's, up to the end of file) or -errno;
 * instance is NULL (result -ECANCELED) when the VM ended first.
 */
typedef void (*qmp_transfer_done_fn)(void *instance, long result, void *opaque);

/**
 * Runs on the VM's loop thread when an open_file_async() ends: fd is the
 * descriptor, now the plugin's, or -1 with QEMU's error text in err
 * (NUL-terminated, valid during the call). instance is NULL (fd -1) when
 * the VM or the request the open served ended first: the host has closed
 * the descriptor; free what opaque holds and touch nothing else.
 */
typedef void (*qmp_open_done_fn)(void *instance, int fd, const char *err, void *opaque);

/** Directions for fd_transfer(). */
#define QMP_TRANSFER_READ 0
#define QMP_TRANSFER_WRITE 1

/** Readiness bits for fd_watch(). */
#define QMP_FD_READABLE 1
#define QMP_FD_WRITABLE 2
#define QMP_FD_HANGUP 4

/** An fd-readiness callback: events is a mix of QMP_FD_* bits. */
typedef void (*qmp_fd_fn)(void *instance, int fd, int events, void *opaque);

/**
 * Receives saved device state (live migration): json is UTF-8 JSON text of
 * len bytes, valid only during the call. Called at most once per save.
 */
typedef void (*qmp_state_sink)(void *opaque, const char *json, size_t len);

/**
 * A device driver for device_add / device_del.
 *
 * description_json is an object:
 *   {"name": "virtio-blk-pci", "parent": "virtio-blk-pci-base",
 *    "bus": "PCI", "hotpluggable": true, "user-creatable": true,
 *    "properties": [{"name": "drive", "type": "str", "description": "..."}, ...]}
 * The host rejects unknown property names with QEMU's error and takes care of
 * "id" and "bus"; add() gets the remaining properties as a JSON object and the
 * id (NULL when the client gave none).
 *
 * add() answers req; on success the device exists from the host's point of
 * view (qom path /machine/peripheral/<id>, or peripheral-anon). del() answers
 * req and, when the simulated guest has released the device (now or later),
 * calls host->device_deleted(), which emits DEVICE_DELETED and forgets it.
 */
typedef struct qmp_device_driver {
    const char *description_json;
    void (*add)(void *instance, qmp_request req, const char *id,
                const char *props_json, size_t props_len, void *user_data);
    void (*del)(void *instance, qmp_request req, const char *id, void *user_data);
    void *user_data;
} qmp_device_driver;

/**
 * A user-creatable QOM object type for object-add / object-del, e.g.
 * memory-backend-ram. description_json as for devices (no "bus").
 * del() answers req; refusing (object in use) is an error reply.
 */
typedef struct qmp_object_type {
    const char *description_json;
    void (*add)(void *instance, qmp_request req, const char *id,
                const char *props_json, size_t props_len, void *user_data);
    void (*del)(void *instance, qmp_request req, const char *id, void *user_data);
    void *user_data;
} qmp_object_type;

/** The host's function table. Check struct_size before using a later member. */
typedef struct qmp_host_api {
    uint32_t abi_version;
    uint32_t struct_size;

    /* --- registration: only during init(), with its ctx; 0 on success, -1 on error --- */

    /**
     * Declares QAPI expressions: schema_json is a JSON array of QAPI
     * expressions in QEMU's JSON form, e.g.
     * [{"command": "block_resize", "data": {"*device": "str", "size": "int"}}].
     * Commands, events, structs, enums, unions and alternates may be declared.
     */
    int (*declare_schema)(qmp_plugin_ctx *ctx, const char *schema_json, size_t len);
    /** Binds a handler (and its user_data) to a command the plugin declared. */
    int (*bind_command)(qmp_plugin_ctx *ctx, const char *name, qmp_command_fn fn,
                        void *user_data);
    int (*register_device_driver)(qmp_plugin_ctx *ctx, const qmp_device_driver *driver);
    int (*register_object_type)(qmp_plugin_ctx *ctx, const qmp_object_type *type);
    /**
     * A guest action: something the simulated guest does on its own (eject
     * from inside, write to a disk). Driven from the fleet control socket's
     * guest-action command, never from the VM's QMP socket. args_schema_json is
     * a QAPI "data" member map, e.g. {"device": "str", "*bytes": "int"}.
     */
    int (*register_guest_action)(qmp_plugin_ctx *ctx, const char *name,
                                 const char *args_schema_json, qmp_command_fn fn,
                                 void *user_data);

    /* --- answering requests --- */

    /** Success: result_json is the value of "return" (an object or array). */
    void (*reply)(qmp_request req, const char *result_json, size_t len);
    /** Failure with a QMP error class and QEMU's description text. */
    void (*reply_error)(qmp_request req, qmp_error_class cls, const char *desc);

    /* --- events --- */

    /**
     * Emits an event the plugin declared, to every negotiated client of vm.
     * data_json is the "data" object, or NULL for an event without members.
     * QEMU's rate limits apply. Undeclared events are dropped with a warning.
     */
    void (*emit_event)(qmp_vm *vm, const char *name, const char *data_json, size_t len);

    /* --- time --- */

    /** Milliseconds on the VM's clock (virtual in tests). */
    uint64_t (*now_ms)(qmp_vm *vm);
    /** Starts a timer; repeat_ms 0 means one-shot. Returns 0 on failure. */
    qmp_timer (*timer_start)(qmp_vm *vm, uint64_t delay_ms, uint64_t repeat_ms,
                             qmp_timer_fn fn, void *opaque);
    void (*timer_cancel)(qmp_vm *vm, qmp_timer timer);

    /* --- the VM --- */

    /** The VM's name (NUL-terminated, valid for the VM's lifetime). */
    const char *(*vm_name)(qmp_vm *vm);
    /** QEMU's RunState name: "prelaunch", "running", "paused", "shutdown", ... */
    const char *(*vm_run_state)(qmp_vm *vm);
    /**
     * The VM's machine description as a JSON object (NUL-terminated, valid for
     * the VM's lifetime): {"type": "pc-i440fx-7.2", "arch": "x86_64",
     * "ram-size": 1073741824, "smp": {...}, "qemu-version": {...}}.
     */
    const char *(*vm_machine_json)(qmp_vm *vm);
    /**
     * Stops the VM as QEMU does on its own (e.g. reason "io-error" for a disk
     * with werror=stop): run state "paused"/"io-error", STOP event.
     */
    void (*vm_stop)(qmp_vm *vm, const char *reason);
    /** Tells the host the guest released device id: DEVICE_DELETED follows. */
    void (*device_deleted)(qmp_vm *vm, const char *id);

    /**
     * Opens a file the way QEMU opens one a client names: a plain path (only
     * a regular file beneath one of the fleet's allowed directories, no
     * symlinks, opened O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, created 0600 at
     * most: a FIFO or device is ENXIO, a directory EISDIR), "/dev/fdset/N" (dup of an fd in
     * that fd set) or "fd:NAME" (a descriptor passed with getfd; ownership
     * moves to the caller). Returns an fd, or -1 with QEMU's error text in err.
     */
    int (*open_file)(qmp_vm *vm, const char *path, int flags, int mode,
                     char *err, size_t err_len);

    void (*log)(qmp_vm *vm, qmp_log_level level, const char *message);

    /* --- file descriptors on the VM's loop --- */

    /**
     * Calls fn whenever fd is ready for the QMP_FD_* events asked for, on
     * the VM's loop thread (for real chardev sockets and ptys). The fd must
     * be non-blocking and stays the plugin's; unwatch before closing it.
     * Returns 0 on failure. Watches end with the instance.
     */
    uint64_t (*fd_watch)(qmp_vm *vm, int fd, int events, qmp_fd_fn fn, void *opaque);
    /** Changes the events of a watch (e.g. add QMP_FD_WRITABLE while output is queued). */
    void (*fd_watch_update)(qmp_vm *vm, uint64_t watch, int events);
    void (*fd_unwatch)(qmp_vm *vm, uint64_t watch);

    /*
     * --- live migration (added to ABI 1 later: a plugin checks
     * struct_size > offsetof(qmp_host_api, vm_save_device_state) first) ---
     * What a migration plugin needs of the host to move a VM: every
     * plugin's device state out and in, and QEMU's migration run states.
     */

    /**
     * Saves the VM's device state: one JSON object
     * {"version": 1, "plugins": {"<name>": <that plugin's vm_save_state>},
     *  "host": {...the host's qdev/QOM bookkeeping of those plugins...}},
     * given to sink. Plugins without vm_save_state migrate nothing of their
     * own and are absent. Returns 0, or -1 (a plugin failed; nothing sunk).
     */
    int (*vm_save_device_state)(qmp_vm *vm, qmp_state_sink sink, void *sink_opaque);
    /**
     * Loads what vm_save_device_state produced on another VM (or process):
     * each listed plugin's vm_load_state, and the host's bookkeeping of
     * that plugin's devices and objects. A listed plugin this VM lacks, or
     * one without vm_load_state, is an error (QEMU: an unknown section).
     * Returns 0, or -1 with a message in err.
     */
    int (*vm_load_device_state)(qmp_vm *vm, const char *json, size_t len, char *err, size_t err_len);
    /**
     * Moves the VM to RunState state the way QEMU's migration code does:
     * leaving "running" sends STOP (vm_stop_force_state), entering it sends
     * RESUME (vm_start), any other change is silent (runstate_set).
     * Returns 0, or -1 for a name that is not a RunState.
     */
    int (*vm_set_run_state)(qmp_vm *vm, const char *state);
    /**
     * QEMU's `autostart`: 1 when the VM starts by itself once an incoming
     * migration completes (no -S, or `cont` while in "inmigrate"), else 0.
     */
    int (*vm_autostart)(qmp_vm *vm);
    /**
     * Ends the VM as a QEMU process that exits: its clients are closed and
     * its socket goes (an incoming migration that fails ends QEMU 7.2).
     * Takes effect after the current callback returns.
     */
    void (*vm_exit)(qmp_vm *vm);

    /* --- revision 3 (check QMP_HOST_HAS(host, work_queue)) --- */

    /**
     * Runs work(opaque) on a worker thread of the host's pool, then
     * done(instance, opaque) on the VM's loop thread: for file I/O, which
     * must never block a loop that serves other VMs. Returns 0, or -1 (then
     * neither runs). In an in-process test fleet without a loop both run
     * before work_queue returns. It may be called from vm_destroy too, for
     * cleanup on a path a client named (removing a socket file): the work
     * runs, and done gets a NULL instance.
     */
    int (*work_queue)(qmp_vm *vm, qmp_work_fn work, qmp_work_done_fn done, void *opaque);

    /* --- revision 4 (check QMP_HOST_HAS(host, fd_transfer)) --- */

    /**
     * Writes all len bytes of buf to fd, or reads up to len bytes into buf
     * (fewer only at the end of file), then done(instance, result, opaque)
     * on the VM's loop thread. For a descriptor a client may have passed:
     * a pipe it never drains must hold no thread, and work_queue would hold
     * one of the pool every VM of the process shares. A regular file or
     * block device is moved on the pool; a pipe, FIFO, socket or device on
     * the loop, each call non-blocking, as it becomes ready; a transfer
     * that moves nothing for the host's fd-stall-ms ends with -EAGAIN. fd
     * and buf stay the plugin's and must stay valid until done runs.
     * Returns 0, or -1 (then done does not run).
     */
    int (*fd_transfer)(qmp_vm *vm, int fd, int direction, void *buf, size_t len,
                       qmp_transfer_done_fn done, void *opaque);

    /* --- revision 5 (check QMP_HOST_HAS(host, device_realized)) --- */

    /**
     * A device the plugin's config created (QEMU's command-line -device,
     * cold-plugged) exists for the host too, as one device_add made would:
     * it is in qom-list and x-query-virtio, device_del reaches the plugin's
     * del() with its id, and a driver on the "PCI" bus takes its slot on
     * the VM's root bus (props_json, a JSON object of its properties, may
     * name "addr", "multifunction" and "bus"). Only during vm_create, for a
     * driver the plugin registered. Returns 0, or -1 with QEMU's error in
     * err (a duplicate id, a taken slot); the plugin then fails vm_create.
     */
    int (*device_realized)(qmp_vm *vm, const char *driver, const char *id,
                           const char *props_json, size_t len, char *err, size_t err_len);

    /* --- revision 6 (check QMP_HOST_HAS(host, request_qom_path)) --- */

    /**
     * The QOM path the host assigned to the device that the pending add()
     * request req creates: "/machine/peripheral/ID", or without an id
     * "/machine/peripheral-anon/device[N]". The host owns the numbering
     * because QEMU numbers anonymous devices of every driver, of every
     * plugin, in one sequence, and a device_add that fails after its
     * properties were read still uses its number. NULL when req is not a
     * device driver's add() (an object type's add(), a command) or was
     * already answered. The string stays valid until req is answered.
     */
    const char *(*request_qom_path)(qmp_request req);

    /* --- revision 7 (check QMP_HOST_HAS(host, open_file_async)) --- */

    /**
     * open_file() without blocking the loop: the kernel ignores O_NONBLOCK
     * for the lookup and open of a file on FUSE or NFS, so a mount whose
     * server hangs would hold every VM of the loop for as long as the
     * open waits. The host applies open_file()'s policy (allowed
     * directories, resolved beneath them, O_NONBLOCK | O_NOFOLLOW |
     * O_CLOEXEC, regular files only, created 0600 at most) on a worker
     * thread, then calls done on the VM's loop thread. req is the request
     * the open serves (0: none): when it was answered, timed out or
     * cancelled before the open ends, or the VM ended, the host closes the
     * descriptor and calls done with a NULL instance. "fd:NAME" and
     * "/dev/fdset/N" touch no path: they are taken at once, and done runs
     * before open_file_async returns (as both always do in an in-process
     * test fleet without a loop), except an fd set's descriptor the open
     * truncates (O_TRUNC, or O_CREAT | O_EXCL, as qemu_open): ftruncate
     * waits on a file of a hung mount as an open does, so it is truncated
     * on a worker and done runs later. Returns 0, or -1 (a refused call: then
     * done does not run).
     */
    int (*open_file_async)(qmp_vm *vm, qmp_request req, const char *path, int flags, int mode,
                           qmp_open_done_fn done, void *opaque);

    /* --- revision 8 (check QMP_HOST_HAS(host, register_hmp_info)) --- */

    /**
     * An HMP `info` command the plugin prints (`info network`: QEMU prints
     * it by walking its net clients, which are the plugin's), for
     * human-monitor-command. Only during init(), with its ctx. fn is called
     * as a command handler, with "{}", on the VM's instance; it answers
     * with reply() and a JSON string, the text (lines end in "\n"; the host
     * makes them the monitor's "\r\n"). Not a QMP command: clients cannot
     * call it by name. Returns 0, or -1 (no name, no fn, registered twice).
     */
    int (*register_hmp_info)(qmp_plugin_ctx *ctx, const char *name, qmp_command_fn fn, void *user_data);

    /* --- revision 9 (check QMP_HOST_HAS(host, vm_machine_json_shared)) --- */

    /**
     * The VM's machine description as vm_machine_json gives it, but with an
     * empty "vcpu-thread-ids" array: one text for every VM of the same kind
     * of machine (NUL-terminated, valid for the VM's lifetime). The ids come
     * from vm_vcpu_thread_ids. vm_machine_json's text is the VM's own, made
     * at its first call and kept as long as the VM: a plugin that reads these
     * two instead spares the host that copy (a few hundred bytes of every VM).
     */
    const char *(*vm_machine_json_shared)(qmp_vm *vm);
    /**
     * The host thread ids of the VM's vCPUs, vm_machine_json's
     * "vcpu-thread-ids" (one per possible vCPU, in order): writes at most
     * capacity of them to ids and returns how many the VM has (0 for a call
     * that is refused). capacity 0 (ids may be NULL) asks the count.
     */
    size_t (*vm_vcpu_thread_ids)(qmp_vm *vm, int64_t *ids, size_t capacity);
} qmp_host_api;

/** What qmp_plugin_entry() returns. Static storage; the host never frees it. */
typedef struct qmp_plugin_descriptor {
    uint32_t abi_version; /* QMP_PLUGIN_ABI_VERSION the plugin was built against */
    uint32_t struct_size; /* sizeof(qmp_plugin_descriptor) */
    const char *name;     /* e.g. "block" */
    const char *version;  /* the plugin's own version, e.g. "1.0.0" */

    /** Registers everything. Returns 0, or -1 with a message in err. */
    int (*init)(const qmp_host_api *host, qmp_plugin_ctx *ctx, char *err, size_t err_len);
    /**
     * Creates the plugin's state for one VM from config_json (its section of
     * the VM's config, an object). Returns 0 and sets *instance, or -1 with a
     * message in err (the VM then does not start).
     */
    int (*vm_create)(qmp_vm *vm, const char *config_json, size_t config_len,
                     void **instance, char *err, size_t err_len);
    /** Frees the instance. */
    void (*vm_destroy)(void *instance);
    /** Optional (may be NULL): the VM's run state changed to new_state. */
    void (*run_state_changed)(void *instance, const char *new_state);
    /**
     * Optional (may be NULL): the machine was reset (system_reset, a guest
     * reboot). Devices return to their power-on state; the guest boots again.
     */
    void (*reset)(void *instance);

    /*
     * --- live migration (added to ABI 1 later; the host reads these only
     * when struct_size covers them, so older plugins still load) ---
     */

    /**
     * Optional (may be NULL: the plugin migrates nothing of its own): the
     * instance's device state as JSON text, given to sink once. The text is
     * the plugin's own versioned format ({"version": N, ...} is advised): a
     * newer plugin must load what an older one saved. Returns 0, or -1.
     */
    int (*vm_save_state)(void *instance, qmp_state_sink sink, void *sink_opaque);
    /**
     * Optional: replaces the instance's device state with what
     * vm_save_state of the same plugin saved on the source VM. Returns 0,
     * or -1 with a message in err (the incoming migration then fails).
     */
    int (*vm_load_state)(void *instance, const char *json, size_t len, char *err, size_t err_len);
} qmp_plugin_descriptor;

/** The descriptor size of plugins built before the migration members. */
#define QMP_PLUGIN_DESCRIPTOR_BASE_SIZE offsetof(qmp_plugin_descriptor, vm_save_state)

/** The one exported symbol. */
typedef const qmp_plugin_descriptor *(*qmp_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* QMP_PLUGIN_H */
