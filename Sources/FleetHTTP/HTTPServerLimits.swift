import FleetCore

/// The bounds one HTTP listener enforces, taken from the fleet's `Limits`
/// (`http-clients`, `http-header-bytes`, `http-request-timeout-ms`,
/// `http-output-bytes`).
public struct HTTPServerLimits: Sendable {
    public var clients: Int
    public var headerBytes: Int
    public var requestTimeoutMilliseconds: UInt64
    public var outputBytes: Int

    public init(clients: Int, headerBytes: Int, requestTimeoutMilliseconds: UInt64, outputBytes: Int) {
        self.clients = clients
        self.headerBytes = headerBytes
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.outputBytes = outputBytes
    }

    public init(_ limits: Limits) {
        self.init(clients: limits.httpClients, headerBytes: limits.httpHeaderBytes,
                  requestTimeoutMilliseconds: limits.httpRequestTimeoutMilliseconds, outputBytes: limits.httpOutputBytes)
    }
}
