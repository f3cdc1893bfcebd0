import Glibc
import QMPPluginKit

/// One NBD client: the fixed-newstyle handshake, the option haggling
/// (LIST, INFO, GO, EXPORT_NAME, ABORT; others are unsupported) and the
/// transmission phase with simple replies (READ, WRITE, FLUSH, DISC).
/// Non-blocking: input is parsed as it arrives (bounded by the largest
/// request), output is queued and sent when the socket takes it; while
/// output waits, no more input is read.
final class NBDConnection {
    private enum Phase { case clientFlags, options, transmission }

    static let magic: [UInt8] = Array("NBDMAGIC".utf8)
    static let optionMagic: UInt64 = 0x4948_4156_454F_5054  // "IHAVEOPT"
    static let replyMagic: UInt64 = 0x3_e889_0455_65a9
    static let requestMagic: UInt32 = 0x2560_9513
    static let simpleReplyMagic: UInt32 = 0x6744_6698
    static let flagFixedNewstyle: UInt16 = 1, flagNoZeroes: UInt16 = 2
    static let repAck: UInt32 = 1, repServer: UInt32 = 2, repInfo: UInt32 = 3
    static let repErrUnsup: UInt32 = 0x8000_0001, repErrUnknown: UInt32 = 0x8000_0006
    static let transmissionHasFlags: UInt16 = 1, transmissionReadOnly: UInt16 = 2, transmissionSendFlush: UInt16 = 4

    private let vm: PluginVM
    private var fd: Int32
    private weak var server: NBDServer?
    private var watch: FDWatchID?
    private var input: [UInt8] = []
    private var output: [UInt8] = []
    private var phase = Phase.clientFlags
    private var noZeroes = false
    private var export: (size: Int64, writable: Bool)?
    private var closeAfterFlush = false

    init(vm: PluginVM, fd: Int32, server: NBDServer) {
        self.vm = vm
        self.fd = fd
        self.server = server
    }

    deinit { shutdown() }

    func begin() {
        send(NBDConnection.magic + be64(NBDConnection.optionMagic) + be16(NBDConnection.flagFixedNewstyle | NBDConnection.flagNoZeroes))
        watch = vm.watch(fd: fd, events: [.readable]) { [weak self] events in self?.ready(events) }
        flush()
    }

    func shutdown() {
        if let watch { vm.unwatch(watch) }
        watch = nil
        if fd >= 0 { close(fd) }
        fd = -1
    }

    private func finish() {
        shutdown()
        server?.closed(self)
    }

    private func ready(_ events: FDEvents) {
        if events.contains(.writable) { flush() }
        guard fd >= 0, output.isEmpty else { return }
        if events.contains(.readable) || events.contains(.hangup) {
            readInput()
        } else if !input.isEmpty {
            processInput()  // requests held back while a reply was going out
        }
    }

