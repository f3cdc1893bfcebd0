import QMPWire

/// HMP `info block [-n] [-v] [device]`, as QEMU 7.2's `hmp_info_block`
/// prints `query-block` (and, with `-n` or a device no backend has,
/// `query-named-block-nodes`): one paragraph per backend or node, a blank
/// line before every entry but the list's first (even when a device filter
/// skipped the first: QEMU's own quirk, kept).
enum BlockInfoText {
    static func print(_ vm: VM, _ arguments: HMPInfoQuery.Arguments, _ complete: @escaping (String) -> Void) {
        let device = arguments.device
        guard !arguments.nodes else { return printNodes(vm, arguments, after: "", complete) }
        vm.execute("query-block", nil) { reply in
            var text = ""
            var printed = false
            for (index, info) in (reply.success?.arrayValue ?? []).enumerated() {
                if let device, info["device"]?.stringValue != device { continue }
                if index > 0 { text += "\n" }
                text += paragraph(backend: info, inserted: info["inserted"], verbose: arguments.verbose)
                printed = true
            }
            if device == nil || printed { return complete(text) }
            printNodes(vm, arguments, after: text, complete)
        }
    }

    /// The named nodes' paragraphs, after `text`.
    private static func printNodes(_ vm: VM, _ arguments: HMPInfoQuery.Arguments, after text: String,
                                   _ complete: @escaping (String) -> Void) {
        vm.execute("query-named-block-nodes", nil) { reply in
            var text = text
            for (index, node) in (reply.success?.arrayValue ?? []).enumerated() {
                if let device = arguments.device, node["node-name"]?.stringValue != device { continue }
                if index > 0 { text += "\n" }
                text += paragraph(backend: nil, inserted: node, verbose: arguments.verbose)
            }
            complete(text)
        }
    }

    /// print_block_info: a backend (`BlockInfo`) and its medium, or a node
    /// alone (`BlockDeviceInfo`).
    static func paragraph(backend: JSONValue?, inserted: JSONValue?, verbose: Bool) -> String {
        var text: String
        if let backend, let device = backend["device"]?.stringValue, !device.isEmpty {
            text = device
            if let node = inserted?["node-name"]?.stringValue { text += " (\(node))" }
        } else {
            text = inserted?["node-name"]?.stringValue ?? backend?["qdev"]?.stringValue ?? "<anonymous>"
        }
        if let inserted {
            let readOnly = inserted["ro"]?.boolValue == true ? ", read-only" : ""
            let encrypted = inserted["encrypted"]?.boolValue == true ? ", encrypted" : ""
            text += ": \(string(inserted, "file")) (\(string(inserted, "drv"))\(readOnly)\(encrypted))\n"
        } else {
            text += ": [not inserted]\n"
        }
        if let backend {
            if let qdev = backend["qdev"]?.stringValue { text += "    Attached to:      \(qdev)\n" }
            if let status = backend["io-status"]?.stringValue, status != "ok" { text += "    I/O status:       \(status)\n" }
            if backend["removable"]?.boolValue == true {
                let locked = backend["locked"]?.boolValue == true ? "" : "not "
                let tray = backend["tray_open"]?.boolValue == true ? "open" : "closed"
                text += "    Removable device: \(locked)locked, tray \(tray)\n"
            }
        }
        guard let inserted else { return text }
        let cache = inserted["cache"]
        text += "    Cache mode:       \(cache?["writeback"]?.boolValue == true ? "writeback" : "writethrough")"
            + (cache?["direct"]?.boolValue == true ? ", direct" : "")
            + (cache?["no-flush"]?.boolValue == true ? ", ignore flushes" : "") + "\n"
        if let backing = inserted["backing_file"]?.stringValue {
            text += "    Backing file:     \(backing) (chain depth: \(integer(inserted, "backing_file_depth")))\n"
        }
        if let zeroes = inserted["detect_zeroes"]?.stringValue, zeroes != "off" {
            text += "    Detect zeroes:    \(zeroes)\n"
        }
        if ["bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"].contains(where: { integer(inserted, $0) != 0 }) {
            text += "    I/O throttling:   "
                + ["bps", "bps_rd", "bps_wr", "bps_max", "bps_rd_max", "bps_wr_max",
                   "iops", "iops_rd", "iops_wr", "iops_max", "iops_rd_max", "iops_wr_max", "iops_size"]
                    .map { "\($0)=\(integer(inserted, $0))" }.joined(separator: " ")
                + " group=\(string(inserted, "group"))\n"
        }
        if verbose, let image = inserted["image"] {
            text += "\nImages:\n"
            var next: JSONValue? = image
            while let image = next {
                text += ImageInfoText.text(image)
                next = image["backing-image"]
            }
        }
        return text
    }

    private static func string(_ object: JSONValue, _ key: String) -> String {
        object[key]?.stringValue ?? ""
    }

    /// An optional QAPI integer as QEMU prints it: absent is 0.
    private static func integer(_ object: JSONValue, _ key: String) -> Int64 {
        object[key]?.int64Value ?? 0
    }
}

extension Result {
    /// The success value, or nil.
    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
