/// A problem in a schema's declarations (not in a client's request): a
/// duplicate name, an unknown type, a malformed expression. Plugins get it as
/// a load error naming the plugin.
public struct SchemaError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
