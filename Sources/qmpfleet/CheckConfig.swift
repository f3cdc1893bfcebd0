import ArgumentParser
import FleetConfigFile
import FleetCore
import Logging
import UVLoop

/// `qmpfleet check-config PATH`: parse the config, load every plugin it names
/// and combine each VM's plugins, without starting anything. A VM that
/// `serve` would log as "not started" fails the check here.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a fleet config file and the plugins its VMs name."
    )

    @Argument(help: "The config file.")
    var path: String

    @Option(name: .customLong("plugin-dir"), help: "A directory searched for plugins before the executable's own (repeatable).")
    var pluginDirs: [String] = []

    func run() throws {
        do {
            var config = try FleetConfig.load(path: path)
            config.pluginDirectories = pluginDirs + config.pluginDirectories
            let loop = try EventLoop()
            let logger = Logger(label: "qmpfleet") { _ in SwiftLogNoOpLogHandler() }
            let router = try Router(config: config, logger: logger, scheduler: LoopScheduler(loop: loop), loop: nil)
            let failures = router.checkPlugins()
            for failure in failures {
                printError("\(path): VM \(failure.name): \(failure.error)")
            }
            guard failures.isEmpty else { throw ExitCode(1) }
            let templates = Set(config.vms.compactMap(\.template))
            print("\(path): OK: \(config.vms.count) VMs from \(templates.count) templates, sockets in \(config.socketDirectory)")
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}

func printError(_ text: String) {
    var stderr = StandardError()
    print(text, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        _ = string.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
