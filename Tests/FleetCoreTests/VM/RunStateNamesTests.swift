@testable import FleetCore
import Testing

/// `vm_run_state`'s C strings: each state's QEMU name, at the same address
/// every time (a plugin may keep the pointer).
@Suite struct RunStateNamesTests {
    @Test func everyStateHasItsNameForGood() throws {
        for state in RunState.allCases {
            let text = try #require(RunStateNames.cString(for: state))
            #expect(String(cString: text) == state.rawValue)
            #expect(RunStateNames.cString(for: state) == text)
        }
    }
}
