import Foundation

/// The results as a Markdown table (printed and written) and as JSON.
struct Report {
    let rows: [Row]

    func markdown() -> String {
        var lines = ["| scenario | metric | qmpfleet | peer | peer value | ratio |", "|---|---|---:|---|---:|---:|"]
        for r in rows {
            let peerValue = r.peerValue.map { format($0) + " " + r.unit } ?? "-"
            let ratio = r.ratio.map { String(format: "%.3g×", $0) } ?? "-"
            lines.append("| \(r.scenario) | \(r.metric) | \(format(r.qmpfleet)) \(r.unit) | \(r.peer) | \(peerValue) | \(ratio) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func format(_ v: Double) -> String {
        v >= 100 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v)
    }

    func write(to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let md = markdown()
        print(md)
        try md.write(toFile: "\(directory)/results.md", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(rows).write(to: URL(fileURLWithPath: "\(directory)/results.json"))
    }
}
