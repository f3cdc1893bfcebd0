/// Which backend kinds a VM lists in `query-chardev-backends`, and in
/// which order.
///
/// QEMU 7.2 lists the `chardev-*` classes it has registered, in its type
/// table's hash order (`object_class_foreach`), not sorted. Debian's build
/// keeps four backends in loadable modules (`ui-dbus`, `chardev-spice`,
/// `chardev-baum`), whose classes exist only once the module is loaded:
/// a fresh QEMU lists 17 kinds, and a `chardev-add` or `chardev-change` of
/// a module's kind loads it (even when the add then fails), after which
/// its kinds are listed too, in their place in the same order. Checked
/// against qemu-system-x86_64 7.2 on this machine.
enum ChardevKinds {
    /// Every kind served, in QEMU's listing order with all modules loaded.
    static let listingOrder = ["testdev", "pty", "wctablet", "serial", "file", "memory", "udp", "dbus", "parallel", "vc",
                               "spiceport", "braille", "socket", "msmouse", "null", "qemu-vdagent", "pipe", "mux",
                               "spicevmc", "ringbuf", "stdio"]

    /// The module that provides each kind QEMU does not have built in.
    static let modules: [String: String] = [
        "dbus": "ui-dbus", "spicevmc": "chardev-spice", "spiceport": "chardev-spice", "braille": "chardev-baum",
    ]

    static func isServed(_ kind: String) -> Bool { listingOrder.contains(kind) }

    /// The kinds listed while `loaded` modules are loaded.
    static func listed(loaded: Set<String>) -> [String] {
        listingOrder.filter { modules[$0].map(loaded.contains) ?? true }
    }
}
