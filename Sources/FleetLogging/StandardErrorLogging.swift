import Logging

/// How the fleet's executables log: every logger of the process, theirs and
/// FleetCore's, writes to stderr at one level, which the user chose
/// (`qmpfleet serve --log-level`, `QMPFLEET_LOG_LEVEL` for qmpfleet-emulator).
///
/// ```swift
/// let logger = StandardErrorLogging.bootstrap(level: .warning, label: "qmpfleet-emulator")
/// logger.info("starting")     // dropped: below the level
/// logger.warning("no monitor") // written to stderr, as by FleetCore's loggers
/// ```
///
/// A module of its own because both executables need it and neither can
/// import the other; it sits above swift-log only.
public enum StandardErrorLogging {
    /// Bootstraps swift-log for the process (once: swift-log allows one
    /// bootstrap) and returns the executable's own logger at that level.
    public static func bootstrap(level: Logger.Level, label: String) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}
