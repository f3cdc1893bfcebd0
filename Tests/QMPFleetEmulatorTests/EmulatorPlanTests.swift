import FleetCore
import QMPWire
import Testing
@testable import qmpfleet_emulator

/// The QEMU command lines libvirt 9.0 generates (its log of a TCG domain
/// start, and of a capability probe), read into a fleet VM.
@Suite struct EmulatorPlanTests {
    /// libvirt 9.0's start of a small pc domain, as its log shows it.
    static let libvirtStart = [
        "-name", "guest=citest,debug-threads=on", "-S",
        "-object", #"{"qom-type":"secret","id":"masterKey0","format":"raw","file":"/var/lib/libvirt/master-key.aes"}"#,
        "-machine", "pc-i440fx-7.2,usb=off,dump-guest-core=off,memory-backend=pc.ram",
        "-accel", "tcg", "-cpu", "qemu64", "-m", "64",
        "-object", "memory-backend-ram,id=pc.ram,size=67108864",
        "-overcommit", "mem-lock=off", "-smp", "1,sockets=1,cores=1,threads=1",
        "-uuid", "ca2a2aa7-7b0a-476b-b3aa-726f5ade9efb", "-display", "none", "-no-user-config", "-nodefaults",
        "-chardev", "socket,id=charmonitor,fd=25,server=on,wait=off", "-mon", "chardev=charmonitor,id=monitor,mode=control",
        "-rtc", "base=utc", "-no-shutdown", "-boot", "strict=on",
        "-blockdev", #"{"driver":"file","filename":"/tmp/disk.img","node-name":"libvirt-1-storage"}"#,
        "-device", #"{"driver":"virtio-blk-pci","bus":"pci.0","addr":"0x3","drive":"libvirt-1-format","id":"virtio-disk0","bootindex":1}"#,
        "-chardev", "pty,id=charserial0", "-device", "isa-serial,chardev=charserial0,id=serial0,index=0",
        "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", "-msg", "timestamp=on",
    ]

    @Test func libvirtsStartLineBecomesAVM() throws {
        let plan = try EmulatorPlan(arguments: Self.libvirtStart, arch: "x86_64")
        #expect(plan.entry["name"] == "citest")
        #expect(plan.entry["machine"] == "pc-i440fx-7.2")
        #expect(plan.entry["kvm"] == false)
        #expect(plan.entry["memory"] == ["size": "64M"])
        #expect(plan.entry["smp"] == ["cpus": 1, "sockets": 1, "cores": 1, "threads": 1])
        #expect(plan.entry["start-paused"] == true)
        #expect(plan.entry["no-shutdown"] == true)
        #expect(plan.entry["uuid"] == "ca2a2aa7-7b0a-476b-b3aa-726f5ade9efb")
        #expect(plan.monitors == [.listeningFD(25)])
        // The board UART and its pty are made with the VM, not hot-plugged.
        #expect(plan.entry["plugins"]?["chardev"] == ["serial": [["id": "charserial0", "backend": "pty"]]])
        #expect(plan.commands.map(\.name) == ["object-add", "object-add", "blockdev-add", "device_add"])
        // Option syntax is typed as QEMU's keyval visitor would; JSON stays as written.
        #expect(plan.commands[1].arguments == ["qom-type": "memory-backend-ram", "id": "pc.ram", "size": 67_108_864])
        #expect(plan.commands[3].arguments["bootindex"] == 1)
        #expect(plan.commands[3].arguments["addr"] == "0x3")
        #expect(plan.ignored.contains("-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"))
    }

    @Test func libvirtsProbeLine() throws {
        let plan = try EmulatorPlan(arguments: ["-S", "-no-user-config", "-nodefaults", "-nographic", "-machine", "none,accel=tcg",
                                                "-qmp", "unix:/run/qmp.monitor,server=on,wait=off", "-pidfile", "/run/qmp.pid", "-daemonize"],
                                    arch: "x86_64")
        #expect(plan.entry["machine"] == "none")
        #expect(plan.monitors == [.path("/run/qmp.monitor")])
        #expect(plan.pidfile == "/run/qmp.pid")
        #expect(plan.daemonize)
        #expect(plan.commands.isEmpty)
    }

    @Test func qemuOptsSyntax() throws {
        let opts = try QemuOpts("socket,id=c0,path=/a,,b,server,nowait", impliedKey: "backend")
        #expect(opts["backend"] == "socket")
        #expect(opts["path"] == "/a,b")
        #expect(opts.bool("server") == true)
        #expect(opts.bool("wait") == false)
        #expect(throws: EmulatorError.self) { try QemuOpts("{not json", impliedKey: nil) }
    }

    @Test func badLinesFailAsQEMUWould() {
        for arguments in [["-qmp", "tcp:127.0.0.1:4444,server=on"], ["-mon", "chardev=nope,mode=control"], ["-m"],
                          ["-chardev", "socket,id=c0"]] {
            #expect(throws: EmulatorError.self, "\(arguments)") {
                let plan = try EmulatorPlan(arguments: arguments, arch: "x86_64")
                _ = plan
            }
        }
    }

    /// Without -m, QEMU gives a VM 128 MiB; every VM gets the balloon plugin
    /// (libvirt adds virtio-balloon-pci unless told otherwise).
    @Test func qemusDefaultsWithoutOptions() throws {
        let plan = try EmulatorPlan(arguments: ["-qmp", "unix:/tmp/x.sock,server=on,wait=off"], arch: "x86_64")
        #expect(plan.entry["memory"]?["size"] == "128M")
        #expect(plan.entry["plugins"]?["balloon"] != nil)
        #expect(plan.entry["plugins"]?["gic"] == nil)
    }
}
