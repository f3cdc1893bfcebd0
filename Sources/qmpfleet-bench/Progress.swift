import Foundation

/// What the run is doing, on standard error while the table builds up on
/// standard output: a line per step, and on a terminal a counter within
/// the step rewritten in place.
enum Progress {
    private static let start = Date()
    private static let isTerminal = isatty(STDERR_FILENO) != 0

    /// A new step ("density 10000 VMs: starting the fleet").
    static func step(_ text: String) {
        write((isTerminal ? "\r\u{1B}[K" : "") + stamp(text) + "\n")
    }

    /// How far the current step is; shown on a terminal only, so a log
    /// gets one line per step rather than one per repeat.
    static func update(_ text: String, done: Int, of total: Int) {
        guard isTerminal, done == total || done % max(1, total / 50) == 0 else { return }
        write("\r\u{1B}[K" + stamp("\(text) \(done)/\(total)"))
        if done == total { write("\n") }
    }

    private static func stamp(_ text: String) -> String {
        String(format: "[%6.1f s] ", Date().timeIntervalSince(start)) + text
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
