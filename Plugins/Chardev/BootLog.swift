/// What the simulated guest prints on its first serial port while it
/// boots: firmware, kernel, init, and a login prompt, so a client that
/// waits for "login:" on the console sees one.
///
/// Every VM with a serial console prints it once when it first runs, so
/// the text is kept as bytes around the two places the hostname goes:
/// building it from lines joined as Strings was 14 k instructions a VM,
/// 5 % of making one.
enum BootLog {
    /// Everything before the hostname on the `issue` line.
    private static let beforeHostname: [UInt8] = Array((lines.joined(separator: "\r\n") + "\r\n\r\nDebian GNU/Linux 12 ").utf8)
    /// Between the `issue` line's hostname and the login prompt's.
    private static let betweenHostnames: [UInt8] = Array(" ttyS0\r\n\r\n".utf8)
    private static let afterHostname: [UInt8] = Array(" login: ".utf8)

    private static let lines = [
        "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
        "Booting from Hard Disk...",
        "[    0.000000] Linux version 6.1.0-qmpfleet (qmpfleet simulated guest)",
        "[    0.000000] Command line: console=ttyS0,115200",
        "[    0.412345] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled",
        "[    0.413456] 00:04: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
        "[    1.234567] Run /sbin/init as init process",
        "[  OK  ] Reached target Multi-User System.",
    ]

    static func bytes(hostname: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(beforeHostname.count + betweenHostnames.count + afterHostname.count + 2 * hostname.utf8.count)
        bytes.append(contentsOf: beforeHostname)
        bytes.append(contentsOf: hostname.utf8)
        bytes.append(contentsOf: betweenHostnames)
        bytes.append(contentsOf: hostname.utf8)
        bytes.append(contentsOf: afterHostname)
        return bytes
    }
}
