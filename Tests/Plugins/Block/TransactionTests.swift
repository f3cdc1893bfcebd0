import QMPWire
import Testing

extension BlockSuite {
/// transaction is all or nothing; internal snapshots; guest devices.
@Suite struct TransactionTests {
    @Test func failedTransactionChangesNothing() throws {
        let vm = try BlockVM()
        let before = vm.ok("query-block")
        let nodesBefore = vm.ok("query-named-block-nodes")
        #expect(vm.error("transaction", ["actions": [
            ["type": "block-dirty-bitmap-add", "data": ["node": "drive0", "name": "t1"]],
            ["type": "blockdev-snapshot-sync", "data": ["device": "drive1", "snapshot-file": "/tmp/bq/t1.qcow2"]],
            ["type": "drive-backup", "data": ["device": "drive0", "sync": "full", "target": "/tmp/bq/tb.qcow2", "job-id": "tb"]],
            ["type": "blockdev-snapshot-sync", "data": ["device": "nope", "snapshot-file": "/tmp/bq/t.qcow2"]],
        ]]) == ("GenericError", "Cannot find device='nope' nor node-name=''"))
        #expect(vm.ok("query-block") == before)
        #expect(vm.ok("query-named-block-nodes") == nodesBefore)
        #expect(vm.jobs().isEmpty)
        #expect(vm.events().isEmpty)
        #expect(vm.error("transaction", ["actions": [["type": "abort", "data": [:]]]]) == ("GenericError", "Transaction aborted using Abort action"))
    }

    @Test func bitmapAndBackupTogether() throws {
        let vm = try BlockVM()
        #expect(vm.ok("transaction", ["actions": [
            ["type": "block-dirty-bitmap-add", "data": ["node": "drive0", "name": "t1"]],
            ["type": "drive-backup", "data": ["device": "drive0", "sync": "full", "target": "/tmp/bq/tb.qcow2", "format": "qcow2", "job-id": "tb"]],
        ]]) == [:])
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.count == 1)
        vm.advance(20000)
        #expect(vm.jobTrail() == ["created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
    }

    @Test func internalSnapshots() throws {
        let vm = try BlockVM()
        #expect(vm.ok("blockdev-snapshot-internal-sync", ["device": "drive0", "name": "i1"]) == [:])
        #expect(vm.error("blockdev-snapshot-internal-sync", ["device": "drive0", "name": "i1"])
                == ("GenericError", "Snapshot with name 'i1' already exists on device 'drive0'"))
        #expect(vm.error("blockdev-snapshot-internal-sync", ["device": "drive1", "name": "i1"])
                == ("GenericError", "Block format 'raw' used by device 'drive1' does not support internal snapshots"))
        #expect(vm.error("blockdev-snapshot-internal-sync", ["device": "nope", "name": "i1"])
                == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.inserted("drive0")?["image"]?["snapshots"]?.arrayValue?.first?["name"] == "i1")
        let deleted = vm.ok("blockdev-snapshot-delete-internal-sync", ["device": "drive0", "name": "i1"])
        #expect(deleted?["id"] == "1")
        #expect(deleted?["vm-state-size"] == 0)
        #expect(vm.error("blockdev-snapshot-delete-internal-sync", ["device": "drive0", "name": "i1"])
                == ("GenericError", "Snapshot with id 'null' and name 'i1' does not exist on device 'drive0'"))
        #expect(vm.error("blockdev-snapshot-delete-internal-sync", ["device": "drive0"]) == ("GenericError", "Name or id must be provided"))
    }

    @Test func externalSnapshotOfAnAddedOverlay() throws {
        let vm = try BlockVM()
        _ = vm.ok("blockdev-add", ["driver": "raw", "node-name": "r1", "file": ["driver": "null-co"]])
        #expect(vm.error("blockdev-snapshot", ["node": "drive0", "overlay": "nope"]) == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.error("blockdev-snapshot", ["node": "drive0", "overlay": "r1"]) == ("GenericError", "The overlay does not support backing images"))
    }

    @Test func deviceAddAttachesAndDeviceDelReleases() throws {
        let vm = try BlockVM("{guest-delay-ms: 20}")
        _ = vm.ok("blockdev-add", ["driver": "raw", "node-name": "disk9", "file": ["driver": "null-co", "size": 1048576]])
        #expect(vm.error("device_add", ["driver": "virtio-blk-pci", "id": "v9", "drive": "nope"])
                == ("GenericError", "Property 'virtio-blk-device.drive' can't find value 'nope'"))
        #expect(vm.ok("device_add", ["driver": "virtio-blk-pci", "id": "v9", "drive": "disk9"]) == [:])
        #expect(vm.ok("device_add", ["driver": "virtio-scsi-pci", "id": "scsi0"]) == [:])
        #expect(vm.error("device_add", ["driver": "scsi-hd", "id": "s9", "drive": "disk9"])
                == ("GenericError", "Property 'scsi-hd.drive' can't take value 'disk9', it's in use"))
        let block = try #require(vm.ok("query-block")?.arrayValue?.first)
        #expect(block["device"] == "")
        #expect(block["qdev"] == "/machine/peripheral/v9/virtio-backend")
        #expect(block["inserted"]?["node-name"] == "disk9")
        // pc's IDE buses take no hot-plug (QEMU 7.2's text): no backend appears.
        #expect(vm.error("device_add", ["driver": "ide-cd", "id": "cd9"]) == ("GenericError", "Bus 'ide.1' does not support hotplugging"))
        #expect(vm.ok("device_del", ["id": "v9"]) == [:])
        #expect(vm.events().isEmpty)
        vm.advance(20)
        #expect(vm.events().map { $0["data"] } == [["path": "/machine/peripheral/v9/virtio-backend"],
                                                    ["device": "v9", "path": "/machine/peripheral/v9"]])
        #expect(vm.ok("query-block")?.arrayValue?.count == 0)
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.first?["node-name"] == "disk9")
    }

    @Test func guestIOErrorStopsTheVM() throws {
        let vm = try BlockVM()
        _ = vm.ok("cont")
        _ = vm.events()
        vm.guest("io-error", ["device": "drive0", "operation": "write", "nospace": true])
        let events = vm.events()
        #expect(events.map { $0["event"] } == ["BLOCK_IO_ERROR", "STOP"])
        #expect(events[0]["data"]?["action"] == "stop")
        #expect(events[0]["data"]?["reason"] == "No space left on device")
        #expect(vm.block("drive0")?["io-status"] == "nospace")
        vm.guest("io-error", ["device": "drive1", "operation": "read"])
        #expect(vm.events().first?["data"]?["action"] == "report")
    }
}
}
