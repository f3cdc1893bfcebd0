import FleetCore
import QMPFleetTesting
import QMPWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `fds-per-vm`: `getfd` and `add-fd` together keep at most that many
/// descriptors per VM, so one client passing an fd again and again cannot
/// use up the process's descriptors.
@Suite struct FDCommandsLimitTests {
    /// A fresh descriptor, as a client passing one would give the VM.
    func passed() -> Int32 { dup(2) }

    /// A pipe's write end to pass, and its read end, which sees EOF once
    /// the VM has closed the write end. Not the fd's number: tests run in
    /// parallel, and another one may get the same number the moment it is free.
    func passedPipe() -> (fd: Int32, reader: Int32) {
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        _ = fcntl(ends[0], F_SETFL, O_NONBLOCK)
        return (ends[1], ends[0])
    }

    /// True while some process still holds the pipe's write end open.
    func isOpen(reader: Int32) -> Bool {
        var byte: UInt8 = 0
        let open = read(reader, &byte, 1) == -1 && errno == EAGAIN
        return open
    }

    @Test func getfdAndAddFdStopAtTheLimitAndCloseWhatTheyRefuse() throws {
        let fleet = try TestFleet(yaml: "limits: {fds-per-vm: 3}\nvms: [{name: vm0}]")
        let client = fleet.negotiatedClient(to: "vm0")
        let refusal = "VM 'vm0' holds 3 file descriptors already (limit fds-per-vm)"
        for name in ["a", "b"] {
            client.pass(fileDescriptors: [passed()])
            #expect(client.call("getfd", ["fdname": .string(name)])?["return"] == .object([:]))
        }
        client.pass(fileDescriptors: [passed()])
        #expect(client.call("add-fd", ["fdset-id": 1])?["return"]?["fdset-id"] == 1)
        // Full: a new name and a new fd set entry are refused, and the fd is closed.
        var refused = passedPipe()
        client.pass(fileDescriptors: [refused.fd])
        #expect(client.call("getfd", ["fdname": "c"])?["error"] == ["class": "GenericError", "desc": .string(refusal)])
        #expect(!isOpen(reader: refused.reader))
        close(refused.reader)
        refused = passedPipe()
        client.pass(fileDescriptors: [refused.fd])
        #expect(client.call("add-fd", ["fdset-id": 1])?["error"]?["desc"] == .string(refusal))
        #expect(!isOpen(reader: refused.reader))
        close(refused.reader)
        // The same name again replaces (QEMU closes the old fd): no growth, allowed.
        client.pass(fileDescriptors: [passed()])
        #expect(client.call("getfd", ["fdname": "a"])?["return"] == .object([:]))
        // Freeing one makes room.
        #expect(client.call("closefd", ["fdname": "b"])?["return"] == .object([:]))
        client.pass(fileDescriptors: [passed()])
        #expect(client.call("add-fd", ["fdset-id": 1])?["return"] != nil)
        #expect(client.call("remove-fd", ["fdset-id": 1])?["return"] == .object([:]))
        client.pass(fileDescriptors: [passed()])
        #expect(client.call("getfd", ["fdname": "d"])?["return"] == .object([:]))
    }

    @Test func oneFdSentAgainAndAgainDoesNotGrowTheProcess() throws {
        let fleet = try TestFleet(yaml: "limits: {fds-per-vm: 8}\nvms: [{name: vm0}]")
        let client = fleet.negotiatedClient(to: "vm0")
        var sent: [Int32] = []
        for _ in 0..<200 {
            let fd = passed()
            sent.append(fd)
            client.pass(fileDescriptors: [fd])
            _ = client.call("add-fd", ["fdset-id": 0])
        }
        #expect(fleet.vm("vm0")?.fdSets.count == 8)
        // The VM kept the first 8; every later one was closed at once (a
        // closed number may be reused by the next `dup`, so count the kept ones).
        let kept = Set(fleet.vm("vm0")?.fdSets.sets.flatMap { $0.fds.map(\.fd) } ?? [])
        #expect(kept == Set(sent.prefix(8)))
    }
}
