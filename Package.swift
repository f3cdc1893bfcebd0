// swift-tools-version: 6.0
//
// qmpfleet: a fleet of simulated QEMU VMs, each with its own QMP socket, built
// from device plugins loaded at run time. The module table is in ARCHITECTURE.md.
import PackageDescription

/// Device families, one `.dynamic` library each (`libqmp-<name>.so`), loaded with
/// dlopen. A plugin depends on QMPPluginKit only; nothing may depend on a plugin
/// (it would be linked in statically and dlopen would be pointless).
let devicePlugins: [(folder: String, product: String)] = [
    ("Block", "qmp-block"),
    ("Net", "qmp-net"),
    ("Chardev", "qmp-chardev"),
    ("TPM", "qmp-tpm"),
    ("Rocker", "qmp-rocker"),
    ("GIC", "qmp-gic"),
    ("Memory", "qmp-memory"),
    ("CPUHotplug", "qmp-cpu-hotplug"),
    ("Dump", "qmp-dump"),
    ("Display", "qmp-display"),
    ("Trace", "qmp-trace"),
    ("Migration", "qmp-migration"),
    ("Balloon", "qmp-balloon"),
    ("Replay", "qmp-replay"),
    ("COLO", "qmp-colo"),
]

/// Data a plugin compiles in besides its schema.json, by plugin folder.
let pluginData: [String: [String]] = [
    "Trace": ["trace-events.txt"],
]

