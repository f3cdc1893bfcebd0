import QMPWire
import Testing

extension BlockSuite {
    /// `throttle-group` objects: QEMU 7.2's checks at creation and what
    /// qom-get reads back, as qemu-system-x86_64 7.2 answered here.
    @Suite struct ThrottleGroupTests {
        func group(_ vm: BlockVM, _ id: String, _ props: JSONObject) -> JSONValue? {
            var args: JSONObject = ["qom-type": "throttle-group", "id": .string(id)]
            for (key, value) in props { args[key] = value }
            return vm.client.call("object-add", args)
        }

        @Test func checksAndReadsBack() throws {
            let vm = try BlockVM("{}")
            #expect(group(vm, "g0", ["x-bps-total": -1])?["error"]?["desc"] == "Property values cannot be negative")
            #expect(group(vm, "g0", ["limits": ["bps-total": -1]])?["error"]?["desc"] == "bps/iops/max values must be within [0, 1000000000000000]")
            #expect(group(vm, "g0", ["limits": ["bps-total": 1000, "bps-read": 10]])?["error"]?["desc"]
                    == "bps/iops/max total values and read/write values cannot be used at the same time")
            #expect(group(vm, "g0", ["x-iops-size": 100])?["error"]?["desc"] == "iops size requires an iops value to be set")
            #expect(group(vm, "g0", ["limits": ["bps-total-max": 1000]])?["error"]?["desc"] == "bps_max/iops_max require corresponding bps/iops values")
            #expect(group(vm, "g1", ["limits": ["bps-total": 1000], "x-bps-total": 5])?["return"] == .object([:]))
            let limits = vm.ok("qom-get", ["path": "/objects/g1", "property": "limits"])
            #expect(limits?["bps-total"] == 5 && limits?["bps-total-max-length"] == 1 && limits?["iops-size"] == 0)
            #expect(limits?.objectValue?.count == 19)
            #expect(group(vm, "g2", ["limits": ["iops-read": 10, "iops-read-max": 100, "iops-read-max-length": 5]])?["return"] == .object([:]))
            #expect(vm.ok("qom-get", ["path": "/objects/g2", "property": "x-iops-read-max-length"]) == 5)
            #expect(vm.ok("object-del", ["id": "g2"]) == .object([:]))
        }
    }
}
