import QMPWire
import Testing

/// HMP `info network` through human-monitor-command, printed by the net
/// plugin (register_hmp_info): texts as QEMU 7.2 printed them for the same
/// backends and NICs (qemu-system-x86_64 -machine pc; the whole comparison,
/// step by step, is Tests/protocol/test_hmp_info.py).
@Suite struct NetInfoTextTests {
    /// The config's backends are made before its NICs (QEMU's -netdev before
    /// -device), so n1, alone, comes before nic0 and the n0 under it.
    @Test func nicsCarryTheirBackendsAndLoneBackendsStandAlone() throws {
        let vm = try NetVM(net: "{netdevs: [{id: n0, type: user}, {id: n1, type: user, net: 192.168.5.7/24, restrict: true}, {id: h1, type: hubport, hubid: 0}], nics: [{id: nic0, netdev: n0}]}")
        #expect(vm.ok("device_add", ["driver": "e1000", "id": "nic9"]) == .object([:]))
        #expect(vm.ok("human-monitor-command", ["command-line": "info network"]) == .string("""
            hub 0\r
             \\ h1\r
            n1: index=0,type=user,net=192.168.5.0,restrict=on\r
            nic0: index=0,type=nic,model=virtio-net-pci,macaddr=52:54:00:12:34:56\r
             \\ n0: index=0,type=user,net=10.0.2.0,restrict=off\r
            nic9: index=0,type=nic,model=e1000,macaddr=52:54:00:12:34:57\r

            """))
        #expect(vm.ok("human-monitor-command", ["command-line": "info network x"])
                == .string("network: extraneous characters at the end of line\r\nTry \"help info network\" for more information\r\n"))
    }
}
