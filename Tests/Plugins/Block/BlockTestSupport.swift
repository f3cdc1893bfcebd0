import QMPFleetTesting
import QMPWire

/// A one-VM fleet with the block plugin: a virtio disk (drive0, qcow2,
/// 1 GiB with 16 MiB of data), an IDE CD-ROM with a medium (cd0) and a raw
/// IDE disk (drive1), like the QEMU 7.2 comparison runs.
struct BlockVM {
    static let drives = """
        {job-rate: 64M, drives: [
          {id: drive0, device: virtio0, file: /tmp/bq/d0.qcow2, format: qcow2, size: 1G, allocated: 16M, interface: virtio},
          {id: cd0, device: cdrom0, file: /tmp/bq/cd.iso, media: cdrom, interface: ide, size: 4M},
          {id: drive1, device: disk1, file: /tmp/bq/d1.raw, format: raw, size: 64M, interface: ide}]}
        """
    let fleet: TestFleet
    let client: TestClient

    init(_ block: String = BlockVM.drives, vm: String = "machine: pc") throws {
        fleet = try TestFleet(yaml: "vms: [{name: vm0, \(vm), plugins: {block: \(block)}}]")
        client = fleet.negotiatedClient(to: "vm0")
    }

    func ok(_ command: String, _ args: JSONObject? = nil) -> JSONValue? { client.result(command, args) }

    func error(_ command: String, _ args: JSONObject? = nil) -> (String?, String?) { client.errorPair(command, args) }

    @discardableResult
    func guest(_ action: String, _ args: JSONObject) -> JSONValue? {
        fleet.guestAction(vm: "vm0", plugin: "block", action: action, arguments: args)
    }

    func events() -> [JSONValue] { client.takeEvents() }
    func eventNames() -> [String] { events().compactMap { $0["event"]?.stringValue } }
    /// JOB_STATUS_CHANGE statuses and other event names, in order.
    func jobTrail() -> [String] {
        events().map { e in e["event"] == "JOB_STATUS_CHANGE" ? (e["data"]?["status"]?.stringValue ?? "?") : (e["event"]?.stringValue ?? "?") }
    }

    func advance(_ ms: UInt64) { fleet.advance(by: ms) }

    /// query-block's entry for `device`.
    func block(_ device: String) -> JSONValue? { ok("query-block")?.arrayValue?.first { $0["device"]?.stringValue == device } }
    func inserted(_ device: String) -> JSONValue? { block(device)?["inserted"] }
    func jobs() -> [JSONValue] { ok("query-block-jobs")?.arrayValue ?? [] }
}

import Testing

/// Every block suite nests here and runs one test at a time. (It began
/// when pending plugin requests were one table for the process, which
/// parallel test threads raced on; each thread now has its own.)
@Suite(.serialized) enum BlockSuite {}
