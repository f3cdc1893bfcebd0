import FleetConfigFile
@testable import FleetCore
import Testing

struct ConfigTests {
    @Test func countExpansionAndTemplates() throws {
        let config = try FleetConfig.parse(yaml: """
            socket-dir: /tmp/x
            templates:
              small: {machine: q35, memory: 512M, smp: {cpus: 2, cores: 2, maxcpus: 2}, start-paused: true}
            vms:
              - {name: "ci-{n}", count: 3, template: small}
              - {name: web, memory: {size: 2G}}
            """, file: "f.yaml")
        #expect(config.vms.map(\.name) == ["ci-0", "ci-1", "ci-2", "web"])
        #expect(config.vms[0].machine.type == "pc-q35-7.2")
        #expect(config.vms[0].machine.ramBytes == 512 << 20)
        #expect(config.vms[0].startPaused)
        #expect(config.vms[1].guestName == "ci-1")
        #expect(config.vms[0].uuid != config.vms[1].uuid)
        #expect(config.vms[3].machine.ramBytes == 2 << 30)
        #expect(!config.vms[3].startPaused)
    }

    @Test(arguments: [
        ("vms: [{name: a, template: nope}]", "'vms[0].template'"),
        ("vms: [{name: a, smp: {cpus: x}}]", "'vms[0].smp.cpus': expected an integer"),
        ("vms: [{name: a, colour: red}]", "'vms[0].colour': unknown key"),
        ("vms: [{name: 'a/b'}]", "must not contain '/'"),
        ("vms: [{name: a}, {name: a}]", "duplicate VM name 'a'"),
        ("vms: [{name: ci, count: 2}]", "{n} placeholder"),
        ("socket-mode: rw", "'socket-mode': expected an octal mode"),
        ("limits: {clients-per-vm: 0}", "'limits.clients-per-vm': expected a positive integer"),
        ("limits: {clients-written-by-vm-loop: -1}", "'limits.clients-written-by-vm-loop': expected an integer of 0 or more"),
        ("vms: [{name: a, smp: {cpus: 4, maxcpus: 2}}]",
         "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (1) * dies (1) * cores (1) * threads (1) != maxcpus (2)"),
        ("vms: [{name: a, smp: {cpus: 4, cores: 2, maxcpus: 2}}]",
         "Invalid CPU topology: maxcpus must be equal to or greater than smp: sockets (1) * dies (1) * cores (2) * threads (1) == maxcpus (2) < smp_cpus (4)"),
        ("vms: [{name: 'ci-{n}', count: 9223372036854775807}]", "'vms[0].count': expected a count of at most 20000"),
        ("vms: [{name: 'ci-{n}', count: 2, first: 9223372036854775807}]", "'vms[0].first'"),
        ("vms: [{name: a, memory: 16E}]", "'vms[0].memory': Value '16E' is out of range for parameter 'size'"),
        ("vms: [{name: a, memory: {size: 1G, maxmem: 16384P}}]", "Value '16384P' is out of range for parameter 'maxmem'"),
    ])
    func errorsNameFileKeyAndExpectation(yaml: String, expected: String) {
        #expect {
            _ = try FleetConfig.parse(yaml: yaml, file: "f.yaml")
        } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("f.yaml: ") && text.contains(expected)
        }
    }

    @Test func sizes() {
        #expect(ConfigReader.parseSize("4G") == 4 << 30)
        #expect(ConfigReader.parseSize("512M") == 512 << 20)
        #expect(ConfigReader.parseSize("1024") == 1024)
        #expect(ConfigReader.parseSize("x") == nil)
        // QEMU's qemu_strtosz: 2^64 and more is out of range, not wrapped.
        #expect(ConfigReader.parseSize("8388608T") == 1 << 63)
        #expect(ConfigReader.parseSize("15E") == 15 << 60)
        #expect(ConfigReader.parseSize("16E") == nil)
        #expect(ConfigReader.parseSize("16777216T") == nil)
    }

    @Test func limitsOfIssue16AreConfigurable() throws {
        let config = try FleetConfig.parse(yaml: "limits: {control-clients: 3, fds-per-vm: 5}\nvms: []", file: "f")
        #expect(config.limits.controlClients == 3)
        #expect(config.limits.fdsPerVM == 5)
        #expect(Limits().controlClients == 64)
        #expect(Limits().fdsPerVM == 256)
        #expect(try FleetConfig.parse(yaml: "limits: {objects-per-vm: 7}\nvms: []", file: "f").limits.objectsPerVM == 7)
        #expect(Limits().objectsPerVM == 1024)
        #expect(throws: FleetError.self) { try FleetConfig.parse(yaml: "limits: {objects-per-vm: 0}\nvms: []", file: "f") }
        #expect(try FleetConfig.parse(yaml: "limits: {devices-per-vm: 9}\nvms: []", file: "f").limits.devicesPerVM == 9)
        #expect(Limits().devicesPerVM == 1024)
        #expect(throws: FleetError.self) { try FleetConfig.parse(yaml: "limits: {devices-per-vm: -1}\nvms: []", file: "f") }
        #expect(throws: FleetError.self) { try FleetConfig.parse(yaml: "limits: {fds-per-vm: 0}\nvms: []", file: "f") }
    }

    @Test func controlRequestsInFlightIsRangeChecked() throws {
        #expect(Limits().controlRequestsInFlight == 64)
        let config = try FleetConfig.parse(yaml: "limits: {control-requests-in-flight: 1}\nvms: []", file: "f")
        #expect(config.limits.controlRequestsInFlight == 1)
        for bad in ["0", "-1", "4097", "1e9", "x"] {
            #expect(throws: FleetError.self) { try FleetConfig.parse(yaml: "limits: {control-requests-in-flight: \(bad)}\nvms: []", file: "f") }
        }
        #expect(try FleetConfig.parse(yaml: "limits: {control-requests-in-flight: 4096}\nvms: []", file: "f").limits.controlRequestsInFlight == 4096)
    }

    @Test func allowedFilePaths() {
        var config = FleetConfig()
        config.allowedFileDirectories = ["/tmp"]
        #expect(config.allowedFiles.isBeneathAllowedDirectory("/tmp/a.ppm"))
        #expect(!config.allowedFiles.isBeneathAllowedDirectory("/tmp"))
        #expect(!config.allowedFiles.isBeneathAllowedDirectory("/tmpx/a"))
        #expect(!config.allowedFiles.isBeneathAllowedDirectory("/etc/passwd"))
        #expect(!config.allowedFiles.isBeneathAllowedDirectory("relative"))
    }
}
