import QMPPluginKit
import QMPWire

/// HMP `info network`, as QEMU 7.2's `hmp_info_network` prints its net
/// clients: the hubs and their ports first (`net_hub_info`), then every
/// client in creation order (QEMU's `net_clients` list): a NIC with its
/// backend under it (` \ `, even one netdev_del took), a backend no NIC
/// uses on its own line, a backend a NIC uses only under that NIC.
///
/// A backend's words after its type are QEMU's `info_str`: a user
/// backend's network and restriction (checked against QEMU 7.2); a stream
/// backend, and any other type here, print none, which is what 7.2 prints
/// for a stream no peer has connected to (docs/qemu-differences.md).
extension NetPlugin {
    func infoNetwork() -> String {
        var text = ""
        let hubs = netdevs.filter { $0.type == "hubport" }
        for hub in Set(hubs.map(\.hubID)).sorted() {
            text += "hub \(hub)\n"
            for port in hubs where port.hubID == hub {
                text += " \\ \(port.id)" + (port.peerName.map { ": peer \($0)" } ?? "") + "\n"
            }
        }
        let clients: [(created: Int, line: String)] =
            nics.map { nic in
                var line = "\(nic.name): index=0,type=nic,model=\(nic.model.rawValue),macaddr=\(nic.mac)\n"
                if let backend = nic.netdev { line += " \\ " + backendLine(backend) }
                return (nic.created, line)
            }
            + netdevs.filter { backend in backend.type != "hubport" && !nics.contains { $0.netdev === backend } }
                .map { ($0.created, backendLine($0)) }
        for client in clients.sorted(by: { $0.created < $1.created }) { text += client.line }
        return text
    }

    private func backendLine(_ backend: Netdev) -> String {
        "\(backend.id): index=0,type=\(backend.type),\(Self.infoString(backend))\n"
    }

    /// QEMU's `info_str` of a backend: slirp's `net=<network>,restrict=<on|off>`.
    static func infoString(_ backend: Netdev) -> String {
        guard backend.type == "user" else { return "" }
        let restricted = backend.options["restrict"]?.boolValue ?? false
        return "net=\(userNetwork(backend.options["net"]?.stringValue)),restrict=\(restricted ? "on" : "off")"
    }

    /// The network of a user backend's `net` ("192.168.5.7/24" is
    /// 192.168.5.0); 10.0.2.0 by default, as slirp's.
    static func userNetwork(_ net: String?) -> String {
        guard let net else { return "10.0.2.0" }
        let parts = net.split(separator: "/", maxSplits: 1)
        let octets = parts[0].split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return "10.0.2.0" }
        let address = octets.reduce(0) { $0 << 8 | $1 }
        let prefix = parts.count == 2 ? (UInt32(parts[1]) ?? 24) : 24
        let mask: UInt32 = prefix == 0 ? 0 : (prefix >= 32 ? .max : ~((1 << (32 - prefix)) - 1))
        let network = address & mask
        return [24, 16, 8, 0].map { String(network >> $0 & 0xFF) }.joined(separator: ".")
    }
}

extension Netdev {
    /// A hub port's hub number (`hubid`).
    var hubID: Int64 { options["hubid"]?.int64Value ?? 0 }
}
