import QMPWire

/// query-block, query-named-block-nodes and query-blockstats, in QEMU
/// 7.2's shapes (members in QAPI order; the serializer orders them as
/// QEMU's QDict does).
extension BlockGraph {
    /// ImageInfo of a node, with its backing chain nested.
    func imageInfo(_ node: BlockNode, depth: Int = 0) -> JSONValue {
        let isNull = BlockNode.nullDrivers.contains(node.driver)
        var info: JSONObject = ["filename": .string(node.filename), "format": .string(node.driver == "file" || node.driver == "host_device" ? "file" : node.driver),
                                "actual-size": .int(node.actualSize),
                                "virtual-size": .int(node.isFormat || isNull ? node.virtualSize : node.actualSize)]
        // bdrv_get_info fails on a null node (and a raw node passes it to its file), so QEMU reports no dirty flag.
        let file = node.driver == "raw" ? node.file.flatMap { self.node($0) } : nil
        if !isNull && !(file.map { BlockNode.nullDrivers.contains($0.driver) } ?? false) { info["dirty-flag"] = false }
        if let cluster = node.clusterSize { info["cluster-size"] = .int(cluster) }
        if node.encrypted { info["encrypted"] = true }
        if let backing = node.backing.flatMap({ self.node($0) }) {
            let name = node.backingFilename ?? backing.filename
            info["backing-filename"] = .string(name)
            info["full-backing-filename"] = .string(name)
            info["backing-filename-format"] = .string(backing.driver)
        }
        if !node.snapshots.isEmpty { info["snapshots"] = .array(node.snapshots.map(\.info)) }
        if let backing = node.backing.flatMap({ self.node($0) }), depth < nodes.count {
            info["backing-image"] = imageInfo(backing, depth: depth + 1)
        }
        if let specific = node.formatSpecific { info["format-specific"] = specific }
        return .object(info)
    }

    /// BlockDeviceInfo of a node; `backend` adds its throttle limits.
    func deviceInfo(_ node: BlockNode, backend: BlockBackend? = nil) -> JSONValue {
        let chain = backingChain(node.name)
        var info: JSONObject = ["file": .string(node.filename), "node-name": .string(node.name), "ro": .bool(node.readOnly),
                                "drv": .string(node.driver)]
        if let backing = node.backing.flatMap({ self.node($0) }) { info["backing_file"] = .string(node.backingFilename ?? backing.filename) }
        info["backing_file_depth"] = .int(Int64(chain.count - 1))
        info["encrypted"] = .bool(node.encrypted)
        info["detect_zeroes"] = "off"
        if let throttle = backend?.throttle {
            var limits: JSONObject = [:]
            throttle.apply(to: &limits)
            for key in ThrottleSettings.rates { info[key] = limits[key] }
            info["image"] = imageInfo(node)
            for (key, value) in limits where !ThrottleSettings.rates.contains(key) { info[key] = value }
        } else {
            for key in ThrottleSettings.rates { info[key] = 0 }
            info["image"] = imageInfo(node)
        }
        info["cache"] = ["writeback": true, "direct": false, "no-flush": false]
        info["write_threshold"] = .int(Int64(bitPattern: node.writeThreshold))
        if !node.bitmaps.isEmpty { info["dirty-bitmaps"] = .array(node.bitmaps.map { $0.info(virtualSize: node.virtualSize) }) }
        return .object(info)
    }

    var queryBlock: JSONValue {
        .array(backends.map { backend in
            var info: JSONObject = ["device": .string(backend.name)]
            if let device = backend.device { info["qdev"] = .string(device.qdev) }
            info["type"] = "unknown"
            info["removable"] = .bool(backend.removable)
            info["locked"] = .bool(backend.locked)
            if let root = backend.root.flatMap({ node($0) }) { info["inserted"] = deviceInfo(root, backend: backend) }
            if backend.hasTray { info["tray_open"] = .bool(backend.trayOpen) }
            if backend.device != nil { info["io-status"] = .string(backend.ioStatus) }
            return .object(info)
        })
    }

    /// Newest first, as QEMU walks its node list.
    var queryNamedBlockNodes: JSONValue {
        .array(nodes.reversed().map { deviceInfo($0) })
    }

    /// BlockStats of a node: `parent` is its file (or filtered) child,
    /// `backing` its backing node at backend level.
    func nodeStats(_ node: BlockNode, backendLevel: Bool) -> JSONObject {
        var s: JSONObject = ["node-name": .string(node.name),
                             "stats": BlockDeviceStats().json(wrHighestOffset: node.wrHighestOffset, accounting: false, nowNs: 0)]
        if !node.isFormat {
            s["driver-specific"] = ["driver": .string(node.driver), "discard-nb-ok": 0, "discard-nb-failed": 0, "discard-bytes-ok": 0]
        }
        if let file = node.file.flatMap({ self.node($0) }) { s["parent"] = .object(nodeStats(file, backendLevel: backendLevel)) }
        if backendLevel, let backing = node.backing.flatMap({ self.node($0) }) { s["backing"] = .object(nodeStats(backing, backendLevel: true)) }
        return s
    }

    func queryBlockStats(nodesOnly: Bool, nowNs: Int64) -> JSONValue {
        if nodesOnly { return .array(nodes.map { .object(nodeStats($0, backendLevel: false)) }) }
        return .array(backends.map { backend in
            var s: JSONObject = ["device": .string(backend.name)]
            if let device = backend.device { s["qdev"] = .string(device.qdev) }
            let root = backend.root.flatMap { node($0) }
            if let root {
                for (key, value) in nodeStats(root, backendLevel: true) { s[key] = value }
            }
            s["stats"] = backend.stats.json(wrHighestOffset: root?.wrHighestOffset ?? 0, accounting: true, nowNs: nowNs)
            return .object(s)
        })
    }
}
