/// One option of a QEMU command line: `-name guest=x` is ("name", "guest=x").
struct QEMUOption: Equatable {
    let name: String
    let value: String?

    /// QEMU options that take no argument (`qemu-options.def` entries
    /// without `HAS_ARG`) among those management software passes. An
    /// option not listed here and not known to take one takes the next
    /// word as its argument unless that word starts with `-`.
    static let flags: Set<String> = [
        "S", "s", "daemonize", "nodefaults", "no-user-config", "nographic", "no-shutdown", "no-reboot",
        "no-acpi", "no-hpet", "enable-kvm", "snapshot", "version", "help", "h", "preconfig", "full-screen",
        "no-fd-bootchk", "nodefconfig", "no-kvm", "only-migratable", "enable-fips", "no-quit",
        "semihosting", "win2k-hack", "no-frame", "alt-grab", "ctrl-grab", "no-graphic", "curses",
        "old-param", "writeconfig", "watchdog-action",
    ]

    /// Splits `arguments` (without the program name) as QEMU's
    /// `lookup_opt` does: `-opt` or `--opt`, then its argument if it takes one.
    static func parse(_ arguments: [String]) throws(EmulatorError) -> [QEMUOption] {
        var options: [QEMUOption] = []
        var i = 0
        while i < arguments.count {
            let word = arguments[i]
            i += 1
            guard word.hasPrefix("-"), word.count > 1 else {
                // QEMU takes a lone word as the disk image (`-hda`).
                options.append(QEMUOption(name: "hda", value: word))
                continue
            }
            let name = String(word.drop(while: { $0 == "-" }))
            // "watchdog-action" takes an argument in QEMU; kept in `flags`
            // only so an argument-less use never swallows the next option.
            if flags.contains(name) && name != "watchdog-action" {
                options.append(QEMUOption(name: name, value: nil))
                continue
            }
            guard i < arguments.count, !(arguments[i].hasPrefix("-") && arguments[i].count > 1 && !Self.isNumber(arguments[i])) else {
                if flags.contains(name) {
                    options.append(QEMUOption(name: name, value: nil))
                    continue
                }
                throw EmulatorError("-\(name): requires an argument")
            }
            options.append(QEMUOption(name: name, value: arguments[i]))
            i += 1
        }
        return options
    }

    private static func isNumber(_ word: String) -> Bool {
        word.dropFirst().allSatisfy(\.isNumber)
    }
}
