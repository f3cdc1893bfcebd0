import QMPPluginKit
import QMPWire

/// The block plugin's part of a live migration: the whole block graph
/// (nodes with their bitmaps and internal snapshots, backends with their
/// attached devices, trays, locks, throttling and I/O counters), the images
/// the simulation knows, and the secret and iothread objects, so the
/// target's `query-block`, `query-named-block-nodes` and
/// `query-blockstats` become the source's (QEMU's target opens the same
/// images; a simulated target takes the source's view of them). Block
/// jobs do not move: they stay with the source, as in QEMU, where a job is
/// the source's own. Version 1 of the format.
extension BlockPlugin: MigratablePlugin {
    static let migrationVersion: Int64 = 1

    func saveState() -> JSONValue {
        [
            "version": .int(BlockPlugin.migrationVersion),
            "nodes": .array(graph.nodes.map(\.migrationState)),
            "backends": .array(graph.backends.map(\.migrationState)),
            "images": .object(JSONObject(images.keys.sorted().map { (key: $0, value: images[$0]!.migrationState) })),
            "secrets": .array(secrets.keys.sorted().map { ["id": .string($0), "bytes": .array(secrets[$0]!.bytes.map { .int(Int64($0)) })] }),
            "iothreads": .object(JSONObject(iothreads.keys.sorted().map { id in
                (key: id, value: .object(JSONObject(iothreads[id]!.keys.sorted().map { (key: $0, value: .int(iothreads[id]![$0]!)) })))
            })),
            "scsi-controllers": .array(scsiControllers.map(\.migrationState)),
            "anonymous-scsi-buses": .int(Int64(anonymousSCSIBuses)),
        ]
    }

    func loadState(_ state: JSONValue) throws(PluginError) {
        guard let version = state["version"]?.int64Value, (1...BlockPlugin.migrationVersion).contains(version) else {
            throw PluginError("block: unsupported state version \(state["version"]?.jsonText ?? "none")")
        }
        var newGraph = BlockGraph()
        for entry in state["nodes"]?.arrayValue ?? [] {
            guard let node = BlockNode(migrationState: entry) else { throw PluginError("block: a malformed node") }
            newGraph.nodes.append(node)
        }
        for entry in state["backends"]?.arrayValue ?? [] {
            guard let backend = BlockBackend(migrationState: entry) else { throw PluginError("block: a malformed backend") }
            newGraph.backends.append(backend)
        }
        var newImages: [String: ImageFile] = [:]
        for (name, entry) in state["images"]?.objectValue ?? [:] {
            guard let image = ImageFile(migrationState: entry) else { throw PluginError("block: a malformed image") }
            newImages[name] = image
        }
        var newSecrets: [String: SecretObject] = [:]
        for entry in state["secrets"]?.arrayValue ?? [] {
            let bytes = (entry["bytes"]?.arrayValue ?? []).compactMap { $0.int64Value.flatMap(UInt8.init(exactly:)) }
            guard let id = entry["id"]?.stringValue, bytes.count == entry["bytes"]?.arrayValue?.count else {
                throw PluginError("block: a malformed secret")
            }
            newSecrets[id] = SecretObject(id: id, bytes: bytes)
        }
        var newIOThreads: [String: [String: Int64]] = [:]
        for (id, settings) in state["iothreads"]?.objectValue ?? [:] {
            var values: [String: Int64] = [:]
            for (key, value) in settings.objectValue ?? [:] { values[key] = value.int64Value }
            newIOThreads[id] = values
        }
        var newControllers: [SCSIController] = []
        for entry in state["scsi-controllers"]?.arrayValue ?? [] {
            guard let controller = SCSIController(migrationState: entry) else { throw PluginError("block: a malformed SCSI adapter") }
            newControllers.append(controller)
        }
        try Self.checkBounds(nodes: newGraph.nodes, backends: newGraph.backends, images: newImages.count,
                             secrets: newSecrets.count, iothreads: newIOThreads.count)
        try MigratedStateBounds.check(newControllers.count, atMost: MigratedStateBounds.sharePerVM, "SCSI adapters", plugin: "block")
        try MigratedStateBounds.checkUnique(newControllers.lazy.map(\.busName), "SCSI bus", plugin: "block")
        for job in jobs { if let timer = job.timer { vm.cancelTimer(timer) } }
        jobs = []
        deferredJobStarts = nil
        graph = newGraph
        images = newImages
        secrets = newSecrets
        iothreads = newIOThreads
        scsiControllers = newControllers
        anonymousSCSIBuses = Int(clamping: state["anonymous-scsi-buses"]?.int64Value ?? 0)
    }
}

