import QMPWire
import Testing

extension BlockSuite {
/// Trays, guest locks and media changes; the error texts are QEMU 7.2's
/// (recorded with the same drives: see Tests/protocol/test_block.py).
@Suite struct MediaTests {
    @Test func ejectAndChangeLikeQEMU() throws {
        let vm = try BlockVM()
        #expect(vm.error("eject", ["device": "drive0"]) == ("GenericError", "Device 'drive0' is not removable"))
        #expect(vm.error("eject", ["id": "virtio0"]) == ("GenericError", "Device does not have a block device backend"))
        #expect(vm.error("eject", ["device": "nope"]) == ("DeviceNotFound", "Device 'nope' not found"))
        #expect(vm.error("eject", ["id": "nope"]) == ("DeviceNotFound", "Device 'nope' not found"))
        #expect(vm.error("eject", [:]) == ("GenericError", "Need exactly one of 'device' and 'id'"))
        #expect(vm.ok("blockdev-close-tray", ["id": "cdrom0"]) == [:])
        #expect(vm.error("blockdev-remove-medium", ["id": "cdrom0"]) == ("GenericError", "Tray of device 'cdrom0' is not open"))
        #expect(vm.events().isEmpty)
        #expect(vm.ok("blockdev-open-tray", ["id": "cdrom0"]) == [:])
        #expect(vm.events().map { $0["data"] } == [["device": "cd0", "id": "cdrom0", "tray-open": true]])
        #expect(vm.ok("blockdev-open-tray", ["id": "cdrom0"]) == [:])
        #expect(vm.events().isEmpty)
        #expect(vm.error("blockdev-insert-medium", ["id": "cdrom0", "node-name": "nope"]) == ("GenericError", "Node 'nope' not found"))
        #expect(vm.ok("blockdev-remove-medium", ["id": "cdrom0"]) == [:])
        #expect(vm.block("cd0")?["inserted"] == nil)
        #expect(vm.block("cd0")?["tray_open"] == true)
        #expect(vm.ok("blockdev-change-medium", ["id": "cdrom0", "filename": "/tmp/bq/cd.iso", "format": "raw"]) == [:])
        #expect(vm.eventNames() == ["DEVICE_TRAY_MOVED"])
        #expect(vm.inserted("cd0")?["file"] == "/tmp/bq/cd.iso")
        #expect(vm.error("blockdev-change-medium", ["id": "cdrom0", "filename": "/tmp/bq/cd.iso", "format": "qcow2"])
                == ("GenericError", "Image is not in qcow2 format"))
        #expect(vm.error("blockdev-change-medium", ["id": "cdrom0", "filename": "/nonexistent/x.iso", "format": "raw"])
                == ("GenericError", "Could not open '/nonexistent/x.iso': No such file or directory"))
        #expect(vm.error("blockdev-change-medium", ["device": "drive0", "filename": "/tmp/bq/cd.iso", "format": "raw"])
                == ("GenericError", "Device 'drive0' is not removable"))
        #expect(vm.ok("blockdev-add", ["driver": "raw", "node-name": "iso2", "read-only": true,
                                      "file": ["driver": "file", "filename": "/tmp/bq/cd.iso"]]) == [:])
        _ = vm.ok("blockdev-open-tray", ["id": "cdrom0"])
        #expect(vm.error("blockdev-insert-medium", ["id": "cdrom0", "node-name": "iso2"]) == ("GenericError", "There already is a medium in the device"))
        _ = vm.ok("blockdev-remove-medium", ["id": "cdrom0"])
        #expect(vm.ok("blockdev-insert-medium", ["id": "cdrom0", "node-name": "iso2"]) == [:])
        #expect(vm.error("blockdev-insert-medium", ["id": "cdrom0", "node-name": "iso2"]) == ("GenericError", "Node 'iso2' is already in use"))
        #expect(vm.error("blockdev-del", ["node-name": "iso2"]) == ("GenericError", "Node iso2 is in use"))
        #expect(vm.ok("blockdev-close-tray", ["id": "cdrom0"]) == [:])
        #expect(vm.inserted("cd0")?["node-name"] == "iso2")
    }

    @Test func guestLockedTrayNeedsForceOrTheGuest() throws {
        let vm = try BlockVM("{guest-delay-ms: 50, drives: [{id: cd0, device: cdrom0, file: /tmp/bq/cd.iso, media: cdrom}]}")
        vm.guest("lock-tray", ["device": "cd0"])
        #expect(vm.block("cd0")?["locked"] == true)
        // blockdev-open-tray only asks; eject and change report the lock.
        #expect(vm.ok("blockdev-open-tray", ["id": "cdrom0"]) == [:])
        #expect(vm.events().isEmpty)
        vm.advance(50)
        #expect(vm.eventNames() == ["DEVICE_TRAY_MOVED"])
        #expect(vm.block("cd0")?["locked"] == false)
        _ = vm.ok("blockdev-close-tray", ["id": "cdrom0"])
        vm.guest("lock-tray", ["device": "cdrom0"])
        _ = vm.events()
        #expect(vm.error("eject", ["id": "cdrom0"])
                == ("GenericError", "Device 'cdrom0' is locked and force was not specified, wait for tray to open and try again"))
        #expect(vm.error("blockdev-change-medium", ["device": "cd0", "filename": "/tmp/bq/cd.iso"])
                == ("GenericError", "Device 'cd0' is locked and force was not specified, wait for tray to open and try again"))
        #expect(vm.inserted("cd0") != nil)
        #expect(vm.ok("eject", ["id": "cdrom0", "force": true]) == [:])
        #expect(vm.eventNames() == ["DEVICE_TRAY_MOVED"])
        #expect(vm.inserted("cd0") == nil)
        vm.advance(100)
        #expect(vm.events().isEmpty)
    }

    @Test func guestEjectRequestOpensTheTray() throws {
        let vm = try BlockVM()
        vm.guest("lock-tray", ["device": "cd0"])
        vm.guest("eject-request", ["device": "cd0"])
        #expect(vm.events().map { $0["data"]?["tray-open"] } == [true])
        #expect(vm.block("cd0")?["locked"] == false)
    }
}
}
