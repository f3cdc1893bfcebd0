import FleetConfigFile
@testable import FleetCore
import QMPWire
import Testing

/// The config's `faults:` section: what it arms and what it refuses.
struct FaultSpecTests {
    private func config(_ faults: String, limits: String = "") throws -> FleetConfig {
        try FleetConfig.parse(yaml: "\(limits)\nvms: [{name: vm0}]\nfaults:\n\(faults)", file: "f.yaml")
    }

    private func refusal(_ faults: String, limits: String = "") -> String? {
        do throws(FleetError) {
            _ = try FleetConfig.parse(yaml: "\(limits)\nvms: [{name: vm0}]\nfaults:\n\(faults)", file: "f.yaml")
            return nil
        } catch {
            return error.description
        }
    }

    @Test func readsEveryAction() throws {
        let c = try config("""
              - {id: e, vm: vm0, command: block_resize, times: 2, action: error, error-class: DeviceNotFound, desc: gone}
              - {command: query-status, probability: 0.25, seed: 7, action: delay, delay-ms: 200}
              - {action: drop-reply}
              - {action: disconnect}
              - {action: event, event: block-io-error, device: drive0, operation: read, nospace: true, io-action: stop}
              - {action: event, event: guest-panicked}
              - {action: event, event: migration-failed}
            """)
        #expect(c.faults.map(\.id) == ["e", "fault-1", "fault-2", "fault-3", "fault-4", "fault-5", "fault-6"])
        #expect(c.faults[0] == FaultSpec(id: "e", vm: "vm0", command: "block_resize",
                                         action: .error(QMPError(.deviceNotFound, "gone")), times: 2))
        #expect(c.faults[1].action == .delay(milliseconds: 200) && c.faults[1].probability == 0.25 && c.faults[1].seed == 7)
        #expect(c.faults[2].action == .dropReply && c.faults[2].vm == nil && c.faults[2].command == nil)
        #expect(c.faults[4].action == .event(.blockIOError(device: "drive0", operation: "read", nospace: true, policy: "stop")))
        #expect(c.faults[5].action == .event(.guestPanicked))
        #expect(c.faults[6].action == .event(.migrationFailed))
    }

    @Test func refusesWhatIsOutOfRange() {
        #expect(refusal("  - {action: error}") == "f.yaml: 'faults[0].desc': an error fault needs the error's text")
        #expect(refusal("  - {action: error, desc: x, error-class: Oops}")?.contains("'faults[0].error-class': expected a QMP error class") == true)
        #expect(refusal("  - {action: delay, delay-ms: 3600001}") == "f.yaml: 'faults[0].delay-ms': expected 0 to 3600000 milliseconds")
        #expect(refusal("  - {action: delay, delay-ms: 9223372036854775807}") == "f.yaml: 'faults[0].delay-ms': expected 0 to 3600000 milliseconds")
        #expect(refusal("  - {action: drop-reply, times: -1}") == "f.yaml: 'faults[0].times': expected 1 to 2147483647")
        #expect(refusal("  - {action: drop-reply, probability: -0.1}") == "f.yaml: 'faults[0].probability': expected a number from 0 to 1")
        #expect(refusal("  - {action: drop-reply, seed: 1}") == "f.yaml: 'faults[0].seed': a seed needs a probability")
        #expect(refusal("  - {action: drop-reply, delay-ms: 5}") == "f.yaml: 'faults[0].delay-ms': does not go with action 'drop-reply'")
        #expect(refusal("  - {action: event, event: block-io-error, device: d, operation: erase}") == "f.yaml: 'faults[0].operation': expected read or write")
        #expect(refusal("  - {action: explode}")?.hasPrefix("f.yaml: 'faults[0].action': expected one of: ") == true)
        #expect(refusal("  - {action: disconnect, colour: red}")?.hasPrefix("f.yaml: 'faults[0].colour': unknown key") == true)
        #expect(refusal("  - {id: a, action: disconnect}\n  - {id: a, action: drop-reply}") == "f.yaml: 'faults[1].id': duplicate fault id 'a'")
        #expect(refusal("  - {action: disconnect}\n  - {action: disconnect}", limits: "limits: {faults-per-fleet: 1}")
                == "f.yaml: 'faults': 2 faults exceed limits.faults-per-fleet (1)")
    }
}
