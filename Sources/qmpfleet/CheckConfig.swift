import ArgumentParser
import FleetCore

/// `qmpfleet check-config PATH`: parse and check a config without starting anything.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a fleet config file and print what it describes."
    )

    @Argument(help: "The config file.")
    var path: String

    func run() throws {
        do {
            let config = try FleetConfig.load(path: path)
            let templates = Set(config.vms.compactMap(\.template))
            print("\(path): OK: \(config.vms.count) VMs from \(templates.count) templates, sockets in \(config.socketDirectory)")
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
