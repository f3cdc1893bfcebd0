// The entry point of the one libFuzzer binary of QMPWire's two targets,
// the parser (ParserFuzz.swift) and the request scanner (ScannerFuzz.swift):
// both compile all of QMPWire, so one instrumented `swiftc -O` build serves
// both instead of two (about 75 s each on this 2-core machine). Fuzz/run
// names the target in QMPFLEET_FUZZ_TARGET.
#if canImport(Glibc)
import Glibc
#endif

/// The target this process runs, read once before the first input.
nonisolated(unsafe) private var runScanner = false

@_cdecl("LLVMFuzzerInitialize")
public func initializeWireFuzz(_ argc: UnsafeMutablePointer<Int32>,
                               _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    guard let name = getenv("QMPFLEET_FUZZ_TARGET").map({ String(cString: $0) }), name == "parser" || name == "scanner" else {
        fputs("WireFuzz: set QMPFLEET_FUZZ_TARGET to parser or scanner\n", stderr)
        exit(2)
    }
    runScanner = name == "scanner"
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    runScanner ? fuzzScanner(data, size) : fuzzParser(data, size)
}
