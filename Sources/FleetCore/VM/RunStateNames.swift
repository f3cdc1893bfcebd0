#if canImport(Glibc)
import Glibc
#endif

/// Static C strings for run-state names, so `vm_run_state` can return a
/// pointer that never dangles.
enum RunStateNames {
    nonisolated(unsafe) private static let storage: [RunState: UnsafeMutablePointer<CChar>] = {
        var map: [RunState: UnsafeMutablePointer<CChar>] = [:]
        for state in RunState.allCases { map[state] = strdup(state.rawValue) }
        return map
    }()

    static func cString(for state: RunState) -> UnsafePointer<CChar>? {
        storage[state].map { UnsafePointer($0) }
    }
}
