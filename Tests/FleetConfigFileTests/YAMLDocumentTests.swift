@testable import FleetConfigFile
import FleetCore
import QMPWire
import Testing

/// The config file's own step: YAML text to the JSON value FleetCore checks.
struct YAMLDocumentTests {
    /// A quoted scalar is a string whatever it looks like; a plain one is
    /// typed by its YAML tag (what lets `socket-mode: "0600"` stay text).
    @Test func scalarsKeepTheirYAMLType() throws {
        let value = try YAMLDocument.parse("""
            quoted: '0600'
            doubled: "true"
            int: 42
            float: 1.5
            bool: false
            null-value: ~
            plain: ci-{n}
            list: [a, 1]
            """, file: "f.yaml")
        #expect(value["quoted"] == .string("0600"))
        #expect(value["doubled"] == .string("true"))
        #expect(value["int"] == .int(42))
        #expect(value["float"] == .double(1.5))
        #expect(value["bool"] == .bool(false))
        #expect(value["null-value"] == .null)
        #expect(value["plain"] == .string("ci-{n}"))
        #expect(value["list"] == .array([.string("a"), .int(1)]))
    }

    @Test func anEmptyFileIsAnEmptyConfig() throws {
        #expect(try YAMLDocument.parse("", file: "f.yaml") == .object([:]))
        #expect(try FleetConfig.parse(yaml: "", file: "f.yaml").vms.isEmpty)
    }

    @Test func badYAMLNamesTheFile() {
        #expect {
            _ = try FleetConfig.parse(yaml: "vms: [{name: a", file: "bad.yaml")
        } throws: { error in
            "\(error)".hasPrefix("bad.yaml: not valid YAML")
        }
    }

    @Test func anUnreadableFileSaysWhy() {
        #expect {
            _ = try FleetConfig.load(path: "/nonexistent/fleet.yaml")
        } throws: { error in
            "\(error)" == "/nonexistent/fleet.yaml: cannot read: No such file or directory"
        }
    }

    /// The document goes to FleetCore's checks as it was read.
    @Test func theFileIsCheckedByTheCore() throws {
        let config = try FleetConfig.parse(yaml: "socket-mode: '0640'\nvms: [{name: 'ci-{n}', count: 2}]", file: "f.yaml")
        #expect(config.socketMode == 0o640)
        #expect(config.vms.map(\.name) == ["ci-0", "ci-1"])
        #expect(config.source == "f.yaml")
    }
}
