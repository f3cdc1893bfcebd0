/// Where a VM serves QMP. A fleet VM has one socket in the fleet's socket
/// directory; a VM started by `qmpfleet-emulator` has the monitors of its
/// QEMU command line: `-qmp unix:PATH,...` (a socket we create) or, as
/// libvirt starts domains, `-chardev socket,fd=N,...` with `-mon` (a
/// listening socket the parent already made and passed down).
public enum MonitorSpec: Sendable, Equatable {
    /// A socket file we create and listen on.
    case path(String)
    /// An inherited descriptor that is already a listening unix socket.
    case listeningFD(Int32)
}