extension BlockPlugin {
    /// What a stream may bring: the bounds `blockdev-add`, snapshots,
    /// bitmaps and `object-add` keep to (`MigratedStateBounds`), and one
    /// node or backend per name, checked before the graph changes.
    static func checkBounds(nodes: [BlockNode], backends: [BlockBackend], images: Int,
                            secrets: Int, iothreads: Int) throws(PluginError) {
        typealias Bounds = MigratedStateBounds
        try Bounds.check(nodes.count, atMost: BlockLimits.nodesPerVM, "block nodes", plugin: "block")
        try Bounds.check(backends.count, atMost: Bounds.sharePerVM, "block backends", plugin: "block")
        try Bounds.check(images, atMost: BlockLimits.imagesPerVM, "image files", plugin: "block")
        try Bounds.check(nodes.reduce(0) { $0 + $1.bitmaps.count }, atMost: BlockLimits.bitmapsPerVM, "dirty bitmaps", plugin: "block")
        try Bounds.check(nodes.reduce(0) { $0 + $1.snapshots.count }, atMost: BlockLimits.internalSnapshotsPerVM,
                         "internal snapshots", plugin: "block")
        try Bounds.check(secrets, atMost: Bounds.sharePerVM, "secrets", plugin: "block")
        try Bounds.check(iothreads, atMost: Bounds.sharePerVM, "iothreads", plugin: "block")
        try Bounds.checkUnique(nodes.lazy.map(\.name), "node", plugin: "block")
        try Bounds.checkUnique(backends.lazy.map(\.name), "backend", plugin: "block")
    }
}

extension BlockNode {
    var migrationState: JSONValue {
        var state: JSONObject = [
            "name": .string(name), "driver": .string(driver), "filename": .string(filename),
            "virtual-size": .int(virtualSize), "actual-size": .int(actualSize), "allocated": .int(allocated),
            "read-only": .bool(readOnly), "encrypted": .bool(encrypted), "monitor-owned": .bool(monitorOwned),
            "write-threshold": .uint(writeThreshold), "wr-highest-offset": .int(wrHighestOffset),
            "bitmaps": .array(bitmaps.map { b in
                ["name": .string(b.name), "granularity": .int(b.granularity), "persistent": .bool(b.persistent),
                 "recording": .bool(b.recording), "busy": .bool(b.busy), "dirty": .array(b.dirty.ranges.map { [.int($0.lowerBound), .int($0.upperBound)] })]
            }),
            "snapshots": .array(snapshots.map { s in
                ["id": .string(s.id), "name": .string(s.name), "date-sec": .int(s.dateSeconds),
                 "date-nsec": .int(s.dateNanoseconds), "vm-clock-nsec": .int(s.vmClockNanoseconds)]
            }),
        ]
        if let file { state["file"] = .string(file) }
        if let backing { state["backing"] = .string(backing) }
        if let backingFilename { state["backing-filename"] = .string(backingFilename) }
        return .object(state)
    }

