/// What the simulated guest prints on its first serial port while it
/// boots: firmware, kernel, init, and a login prompt, so a client that
/// waits for "login:" on the console sees one.
enum BootLog {
    static func text(hostname: String) -> String {
        let lines = [
            "SeaBIOS (version 1.16.2-debian-1.16.2-1)",
            "Booting from Hard Disk...",
            "[    0.000000] Linux version 6.1.0-qmpfleet (qmpfleet simulated guest)",
            "[    0.000000] Command line: console=ttyS0,115200",
            "[    0.412345] Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled",
            "[    0.413456] 00:04: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A",
            "[    1.234567] Run /sbin/init as init process",
            "[  OK  ] Reached target Multi-User System.",
            "",
            "Debian GNU/Linux 12 \(hostname) ttyS0",
            "",
        ]
        return lines.joined(separator: "\r\n") + "\r\n\(hostname) login: "
    }
}
