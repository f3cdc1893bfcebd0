import Foundation
import QMPWire
import Testing

extension BlockSuite {
    /// tls-creds-anon/-x509/-psk and authz-simple/-list: QEMU 7.2's checks
    /// at creation, each text as qemu-system-x86_64 7.2 gave it here.
    @Suite struct SecurityObjectTests {
        func object(_ vm: BlockVM, _ type: String, _ id: String, _ props: JSONObject = [:]) -> JSONValue? {
            var args: JSONObject = ["qom-type": .string(type), "id": .string(id)]
            for (key, value) in props { args[key] = value }
            return vm.client.call("object-add", args)
        }

        @Test func tlsCredentialsCheckTheirDirectory() throws {
            let dir = "/tmp/tls-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let vm = try BlockVM("{}")
            #expect(object(vm, "tls-creds-anon", "a0")?["return"] == .object([:]))
            #expect(object(vm, "tls-creds-anon", "a1", ["endpoint": "server", "dir": .string("\(dir)/none")])?["return"] == .object([:]))
            #expect(object(vm, "tls-creds-anon", "a2", ["endpoint": "bogus"])?["error"]?["desc"] == "Parameter 'endpoint' does not accept value 'bogus'")
            #expect(object(vm, "tls-creds-x509", "x0")?["error"]?["desc"] == "Missing 'dir' property value")
            #expect(object(vm, "tls-creds-x509", "x1", ["dir": .string(dir)])?["error"]?["desc"]
                    == .string("Unable to access credentials \(dir)/ca-cert.pem: No such file or directory"))
            FileManager.default.createFile(atPath: "\(dir)/ca-cert.pem", contents: Data("garbage\n".utf8))
            #expect(object(vm, "tls-creds-x509", "x2", ["dir": .string(dir)])?["error"]?["desc"]
                    == .string("Unable to import CA certificate list \(dir)/ca-cert.pem"))
            #expect(object(vm, "tls-creds-x509", "x3", ["dir": .string(dir), "endpoint": "server"])?["error"]?["desc"]
                    == .string("Unable to access credentials \(dir)/server-cert.pem: No such file or directory"))
            #expect(object(vm, "tls-creds-psk", "p0")?["error"]?["desc"] == "Missing 'dir' property value")
            #expect(object(vm, "tls-creds-psk", "p1", ["dir": .string(dir)])?["error"]?["desc"]
                    == .string("Unable to access credentials \(dir)/keys.psk: No such file or directory"))
            FileManager.default.createFile(atPath: "\(dir)/keys.psk", contents: Data("qemu:0123456789abcdef\n".utf8))
            #expect(object(vm, "tls-creds-psk", "p2", ["dir": .string(dir)])?["return"] == .object([:]))
            #expect(object(vm, "tls-creds-psk", "p3", ["dir": .string(dir), "username": "bob"])?["error"]?["desc"]
                    == .string("Username bob not found in PSK file \(dir)/keys.psk"))
            #expect(object(vm, "tls-creds-psk", "p4", ["dir": .string(dir), "endpoint": "server"])?["return"] == .object([:]))
            #expect(vm.ok("object-del", ["id": "p2"]) == .object([:]))
        }

        @Test func authzObjects() throws {
            let vm = try BlockVM("{}")
            #expect(object(vm, "authz-simple", "a0", ["identity": "bob"])?["return"] == .object([:]))
            #expect(object(vm, "authz-simple", "a1")?["error"]?["desc"] == "Parameter 'identity' is missing")
            #expect(object(vm, "authz-list", "a2")?["return"] == .object([:]))
            #expect(object(vm, "authz-list", "a3", ["policy": "allow", "rules": [["match": "bob", "policy": "deny"]]])?["return"] == .object([:]))
            #expect(object(vm, "authz-list", "a4", ["policy": "maybe"])?["error"]?["desc"] == "Parameter 'policy' does not accept value 'maybe'")
            #expect(vm.ok("object-del", ["id": "a3"]) == .object([:]))
        }
    }
}
