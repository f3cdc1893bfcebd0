// swift-tools-version: 6.0
//
// A qmpfleet device plugin in Swift, built outside the qmpfleet package from
// docs/plugins.md ("In Swift"): `swift build` here makes
// .build/debug/libqmp-counter.so, which `qmpfleet serve --plugin-dir` loads.
import PackageDescription

let package = Package(
    name: "CounterPlugin",
    products: [
        // The host looks for libqmp-<name>.so: the product is qmp-<name>, dynamic.
        .library(name: "qmp-counter", type: .dynamic, targets: ["CounterPlugin"]),
    ],
    dependencies: [
        // The qmpfleet checkout (or `.package(url: "<qmpfleet repository>", ...)`).
        .package(name: "qmpfleet", path: "../.."),
    ],
    targets: [
        .target(
            name: "CounterPlugin",
            dependencies: [.product(name: "QMPPluginKit", package: "qmpfleet")],
            resources: [.embedInCode("schema.json")]
        ),
    ]
)