    private func readInput() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0, errno == EAGAIN || errno == EINTR { return }
        guard n > 0 else { return finish() }
        input += buffer[..<n]
        processInput()
    }

    private func processInput() {
        while fd >= 0, output.isEmpty || phase != .transmission, let used = parse() {
            input.removeFirst(used)
        }
        flush()
    }

    /// Handles one complete message at the front of `input`: the bytes it
    /// used, or nil while it is incomplete.
    private func parse() -> Int? {
        switch phase {
        case .clientFlags:
            guard input.count >= 4 else { return nil }
            noZeroes = be32(input, 0) & UInt32(NBDConnection.flagNoZeroes) != 0
            phase = .options
            return 4
        case .options:
            guard input.count >= 16 else { return nil }
            let length = Int(be32(input, 12))
            guard be64(input, 0) == NBDConnection.optionMagic, length <= NBDServer.maximumOptionBytes else {
                finish()
                return nil
            }
            guard input.count >= 16 + length else { return nil }
            option(be32(input, 8), Array(input[16..<(16 + length)]))
            return 16 + length
        case .transmission:
            guard input.count >= 28 else { return nil }
            let type = be16(input, 6), handle = be64(input, 8), offset = be64(input, 16), length = be32(input, 24)
            guard be32(input, 0) == NBDConnection.requestMagic else {
                finish()
                return nil
            }
            let payload = type == 1 ? Int(length) : 0  // NBD_CMD_WRITE carries its data
            guard length <= NBDServer.maximumRequestBytes else {
                finish()
                return nil
            }
            guard input.count >= 28 + payload else { return nil }
            request(type: type, handle: handle, offset: offset, length: length)
            return 28 + payload
        }
    }

    private func option(_ option: UInt32, _ data: [UInt8]) {
        switch option {
        case 1:  // NBD_OPT_EXPORT_NAME: no reply on failure, the server just closes
            guard let found = server?.lookup(String(decoding: data, as: UTF8.self)) else {
                closeAfterFlush = true
                return
            }
            export = found
            send(be64(UInt64(found.size)) + be16(transmissionFlags(found)) + (noZeroes ? [] : [UInt8](repeating: 0, count: 124)))
            phase = .transmission
        case 2:  // NBD_OPT_ABORT
            reply(option, NBDConnection.repAck)
            closeAfterFlush = true
        case 3:  // NBD_OPT_LIST
            for name in server?.names() ?? [] {
                let bytes = Array(name.utf8)
                reply(option, NBDConnection.repServer, be32(UInt32(bytes.count)) + bytes)
            }
            reply(option, NBDConnection.repAck)
        case 6, 7:  // NBD_OPT_INFO, NBD_OPT_GO
            guard data.count >= 4, Int(be32(data, 0)) + 6 <= data.count else {
                return reply(option, 0x8000_0003, Array("option too short".utf8))  // NBD_REP_ERR_INVALID
            }
            let name = String(decoding: data[4..<(4 + Int(be32(data, 0)))], as: UTF8.self)
            guard let found = server?.lookup(name) else {
                return reply(option, NBDConnection.repErrUnknown, Array("export '\(name)' not present".utf8))
            }
            reply(option, NBDConnection.repInfo, be16(0) + be64(UInt64(found.size)) + be16(transmissionFlags(found)))
            reply(option, NBDConnection.repAck)
            if option == 7 {
                export = found
                phase = .transmission
            }
        default:
            reply(option, NBDConnection.repErrUnsup)
        }
    }

    private func request(type: UInt16, handle: UInt64, offset: UInt64, length: UInt32) {
        guard let export else { return finish() }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(length))
        let inRange = !overflow && end <= UInt64(max(0, export.size))
        switch type {
        case 0:  // NBD_CMD_READ: zeros, the simulated disk's content
            guard inRange else { return simpleReply(handle, error: 22) }
            simpleReply(handle, error: 0, data: [UInt8](repeating: 0, count: Int(length)))
        case 1:  // NBD_CMD_WRITE
            guard export.writable else { return simpleReply(handle, error: 1) }
            simpleReply(handle, error: inRange ? 0 : 28)
        case 2:  // NBD_CMD_DISC
            finish()
        case 3:  // NBD_CMD_FLUSH
            simpleReply(handle, error: 0)
        default:
            simpleReply(handle, error: 22)
        }
    }

    private func transmissionFlags(_ export: (size: Int64, writable: Bool)) -> UInt16 {
        NBDConnection.transmissionHasFlags | NBDConnection.transmissionSendFlush
            | (export.writable ? 0 : NBDConnection.transmissionReadOnly)
    }

    private func reply(_ option: UInt32, _ type: UInt32, _ data: [UInt8] = []) {
        send(be64(NBDConnection.replyMagic) + be32(option) + be32(type) + be32(UInt32(data.count)) + data)
    }

    private func simpleReply(_ handle: UInt64, error: UInt32, data: [UInt8] = []) {
        send(be32(NBDConnection.simpleReplyMagic) + be32(error) + be64(handle) + (error == 0 ? data : []))
    }

    private func send(_ bytes: [UInt8]) { output += bytes }

    /// Sends what the socket takes; watches for writability while output waits.
    private func flush() {
        while fd >= 0, !output.isEmpty {
            let n = output.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { break }
                return finish()
            }
            output.removeFirst(n)
        }
        guard fd >= 0, let watch else { return }
        if output.isEmpty, closeAfterFlush { return finish() }
        vm.updateWatch(watch, events: output.isEmpty ? [.readable] : [.writable])
    }
}

private func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
private func be32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
private func be64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * $0)) } }
private func be16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
private func be32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(b[at + $1]) } }
private func be64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 << 8 | UInt64(b[at + $1]) } }
