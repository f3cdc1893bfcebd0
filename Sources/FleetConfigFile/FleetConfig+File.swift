import FleetCore
#if canImport(Glibc)
import Glibc
#endif

extension FleetConfig {
    /// Reads and checks a config file (`config/fleet.yaml`).
    public static func load(path: String) throws(FleetError) -> FleetConfig {
        guard let text = readTextFile(path) else {
            throw FleetError.config(file: path, key: "", message: "cannot read: \(String(cString: strerror(errno)))")
        }
        return try parse(yaml: text, file: path)
    }

    /// Checks a config given as YAML text; `file` names it in error texts.
    public static func parse(yaml: String, file: String) throws(FleetError) -> FleetConfig {
        try parse(document: YAMLDocument.parse(yaml, file: file), file: file)
    }

    private static func readTextFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
