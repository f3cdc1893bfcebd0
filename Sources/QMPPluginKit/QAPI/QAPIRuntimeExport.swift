/// Generated plugin code and plugin authors see the QAPI runtime (`QAPI`,
/// `QAPIValue`, the command, event and guest-action protocols) through the
/// kit: a plugin depends on QMPPluginKit only. The host's generated core and
/// control types use the same module.
@_exported import QAPIRuntime
