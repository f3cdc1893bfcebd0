import QMPWire
import Testing

extension BlockSuite {
/// What one VM's clients can make the block plugin hold is bounded
/// (`BlockLimits`): past each limit the command is refused with a text
/// that names it and nothing is added; QEMU's own refusals (a duplicate
/// name) keep their texts, and removing one makes room again.
@Suite struct BlockLimitsTests {
    static func refusal(_ count: Int, _ what: String) -> (String?, String?) {
        ("GenericError", "The VM holds \(count) \(what) already (the block plugin's limit)")
    }

    static func nullNode(_ name: String) -> JSONObject {
        ["driver": "null-co", "node-name": .string(name), "size": 1048576]
    }

    @Test func nodesPerVM() throws {
        let vm = try BlockVM("{}")
        for n in 0..<1024 { #expect(vm.ok("blockdev-add", Self.nullNode("n\(n)")) == [:]) }
        #expect(vm.error("blockdev-add", Self.nullNode("extra")) == Self.refusal(1024, "block nodes"))
        #expect(vm.error("blockdev-add", Self.nullNode("n5")) == ("GenericError", "Duplicate nodes with node-name='n5'"))
        // A node made on the way (an overlay's image and nodes) is refused the same way, and leaves no image behind.
        #expect(vm.error("blockdev-snapshot-sync", ["node-name": "n1", "snapshot-file": "/tmp/bq/limit-overlay.qcow2",
                                                    "snapshot-node-name": "o1"]) == Self.refusal(1024, "block nodes"))
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 1024)
        #expect(vm.ok("blockdev-del", ["node-name": "n0"]) == [:])
        #expect(vm.ok("blockdev-add", Self.nullNode("extra")) == [:])
    }

    /// Concluded jobs stay until they are dismissed, so a client that
    /// never dismisses could otherwise make them without end.
    @Test func jobsPerVM() throws {
        let vm = try BlockVM("{}")
        _ = vm.ok("blockdev-add", Self.nullNode("n0"))
        func amend(_ id: String) -> (String?, String?) {
            vm.error("x-blockdev-amend", ["job-id": .string(id), "node-name": "n0", "options": ["driver": "qcow2"]])
        }
        for n in 0..<256 { #expect(amend("j\(n)") == (nil, nil)) }
        vm.advance(10)
        #expect(vm.ok("query-jobs")?.arrayValue?.count == 256)
        #expect(amend("extra") == Self.refusal(256, "jobs"))
        #expect(amend("j7") == ("GenericError", "Job ID 'j7' already in use"))
        #expect(vm.ok("job-dismiss", ["id": "j0"]) == [:])
        #expect(amend("extra") == (nil, nil))
    }

    @Test func bitmapsPerVM() throws {
        let vm = try BlockVM("{}")
        _ = vm.ok("blockdev-add", Self.nullNode("a"))
        _ = vm.ok("blockdev-add", Self.nullNode("b"))
        func add(_ node: String, _ name: String) -> (String?, String?) {
            vm.error("block-dirty-bitmap-add", ["node": .string(node), "name": .string(name)])
        }
        // Counted over all of the VM's nodes.
        for n in 0..<512 {
            #expect(add("a", "m\(n)") == (nil, nil))
            #expect(add("b", "m\(n)") == (nil, nil))
        }
        #expect(add("b", "extra") == Self.refusal(1024, "dirty bitmaps"))
        #expect(add("a", "m3") == ("GenericError", "Bitmap already exists: m3"))
        #expect(vm.ok("block-dirty-bitmap-remove", ["node": "a", "name": "m0"]) == [:])
        #expect(add("b", "extra") == (nil, nil))
    }

    @Test func internalSnapshotsPerVM() throws {
        let vm = try BlockVM()
        func take(_ name: String) -> (String?, String?) {
            vm.error("blockdev-snapshot-internal-sync", ["device": "drive0", "name": .string(name)])
        }
        for n in 0..<1024 { #expect(take("s\(n)") == (nil, nil)) }
        #expect(take("extra") == Self.refusal(1024, "internal snapshots"))
        #expect(take("s9") == ("GenericError", "Snapshot with name 's9' already exists on device 'drive0'"))
        #expect(vm.error("blockdev-snapshot-delete-internal-sync", ["device": "drive0", "name": "s0"]).0 == nil)
        #expect(take("extra") == (nil, nil))
    }

    /// A backup to a new file records the image (its format, for a later
    /// open) and drops its nodes when the job ends: the records are bounded
    /// on their own.
    @Test func imagesPerVM() throws {
        let vm = try BlockVM("{}")
        _ = vm.ok("blockdev-add", Self.nullNode("src"))
        func backup(_ n: Int) -> (String?, String?) {
            vm.error("drive-backup", ["device": "src", "job-id": .string("b\(n)"), "sync": "full", "format": "raw",
                                      "target": .string("/tmp/bq/limit-image-\(n).raw")])
        }
        for n in 0..<1024 {
            #expect(backup(n) == (nil, nil))
            vm.advance(200)
        }
        #expect(vm.jobs().isEmpty)
        #expect(vm.ok("query-named-block-nodes")?.arrayValue?.count == 1)
        #expect(backup(1024) == Self.refusal(1024, "image files"))
        // One the VM knows already is written again.
        #expect(backup(3) == (nil, nil))
    }
}
}