    init?(migrationState s: JSONValue) {
        guard let name = s["name"]?.stringValue, let driver = s["driver"]?.stringValue, let filename = s["filename"]?.stringValue,
              let virtualSize = s["virtual-size"]?.int64Value, let actualSize = s["actual-size"]?.int64Value else { return nil }
        var bitmaps: [DirtyBitmap] = []
        for b in s["bitmaps"]?.arrayValue ?? [] {
            guard let name = b["name"]?.stringValue, let granularity = b["granularity"]?.int64Value, granularity > 0 else { return nil }
            // Gathered, then made a set in one sort: inserting a stream's
            // ranges one at a time (each insert shifts the ranges after it)
            // takes quadratic time on a list in descending order.
            var ranges: [Range<Int64>] = []
            for pair in b["dirty"]?.arrayValue ?? [] {
                guard let bounds = pair.arrayValue, bounds.count == 2, let low = bounds[0].int64Value,
                      let high = bounds[1].int64Value, low < high else { return nil }
                ranges.append(low..<high)
            }
            let dirty = RangeSet(ranges)
            bitmaps.append(DirtyBitmap(name: name, granularity: granularity, persistent: b["persistent"]?.boolValue ?? false,
                                       recording: b["recording"]?.boolValue ?? true, busy: b["busy"]?.boolValue ?? false,
                                       dirty: dirty))
        }
        let snapshots: [InternalSnapshot] = (s["snapshots"]?.arrayValue ?? []).compactMap { x in
            guard let id = x["id"]?.stringValue, let name = x["name"]?.stringValue else { return nil }
            return InternalSnapshot(id: id, name: name, dateSeconds: x["date-sec"]?.int64Value ?? 0,
                                    dateNanoseconds: x["date-nsec"]?.int64Value ?? 0, vmClockNanoseconds: x["vm-clock-nsec"]?.int64Value ?? 0)
        }
        let threshold: UInt64
        switch s["write-threshold"] {
        case .uint(let n)?: threshold = n
        case .int(let n)? where n >= 0: threshold = UInt64(n)
        default: threshold = 0
        }
        self.init(name: name, driver: driver, filename: filename, virtualSize: virtualSize, actualSize: actualSize,
                  allocated: s["allocated"]?.int64Value ?? 0, readOnly: s["read-only"]?.boolValue ?? false,
                  encrypted: s["encrypted"]?.boolValue ?? false, file: s["file"]?.stringValue, backing: s["backing"]?.stringValue,
                  backingFilename: s["backing-filename"]?.stringValue, monitorOwned: s["monitor-owned"]?.boolValue ?? false,
                  writeThreshold: threshold, bitmaps: bitmaps, snapshots: snapshots,
                  wrHighestOffset: s["wr-highest-offset"]?.int64Value ?? 0)
    }
}

extension BlockBackend {
    var migrationState: JSONValue {
        var state: JSONObject = [
            "name": .string(name), "tray-open": .bool(trayOpen), "locked": .bool(locked), "io-status": .string(ioStatus),
            "read-only": .bool(readOnly),
            "stats": [
                "rd-bytes": .int(stats.rdBytes), "wr-bytes": .int(stats.wrBytes), "rd-operations": .int(stats.rdOperations),
                "wr-operations": .int(stats.wrOperations), "rd-total-time-ns": .int(stats.rdTotalTimeNs),
                "wr-total-time-ns": .int(stats.wrTotalTimeNs), "failed-rd-operations": .int(stats.failedRdOperations),
                "failed-wr-operations": .int(stats.failedWrOperations),
            ],
        ]
        if let last = stats.lastAccessNs { state["last-access-ns"] = .int(last) }
        if let root { state["root"] = .string(root) }
        if let device {
            var d: JSONObject = ["model": .string(device.model.rawValue), "path": .string(device.path)]
            if let id = device.id { d["id"] = .string(id) }
            if let scsi = device.scsi {
                d["scsi"] = ["bus": .string(scsi.bus), "channel": .int(Int64(scsi.channel)), "target": .int(Int64(scsi.target)),
                             "lun": .int(Int64(scsi.lun))]
            }
            state["device"] = .object(d)
        }
        if let throttle {
            state["throttle"] = [
                "group": .string(throttle.group), "iops-size": .int(throttle.iopsSize),
                "values": .object(JSONObject(throttle.values.keys.sorted().map { (key: $0, value: .int(throttle.values[$0]!)) })),
            ]
        }
        return .object(state)
    }