/// How every device plugin's library is linked, for the memory each maps
/// (docs/performance.md, "Memory of 10,000 VMs (session 9)"):
/// - it exports `qmp_plugin_entry` and nothing else (`Plugins/exports.map`):
///   the host looks up no other symbol, and the ~1,100 names of its copy of
///   the kit were ~100 KB of symbol tables mapped per plugin;
/// - by lld with packed relative relocations (`DT_RELR`, glibc 2.36, Debian
///   12): the Swift metadata's relocations were 35-150 KB per plugin, read
///   once at load and kept mapped; packed they are a tenth of that.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld",
        "-Xlinker", "--version-script=\(Context.packageDirectory)/Plugins/exports.map",
        "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
    ]),
]

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "qmpfleet",
    products: [
        .executable(name: "qmpfleet", targets: ["qmpfleet"]),
        .executable(name: "qmpfleet-bench", targets: ["qmpfleet-bench"]),
        .executable(name: "qmpfleet-emulator", targets: ["qmpfleet-emulator"]),
        // SharedValues too: a plugin's state its instances share across loop
        // threads is behind its `Locked` (docs/plugins.md).
        .library(name: "QMPPluginKit", targets: ["QMPPluginKit", "SharedValues"]),
        .library(name: "QMPFleetTesting", targets: ["QMPFleetTesting"]),
    ] + devicePlugins.map { .library(name: $0.product, type: .dynamic, targets: [$0.folder + "Plugin"]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(name: "CUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        // sys/epoll.h for the benchmark (Swift's Glibc module leaves it out).
        .systemLibrary(name: "CEpoll"),
        .target(name: "QMPPluginABI"),
        // Blocking descriptor I/O both UVLoop (a file's transfer on the pool)
        // and QMPPluginKit (a worker's, on an old host) use; plugins do not
        // link libuv, so it is not UVLoop's.
        .target(name: "DescriptorIO", swiftSettings: swiftSettings),
        // The project's one lock (`Locked`, a pthread mutex ThreadSanitizer
        // sees) and the keyed cache of recent values on it (`RecentValues`):
        // no dependencies, so the host's modules, the kit and the plugins
        // all take the same ones (plugins do not link libuv).
        .target(name: "SharedValues", swiftSettings: swiftSettings),
        .target(
            name: "UVLoop",
            dependencies: ["CUV", "DescriptorIO", "SharedValues", .product(name: "DequeModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),
        .target(name: "QMPWire", swiftSettings: swiftSettings),
        .target(name: "QAPISchema", dependencies: ["QMPWire", "SharedValues"], swiftSettings: swiftSettings),
        // What scripts/qapi-gen's output needs at run time: the QAPI namespace,
        // decoding and encoding, the command, event and guest-action protocols.
        .target(name: "QAPIRuntime", dependencies: ["QMPWire"], swiftSettings: swiftSettings),
        // One QMP client's session: framing, negotiation, ordering, out-of-band,
        // output limits, over a transport; its host (a VM, a proxied VM, the
        // control socket) owns the commands.
        .target(
            name: "QMPServer",
            dependencies: [
                "QMPWire", "UVLoop",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // What QEMU 7.2 itself answered, recorded by scripts/record-qemu-data:
        // 300 KB read at run time, not compiled in (see RecordedQEMUFile).
        .target(
            name: "QEMUReference",
            dependencies: ["QMPWire"],
            resources: [.copy("Resources/qemu-7.2")],
            swiftSettings: swiftSettings
        ),
        // The plugin host: dlopen and the checks of a library, the host
        // function table, pending requests, handles and instances. It sees
        // a VM only as `PluginHostVM`; FleetCore imports it, never the reverse.
        .target(
            name: "PluginHost",
            dependencies: [
                "QMPPluginABI", "DescriptorIO", "UVLoop", "QMPWire", "QMPServer", "QAPISchema", "SharedValues",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FleetCore",
            dependencies: [
                "CUV", "QMPPluginABI", "DescriptorIO", "UVLoop", "QMPWire", "QMPServer", "QAPISchema", "QAPIRuntime", "QEMUReference", "PluginHost", "SharedValues",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            resources: [
                .embedInCode("Resources/core-schema.json"),
            ],
            swiftSettings: swiftSettings
        ),
        // The config file: YAML read into the JSON value FleetCore checks. The
        // only target that imports Yams.
        .target(
            name: "FleetConfigFile",
            dependencies: ["FleetCore", "QMPWire", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // The fleet control socket (fleet.qmp): its commands, bound through the
        // types scripts/qapi-gen makes of control-schema.json. Handed to the
        // fleet with FleetFrontEnds.
        .target(
            name: "FleetControl",
            dependencies: [
                "FleetCore", "QAPIRuntime", "QAPISchema", "QMPServer", "QMPWire", "UVLoop",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Resources/control-schema.json")],
            swiftSettings: swiftSettings
        ),
        // Proxied VMs (`backend: proxy`): a real QEMU's one monitor shared by
        // the fleet's clients. Handed to the fleet with FleetFrontEnds.
        .target(
            name: "Proxy",
            dependencies: ["FleetCore", "QAPISchema", "QMPServer", "QMPWire", "UVLoop", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The metrics and fleet page listener: HTTP/1.1 on a loop of its own.
        .target(
            name: "FleetHTTP",
            dependencies: ["FleetCore", "UVLoop", "QMPWire"],
            resources: [.embedInCode("Resources/fleet.html")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QMPPluginKit",
            dependencies: ["QMPPluginABI", "QMPWire", "QAPIRuntime", "DescriptorIO", "SharedValues"],
            // The common QAPI modules plugins include (scripts/qapi-gen generates their types here).
            resources: [.embedInCode("QAPI/common.json"), .embedInCode("QAPI/sockets.json")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "QMPFleetTesting",
            dependencies: [
                "FleetCore", "FleetConfigFile", "FleetControl", "QMPServer", "QMPWire", "UVLoop",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The executables' stderr logging bootstrap, one file.
        .target(name: "FleetLogging", dependencies: [.product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .executableTarget(
            name: "qmpfleet",
            dependencies: [
                "FleetCore",
                "FleetConfigFile",
                "FleetControl",
                "FleetHTTP",
                "Proxy",
                "UVLoop",
                "SharedValues",
                "FleetLogging",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A simulated VM that libvirt can start as its <emulator>.
        .executableTarget(
            name: "qmpfleet-emulator",
            dependencies: [
                "FleetCore",
                "FleetLogging",
                "QEMUReference",
                "UVLoop",
                "QMPWire",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The benchmark: qmpfleet against real QEMU in one run (not a test).
        .executableTarget(
            name: "qmpfleet-bench",
            dependencies: [
                "CEpoll",
                "QMPWire",
                "SharedValues",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "QMPWireTests", dependencies: ["QMPWire"], swiftSettings: swiftSettings),
        .testTarget(name: "QAPISchemaTests", dependencies: ["QAPISchema", "QMPWire"], swiftSettings: swiftSettings),
        .testTarget(name: "SharedValuesTests", dependencies: ["SharedValues"], swiftSettings: swiftSettings),
        .testTarget(name: "UVLoopTests", dependencies: ["UVLoop", "DescriptorIO", "SharedValues"], swiftSettings: swiftSettings),
        .testTarget(name: "QMPPluginKitTests", dependencies: ["QMPPluginKit", "QAPISchema", "QMPWire"], swiftSettings: swiftSettings),
        .testTarget(name: "FleetHTTPTests", dependencies: ["FleetHTTP", "FleetCore", "UVLoop"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FleetCoreTests",
            dependencies: [
                "FleetCore", "FleetConfigFile", "FleetControl", "QMPFleetTesting", "QAPIRuntime", "QAPISchema", "QMPPluginABI", "QMPServer", "QMPWire", "UVLoop", "PluginHost", "QEMUReference", "SharedValues",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FleetControlTests",
            dependencies: ["FleetControl", "FleetCore", "QMPFleetTesting", "QMPWire", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "QMPServerTests",
            dependencies: ["QMPServer", "QMPWire", "UVLoop", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ProxyTests",
            dependencies: ["Proxy", "FleetCore", "QMPFleetTesting", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PluginHostTests",
            dependencies: ["PluginHost", "QAPISchema", "QMPWire", "UVLoop", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "QEMUReferenceTests", dependencies: ["QEMUReference", "QMPWire"], swiftSettings: swiftSettings),
        .testTarget(name: "FleetConfigFileTests", dependencies: ["FleetConfigFile", "FleetCore", "QMPWire"], swiftSettings: swiftSettings),
        .testTarget(name: "QMPFleetEmulatorTests", dependencies: ["qmpfleet-emulator", "FleetCore", "QMPWire"], swiftSettings: swiftSettings),
    ] + devicePlugins.map {
        // Plugin tests load the built .so through QMPFleetTesting; they never
        // depend on the plugin target itself.
        .testTarget(
            name: "\($0.folder)PluginTests",
            dependencies: ["FleetCore", "QMPFleetTesting", "QMPWire"],
            path: "Tests/Plugins/\($0.folder)",
            swiftSettings: swiftSettings
        )
    } + devicePlugins.map {
        .target(
            name: $0.folder + "Plugin",
            dependencies: ["QMPPluginKit", "QMPWire", "SharedValues"],
            path: "Plugins/\($0.folder)",
            resources: (["schema.json"] + (pluginData[$0.folder] ?? [])).map { .embedInCode($0) },
            swiftSettings: swiftSettings,
            linkerSettings: pluginLinkerSettings
        )
    }
)
