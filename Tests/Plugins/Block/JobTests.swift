import QMPWire
import Testing

extension BlockSuite {
/// Block jobs on the virtual clock: progress at their speed, the
/// JOB_STATUS_CHANGE trail QEMU 7.2 sends, READY and completion, and the
/// graph after each kind of job.
@Suite struct JobTests {
    @Test func fullThenIncrementalBackupWithABitmap() throws {
        let vm = try BlockVM()
        #expect(vm.ok("block-dirty-bitmap-add", ["node": "drive0", "name": "bm0", "granularity": 65536]) == [:])
        #expect(vm.inserted("drive0")?["dirty-bitmaps"] == [["name": "bm0", "recording": true, "persistent": false, "busy": false,
                                                             "granularity": 65536, "count": 0]])
        #expect(vm.ok("drive-backup", ["device": "drive0", "job-id": "b1", "sync": "full", "target": "/tmp/bq/b0.qcow2",
                                       "format": "qcow2", "speed": 268435456]) == [:])
        #expect(vm.jobTrail() == ["created", "running"])
        vm.advance(1000)
        let job = try #require(vm.jobs().first)
        #expect(job == ["type": "backup", "device": "b1", "len": 1073741824, "offset": 268435456, "busy": false, "paused": false,
                        "speed": 268435456, "io-status": "ok", "ready": false, "status": "running", "auto-finalize": true, "auto-dismiss": true])
        #expect(vm.ok("query-jobs") == [["id": "b1", "type": "backup", "status": "running", "current-progress": 268435456, "total-progress": 1073741824]])
        #expect(vm.error("drive-backup", ["device": "drive0", "job-id": "b2", "sync": "full", "target": "/tmp/bq/b1.qcow2"])
                == ("GenericError", "Node 'drive0' is busy: block device is in use by block job: backup"))
        #expect(vm.error("block-job-complete", ["device": "b1"]) == ("GenericError", "Job 'b1' in state 'running' cannot accept command verb 'complete'"))
        vm.guest("write", ["device": "drive0", "offset": 0, "bytes": 131072])
        vm.advance(3000)
        #expect(vm.jobTrail() == ["waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
        #expect(vm.jobs().isEmpty)
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["count"] == 131072)
        #expect(vm.error("drive-backup", ["device": "drive0", "sync": "incremental", "target": "/tmp/bq/b2.qcow2"])
                == ("GenericError", "must provide a valid bitmap name for 'incremental' sync mode"))
        #expect(vm.error("drive-backup", ["device": "drive0", "sync": "incremental", "bitmap": "zz", "target": "/tmp/bq/b2.qcow2"])
                == ("GenericError", "Bitmap 'zz' could not be found"))
        #expect(vm.ok("drive-backup", ["device": "drive0", "sync": "incremental", "bitmap": "bm0", "target": "/tmp/bq/i1.qcow2", "speed": 65536]) == [:])
        #expect(vm.jobs().first?["len"] == 131072)
        #expect(vm.jobs().first?["device"] == "drive0")
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["busy"] == true)
        #expect(vm.error("block-dirty-bitmap-remove", ["node": "drive0", "name": "bm0"])
                == ("GenericError", "Bitmap 'bm0' is currently in use by another operation and cannot be used"))
        vm.advance(2000)
        let events = vm.events()
        #expect(events.last?["data"] == ["id": "drive0", "status": "null"])
        #expect(events.first { $0["event"] == "BLOCK_JOB_COMPLETED" }?["data"] == ["type": "backup", "device": "drive0", "len": 131072, "offset": 131072, "speed": 65536])
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["count"] == 0)
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["busy"] == false)
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 6)
    }

    @Test func bitmapErrors() throws {
        let vm = try BlockVM()
        _ = vm.ok("block-dirty-bitmap-add", ["node": "drive0", "name": "bm0"])
        #expect(vm.error("block-dirty-bitmap-add", ["node": "drive0", "name": "bm0"]) == ("GenericError", "Bitmap already exists: bm0"))
        #expect(vm.error("block-dirty-bitmap-add", ["node": "nope", "name": "bm0"]) == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.error("block-dirty-bitmap-add", ["node": "drive0", "name": "bm1", "granularity": 1000])
                == ("GenericError", "Granularity must be power of 2 and at least 512"))
        #expect(vm.error("block-dirty-bitmap-remove", ["node": "drive0", "name": "zz"]) == ("GenericError", "Dirty bitmap 'zz' not found"))
        #expect(vm.error("block-dirty-bitmap-clear", ["node": "drive0", "name": "zz"]) == ("GenericError", "Dirty bitmap 'zz' not found"))
        #expect(vm.ok("block-dirty-bitmap-disable", ["node": "drive0", "name": "bm0"]) == [:])
        vm.guest("write", ["device": "drive0", "offset": 0, "bytes": 4096])
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["count"] == 0)
        #expect(vm.inserted("drive0")?["dirty-bitmaps"]?.arrayValue?.first?["recording"] == false)
        #expect(vm.ok("block-dirty-bitmap-remove", ["node": "drive0", "name": "bm0"]) == [:])
        #expect(vm.inserted("drive0")?["dirty-bitmaps"] == nil)
    }

    @Test func liveSnapshotThenActiveCommit() throws {
        let vm = try BlockVM()
        #expect(vm.ok("blockdev-snapshot-sync", ["device": "drive0", "snapshot-file": "/tmp/bq/snap1.qcow2", "format": "qcow2",
                                                 "snapshot-node-name": "sn1"]) == [:])
        let inserted = try #require(vm.inserted("drive0"))
        #expect(inserted["node-name"] == "sn1")
        #expect(inserted["backing_file"] == "/tmp/bq/d0.qcow2")
        #expect(inserted["backing_file_depth"] == 1)
        #expect(inserted["image"]?["backing-image"]?["filename"] == "/tmp/bq/d0.qcow2")
        #expect(inserted["image"]?["backing-filename-format"] == "qcow2")
        #expect(inserted["image"]?["actual-size"] == 200704)
        #expect(vm.error("blockdev-snapshot-sync", ["device": "drive0", "snapshot-file": "/tmp/bq/snap2.qcow2", "snapshot-node-name": "sn1"])
                == ("GenericError", "New overlay node-name already in use"))
        #expect(vm.error("blockdev-snapshot-sync", ["device": "drive0", "snapshot-file": "/tmp/bq/snap1.qcow2"])
                == ("GenericError", "Error: Trying to create an image with the same filename as the backing file"))
        vm.guest("write", ["device": "drive0", "offset": 0, "bytes": 6710886])
        #expect(vm.ok("block-commit", ["device": "drive0", "job-id": "c1"]) == [:])
        #expect(vm.jobTrail() == ["created", "running"])
        #expect(vm.error("block-commit", ["device": "drive0", "job-id": "c2"]) == ("GenericError", "Need a root block node"))
        vm.advance(100)
        #expect(vm.jobTrail() == ["ready", "BLOCK_JOB_READY"])
        #expect(vm.jobs().first?["ready"] == true)
        #expect(vm.jobs().first?["status"] == "ready")
        #expect(vm.ok("block-job-complete", ["device": "c1"]) == [:])
        #expect(vm.jobTrail() == ["waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
        #expect(vm.inserted("drive0")?["file"] == "/tmp/bq/d0.qcow2")
        #expect(vm.inserted("drive0")?["backing_file_depth"] == 0)
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.contains { $0["node-name"] == "sn1" } == false)
        #expect(vm.error("block-job-complete", ["device": "c1"]) == ("DeviceNotActive", "Block job 'c1' not found"))
        #expect(vm.error("job-dismiss", ["id": "nope"]) == ("GenericError", "Job not found"))
        #expect(vm.error("block-commit", ["device": "drive0"]) == ("GenericError", "cannot commit an image into itself"))
    }

    @Test func mirrorToReadyThenPivot() throws {
        let vm = try BlockVM()
        #expect(vm.ok("drive-mirror", ["device": "drive0", "job-id": "m1", "sync": "full", "target": "/tmp/bq/m1.qcow2",
                                       "format": "qcow2", "speed": 8388608]) == [:])
        #expect(vm.jobs().first?["len"] == 16777216)
        vm.advance(1000)
        #expect(vm.jobs().first?["offset"] == 8388608)
        #expect(vm.ok("block-job-pause", ["device": "m1"]) == [:])
        #expect(vm.error("block-job-pause", ["device": "m1"]) == ("GenericError", "Job is already paused"))
        vm.advance(5000)
        #expect(vm.jobs().first?["offset"] == 8388608)
        #expect(vm.jobs().first?["paused"] == true)
        #expect(vm.ok("block-job-resume", ["device": "m1"]) == [:])
        #expect(vm.error("block-job-resume", ["device": "m1"]) == ("GenericError", "Can't resume a job that was not paused"))
        #expect(vm.error("block-job-set-speed", ["device": "m1", "speed": -1]) == ("GenericError", "Parameter 'speed' expects a non-negative value"))
        vm.advance(1000)
        #expect(vm.jobTrail() == ["created", "running", "paused", "running", "ready", "BLOCK_JOB_READY"])
        #expect(vm.ok("block-job-complete", ["device": "m1"]) == [:])
        #expect(vm.jobTrail() == ["waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
        #expect(vm.inserted("drive0")?["file"] == "/tmp/bq/m1.qcow2")
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.contains { $0["file"] == "/tmp/bq/d0.qcow2" } == false)
    }

    @Test func cancelRunningAndSoftCancelReadyMirror() throws {
        let vm = try BlockVM()
        _ = vm.ok("drive-backup", ["device": "drive0", "sync": "full", "target": "/tmp/bq/b7.qcow2", "speed": 1048576])
        vm.advance(1000)
        #expect(vm.ok("block-job-cancel", ["device": "drive0"]) == [:])
        let events = vm.events()
        #expect(events.first { $0["event"] == "BLOCK_JOB_CANCELLED" }?["data"] == ["type": "backup", "device": "drive0", "len": 1073741824, "offset": 1048576, "speed": 1048576])
        #expect(events.compactMap { $0["data"]?["status"]?.stringValue } == ["created", "running", "aborting", "concluded", "null"])
        _ = vm.ok("drive-mirror", ["device": "drive0", "job-id": "m2", "sync": "full", "target": "/tmp/bq/m2.qcow2"])
        vm.advance(1000)
        _ = vm.events()
        #expect(vm.ok("block-job-cancel", ["device": "m2"]) == [:])
        #expect(vm.jobTrail() == ["waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
        #expect(vm.inserted("drive0")?["file"] == "/tmp/bq/d0.qcow2")
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 6)
    }

    @Test func manualFinalizeAndDismiss() throws {
        let vm = try BlockVM()
        _ = vm.ok("drive-backup", ["device": "drive1", "job-id": "b", "sync": "full", "target": "/tmp/bq/x.raw",
                                   "auto-finalize": false, "auto-dismiss": false])
        vm.advance(2000)
        #expect(vm.jobTrail() == ["created", "running", "waiting", "pending", "BLOCK_JOB_PENDING"])
        #expect(vm.error("job-dismiss", ["id": "b"]) == ("GenericError", "Job 'b' in state 'pending' cannot accept command verb 'dismiss'"))
        #expect(vm.ok("job-finalize", ["id": "b"]) == [:])
        #expect(vm.jobTrail() == ["BLOCK_JOB_COMPLETED", "concluded"])
        #expect(vm.ok("query-jobs")?.arrayValue?.first?["status"] == "concluded")
        #expect(vm.ok("block-job-dismiss", ["id": "b"]) == [:])
        #expect(vm.jobTrail() == ["null"])
        #expect(vm.ok("query-jobs") == [])
    }

    @Test func streamDropsTheBackingChain() throws {
        let vm = try BlockVM()
        _ = vm.ok("blockdev-snapshot-sync", ["device": "drive0", "snapshot-file": "/tmp/bq/s1.qcow2", "snapshot-node-name": "s1"])
        _ = vm.ok("blockdev-snapshot-sync", ["device": "drive0", "snapshot-file": "/tmp/bq/s2.qcow2", "snapshot-node-name": "s2"])
        #expect(vm.inserted("drive0")?["backing_file_depth"] == 2)
        #expect(vm.error("block-stream", ["device": "nope"]) == ("GenericError", "Cannot find device='nope' nor node-name='nope'"))
        #expect(vm.ok("block-stream", ["device": "drive0", "job-id": "s"]) == [:])
        vm.advance(20000)
        #expect(vm.jobTrail() == ["created", "running", "waiting", "pending", "BLOCK_JOB_COMPLETED", "concluded", "null"])
        #expect(vm.inserted("drive0")?["backing_file_depth"] == 0)
        #expect(vm.inserted("drive0")?["node-name"] == "s2")
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 6)
    }

    @Test func jobErrorPolicies() throws {
        let vm = try BlockVM()
        _ = vm.ok("drive-backup", ["device": "drive0", "job-id": "b", "sync": "full", "target": "/tmp/bq/e.qcow2", "on-source-error": "stop"])
        _ = vm.events()
        vm.guest("job-error", ["job": "b", "operation": "read"])
        #expect(vm.jobTrail() == ["BLOCK_JOB_ERROR", "paused"])
        #expect(vm.jobs().first?["io-status"] == "failed")
        _ = vm.ok("block-job-resume", ["device": "b"])
        _ = vm.events()
        vm.guest("job-error", ["job": "b"])
        #expect(vm.events().first?["data"] == ["device": "b", "operation": "write", "action": "stop"])
        _ = vm.ok("block-job-cancel", ["device": "b", "force": true])
        _ = vm.events()
        _ = vm.ok("drive-backup", ["device": "drive0", "job-id": "r", "sync": "full", "target": "/tmp/bq/e.qcow2"])
        _ = vm.events()
        vm.guest("job-error", ["job": "r"])
        let events = vm.events()
        #expect(events.map { $0["event"]?.stringValue ?? "" } == ["BLOCK_JOB_ERROR", "JOB_STATUS_CHANGE", "BLOCK_JOB_COMPLETED", "JOB_STATUS_CHANGE", "JOB_STATUS_CHANGE"])
        #expect(events[2]["data"]?["error"] == "Input/output error")
    }
}
}