    init?(migrationState s: JSONValue) {
        guard let name = s["name"]?.stringValue else { return nil }
        self.init(name: name)
        root = s["root"]?.stringValue
        if let d = s["device"] {
            guard let model = d["model"]?.stringValue.flatMap(BlockDeviceModel.init), let path = d["path"]?.stringValue else { return nil }
            var scsi: SCSIAddress?
            if let a = d["scsi"] {
                guard let bus = a["bus"]?.stringValue, let channel = a["channel"]?.int64Value.flatMap(UInt32.init(exactly:)),
                      let target = a["target"]?.int64Value.flatMap(UInt32.init(exactly:)),
                      let lun = a["lun"]?.int64Value.flatMap(UInt32.init(exactly:)) else { return nil }
                scsi = SCSIAddress(bus: bus, channel: channel, target: target, lun: lun)
            }
            device = AttachedDevice(NewDevice(id: d["id"]?.stringValue, qomPath: path), model: model, scsi: scsi)
        }
        trayOpen = s["tray-open"]?.boolValue ?? false
        locked = s["locked"]?.boolValue ?? false
        ioStatus = s["io-status"]?.stringValue ?? "ok"
        readOnly = s["read-only"]?.boolValue ?? false
        if let t = s["throttle"] {
            var settings = ThrottleSettings(group: t["group"]?.stringValue ?? name)
            settings.iopsSize = t["iops-size"]?.int64Value ?? 0
            for (key, value) in t["values"]?.objectValue ?? [:] { settings.values[key] = value.int64Value }
            throttle = settings
        }
        let x = s["stats"]
        stats.rdBytes = x?["rd-bytes"]?.int64Value ?? 0
        stats.wrBytes = x?["wr-bytes"]?.int64Value ?? 0
        stats.rdOperations = x?["rd-operations"]?.int64Value ?? 0
        stats.wrOperations = x?["wr-operations"]?.int64Value ?? 0
        stats.rdTotalTimeNs = x?["rd-total-time-ns"]?.int64Value ?? 0
        stats.wrTotalTimeNs = x?["wr-total-time-ns"]?.int64Value ?? 0
        stats.failedRdOperations = x?["failed-rd-operations"]?.int64Value ?? 0
        stats.failedWrOperations = x?["failed-wr-operations"]?.int64Value ?? 0
        stats.lastAccessNs = s["last-access-ns"]?.int64Value
    }
}

extension ImageFile {
    var migrationState: JSONValue {
        var state: JSONObject = ["format": .string(format), "virtual-size": .int(virtualSize), "actual-size": .int(actualSize)]
        if let backingFile { state["backing-file"] = .string(backingFile) }
        return .object(state)
    }

    init?(migrationState s: JSONValue) {
        guard let format = s["format"]?.stringValue, let virtualSize = s["virtual-size"]?.int64Value,
              let actualSize = s["actual-size"]?.int64Value else { return nil }
        self.init(format: format, virtualSize: virtualSize, actualSize: actualSize, backingFile: s["backing-file"]?.stringValue)
    }
}

extension SCSIController {
    var migrationState: JSONValue {
        var state: JSONObject = ["kind": .string(kind.rawValue), "qom-path": .string(qomPath), "bus": .string(busName)]
        if let id { state["id"] = .string(id) }
        return .object(state)
    }

    init?(migrationState s: JSONValue) {
        guard let kind = s["kind"]?.stringValue.flatMap(Kind.init), let path = s["qom-path"]?.stringValue,
              let bus = s["bus"]?.stringValue else { return nil }
        self.init(kind: kind, id: s["id"]?.stringValue, qomPath: path, busName: bus)
    }
}
