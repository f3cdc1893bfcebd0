import Foundation
import Testing

/// The plugins' schemas and the Swift made of them, checked by the scripts
/// that keep them: scripts/qapi-gen (the generated code is current) and
/// scripts/qapi-repeats (no type QEMU declares once is declared twice) and
/// scripts/qapi-names (no type is left masked that has a QEMU name).
@Suite struct QAPICodegenTests {
    /// The generated Swift (`*.generated.swift`) is checked in; this fails
    /// while any of it differs from what scripts/qapi-gen makes of today's schemas.
    @Test func generatedCodeMatchesTheSchemas() throws {
        let (status, text) = try Self.run("scripts/qapi-gen", "--check")
        #expect(status == 0, "\(text)")
    }

    /// A type copied from QEMU's introspection (`Q72_<n>`) that a schema
    /// already declares by name is one QEMU type declared twice: the
    /// fleet's introspection would list it twice where QEMU lists it once.
    @Test func noMaskedTypeRepeatsANamedOne() throws {
        let (status, text) = try Self.run("scripts/qapi-repeats")
        #expect(status == 0, "\(text)")
    }

    /// A type copied from QEMU's introspection keeps its masked number
    /// (`Q72_338`) only while QEMU 7.2's manual gives it no name
    /// (scripts/qapi-names.json, matched by structure): a newcomer reads
    /// `BlockExportType`, and `scripts/qapi-names --apply` gives it.
    @Test func noMaskedTypeHasAKnownName() throws {
        let (status, text) = try Self.run("scripts/qapi-names")
        #expect(status == 0, "\(text)")
    }

    /// Runs a script of the repository; its exit status and its output.
    static func run(_ script: String, _ arguments: String...) throws -> (Int32, String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent(script).path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
