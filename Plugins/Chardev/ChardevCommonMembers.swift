import QMPPluginKit

/// The members every backend of the `ChardevBackend` union has, from its
/// base `ChardevCommon` (the log file), whatever the branch.
protocol ChardevCommonMembers {
    var logfile: String? { get }
    var logappend: Bool? { get }
}

extension QAPI.ChardevCommon: ChardevCommonMembers {}
extension QAPI.ChardevFile: ChardevCommonMembers {}
extension QAPI.ChardevHostdev: ChardevCommonMembers {}
extension QAPI.ChardevSocket: ChardevCommonMembers {}
extension QAPI.ChardevUdp: ChardevCommonMembers {}
extension QAPI.ChardevMux: ChardevCommonMembers {}
extension QAPI.ChardevStdio: ChardevCommonMembers {}
extension QAPI.ChardevSpiceChannel: ChardevCommonMembers {}
extension QAPI.ChardevSpicePort: ChardevCommonMembers {}
extension QAPI.ChardevQemuVDAgent: ChardevCommonMembers {}
extension QAPI.ChardevDBus: ChardevCommonMembers {}
extension QAPI.ChardevVC: ChardevCommonMembers {}
extension QAPI.ChardevRingbuf: ChardevCommonMembers {}

extension QAPI.ChardevBackend {
    /// The branch's `ChardevCommon` members (a new branch in the schema
    /// makes this switch fail to compile until it is listed).
    var common: any ChardevCommonMembers {
        switch variant {
        case .file(let w): w.data
        case .serial(let w), .parallel(let w), .pipe(let w): w.data
        case .socket(let w): w.data
        case .udp(let w): w.data
        case .pty(let w), .null(let w), .msmouse(let w), .wctablet(let w), .braille(let w), .testdev(let w), .console(let w): w.data
        case .mux(let w): w.data
        case .stdio(let w): w.data
        case .spicevmc(let w): w.data
        case .spiceport(let w): w.data
        case .qemuVdagent(let w): w.data
        case .dbus(let w): w.data
        case .vc(let w): w.data
        case .ringbuf(let w), .memory(let w): w.data
        }
    }
}
