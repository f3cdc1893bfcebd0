/// The NIC device models the plugin registers for `device_add`.
enum NICModel: String, CaseIterable {
    case virtioNetPCI = "virtio-net-pci"
    case e1000
    case rtl8139

    /// The qdev type whose properties carry `netdev`/`mac`: virtio-net-pci
    /// forwards them to its inner virtio-net-device, and errors name that.
    var propertyOwner: String {
        self == .virtioNetPCI ? "virtio-net-device" : rawValue
    }

    /// Only virtio-net implements rx-filter querying and its event.
    var hasRxFilter: Bool { self == .virtioNetPCI }

    /// Device properties accepted by `device_add` besides `bus` and `id`.
    var propertyNames: [String] {
        var names = ["netdev", "mac", "addr", "multifunction", "romfile", "romsize", "rombar", "bootindex", "x-pcie-lnksta-dllla"]
        if self == .virtioNetPCI {
            names += ["vectors", "mq", "host_mtu", "speed", "duplex", "rx_queue_size", "tx_queue_size", "csum", "guest_csum",
                      "mrg_rxbuf", "status", "ctrl_vq", "ctrl_rx", "ctrl_vlan", "ctrl_mac_addr", "disable-legacy", "disable-modern",
                      "ioeventfd", "event_idx", "indirect_desc", "iommu_platform", "packed", "page-per-vq", "failover"]
        }
        return names
    }
}
