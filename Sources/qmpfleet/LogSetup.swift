import FleetLogging
import Logging

/// Logging to stderr at the level the user asked for (`--log-level`; an
/// unknown name is `info`).
enum LogSetup {
    static func bootstrap(level: String) -> Logger {
        StandardErrorLogging.bootstrap(level: Logger.Level(rawValue: level) ?? .info, label: "qmpfleet")
    }
}
