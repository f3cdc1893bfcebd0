import QMPWire

extension QAPICommand {
    /// The checked members decoded, or the error generated code found: how
    /// the core's and the control socket's command bindings call a handler.
    ///
    /// Inlinable, and a `do`/`catch` rather than `Result(catching:)`: since
    /// it left FleetCore (ad6d9ee) every core command called it across the
    /// module boundary unspecialized, and `Result(catching:)` then ran the
    /// standard library's generic body with a metadata lookup per request,
    /// 3 % of a pipelined `query-status` (docs/performance.md).
    @inlinable
    package static func decoding(_ members: JSONObject) -> Result<Self, QMPError> {
        do throws(QMPError) {
            return .success(try Self(arguments: members))
        } catch {
            return .failure(error)
        }
    }
}
