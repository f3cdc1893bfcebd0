import Logging

/// Logging to stderr at the level the user asked for.
enum LogSetup {
    static func bootstrap(level: String) -> Logger {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = parsed
            return handler
        }
        var logger = Logger(label: "qmpfleet")
        logger.logLevel = parsed
        return logger
    }
}
