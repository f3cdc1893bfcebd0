import QMPFleetTesting
import QMPWire
import Testing

/// block-export-add and display-update take QEMU 7.2's SocketAddress
/// (qapi/sockets.json, the kit's common module), not an introspection copy
/// whose `to` was a plain int: QEMU 7.2 -machine pc -nodefaults answered
/// both requests below "Parameter 'to' expects uint16_t" (the fleet said
/// "No driver found for the requested export type" and "Can not find vnc
/// display", having taken the port range as valid).
@Suite struct SharedSocketTypeTests {
    @Test func anInetAddressPortRangeIsAUInt16() throws {
        let fleet = try TestFleet(yaml: "vms: [{name: a, machine: pc, plugins: {block: {}, display: {}}}]")
        let c = fleet.negotiatedClient(to: "a")
        let inet: (Int64) -> JSONValue = { to in ["type": "inet", "host": "h", "port": "1", "to": .int(to)] }
        #expect(c.errorPair("display-update", ["type": "vnc", "addresses": [inet(70000)]])
            == ("GenericError", "Parameter 'to' expects uint16_t"))
        #expect(c.errorPair("block-export-add", ["type": "vhost-user-blk", "id": "e", "node-name": "n", "addr": inet(-1)])
            == ("GenericError", "Parameter 'to' expects uint16_t"))
    }
}
