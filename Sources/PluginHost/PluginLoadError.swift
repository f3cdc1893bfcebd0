/// Why a plugin could not be loaded or instantiated: the text names the
/// plugin and its path and says what is wrong. The fleet passes it on as
/// it is (FleetCore's `FleetError.plugin`), so its texts are what a
/// `vm-create` client and the loader tests see.
public struct PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    package init(_ description: String) { self.description = description }
}
