#if canImport(Glibc)
import Glibc
#endif

/// Static C strings for run-state names, so `vm_run_state` can return a
/// pointer that never dangles.
enum RunStateNames {
    /// One per state, in `RunState.allCases` order: found by a short scan
    /// of the cases that compares tags (a dictionary hashed the state for
    /// each of the three to four `vm_run_state` calls a VM's plugins make
    /// as it is created).
    nonisolated(unsafe) private static let storage: [UnsafeMutablePointer<CChar>?] = RunState.allCases.map { strdup($0.rawValue) }
    private static let states = RunState.allCases

    static func cString(for state: RunState) -> UnsafePointer<CChar>? {
        guard let index = states.firstIndex(of: state) else { return nil }
        return storage[index].map { UnsafePointer($0) }
    }
}
