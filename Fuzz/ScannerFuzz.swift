// libFuzzer target for QMPRequestScanner: random and mutated requests to
// the scanner and to the full parser (the stream parser, then
// QMPRequest.decode), which must read the same command, arguments and id
// (the id's bytes exactly as QEMU echoes them) ending at the same byte, or
// the scanner must say "not recognised"; and a stream read with the scanner
// (feedRequests), whole or split, must give the requests and errors the
// full parser gives. The check is Tests/QMPWireTests/ScannerOracle.swift,
// the unit tests' own. Built by Fuzz/run with QMPWire's sources into one
// binary with ParserFuzz.swift (WireFuzz.swift picks the target), not by
// SwiftPM.

public func fuzzScanner(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // The last byte picks the limits, small ones included, so the
    // scanner's limit checks meet the parser's.
    let pick = Int(input.last ?? 0)
    let limits = JSONLimits(maxNesting: [1, 2, 64][pick % 3], maxTokenBytes: [24, 48, 4096][(pick / 3) % 3],
                            maxTokenCount: [8, 16, 512][(pick / 9) % 3])
    // The first byte picks where the scanning stream is split.
    let cut = size == 0 ? 0 : Int(input[0]) % (size + 1)
    if let problem = ScannerOracle.disagreement(input, limits: limits, cut: cut) {
        fatalError("scanner and full parser differ on \(String(decoding: input, as: UTF8.self)): \(problem)")
    }
    return 0
}
