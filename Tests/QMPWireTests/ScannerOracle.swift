import QMPWire

/// What `QMPRequestScanner` must agree with: the full path (the stream
/// parser, then `QMPRequest.decode`) on the same bytes. Used by
/// `QMPRequestScannerTests` and by the libFuzzer target
/// `Fuzz/ScannerFuzz.swift` (which compiles this file with QMPWire's
/// sources), so both check the same rules.
enum ScannerOracle {
    /// nil when the scanner agrees with the full parser on `input`, else
    /// what differs. `cut` splits the input in two feeds for the scanning
    /// stream (splits must not change what it reads).
    static func disagreement(_ input: [UInt8], limits: JSONLimits, cut: Int = 0) -> String? {
        if let problem = firstRequest(input, limits) { return problem }
        let full = outcomes(input, limits, scanning: false, cut: 0)
        let scanned = outcomes(input, limits, scanning: true, cut: 0)
        if scanned != full { return "stream: scanning \(scanned), full \(full)" }
        // Split, a message across the cut takes the token path either way
        // (no arguments text kept): compared with the full parser split alike.
        let at = min(max(cut, 0), input.count)
        let split = outcomes(input, limits, scanning: true, cut: at)
        let fullSplit = outcomes(input, limits, scanning: false, cut: at)
        if split != fullSplit { return "stream split at \(cut): scanning \(split), full \(fullSplit)" }
        return nil
    }

    /// The scanner at byte 0 against the first message the full parser
    /// reads there: the same command, arguments and id, the id's bytes
    /// exactly as the writer (QEMU's form) echoes it, the same end.
    static func firstRequest(_ input: [UInt8], _ limits: JSONLimits) -> String? {
        input.withUnsafeBufferPointer { buffer -> String? in
            guard let scanned = QMPRequestScanner.scan(buffer, at: 0, limits: limits) else { return nil }
            var parser = JSONStreamParser(limits: limits)
            var first: (JSONParseResult, [UInt8]?)?
            let used = parser.feedMessages(UnsafeRawBufferPointer(buffer), while: { output, arguments in
                first = (output, arguments.map { Array($0) })
                return false
            })
            guard let (output, argumentsText) = first, case .success(let value) = output else {
                return "recognised, but the parser read \(String(describing: first?.0))"
            }
            for oob in [false, true] {
                guard case .success(let request) = QMPRequest.decode(value, oobEnabled: oob) else {
                    return "recognised, but decode refused \(value.jsonText)"
                }
                let mine = scanned.request()
                if request.execute != mine.execute || request.id != mine.id || request.isOOB
                    || request.arguments != mine.arguments {
                    return "recognised \(mine), decoded \(request)"
                }
            }
            if used != scanned.end { return "scanner ends at \(scanned.end), parser at \(used)" }
            if let id = scanned.idBytes, Array(id) != scanned.idValue?.jsonBytes() {
                return "id \(String(decoding: Array(id), as: UTF8.self)) is echoed as \(scanned.idValue?.jsonText ?? "nil")"
            }
            if let arguments = scanned.arguments, Array(buffer[arguments]) != argumentsText {
                return "arguments \(Array(buffer[arguments])), parser kept \(String(describing: argumentsText))"
            }
            return nil
        }
    }

    typealias JSONParseResult = Result<JSONValue, JSONParseError>

    /// Each message of `input` as a session answers or runs it (the request
    /// it runs, with its arguments text, or the error and id it answers),
    /// fed in two pieces split at `cut`.
    static func outcomes(_ input: [UInt8], _ limits: JSONLimits, scanning: Bool, cut: Int) -> [String] {
        var parser = JSONStreamParser(limits: limits)
        var seen: [String] = []
        func message(_ output: JSONParseResult, _ arguments: UnsafeRawBufferPointer?) -> Bool {
            switch output {
            case .failure(let error):
                seen.append("error \(error.message)")
            case .success(let value):
                switch QMPRequest.decode(value, oobEnabled: false) {
                case .failure(let error): seen.append("refused \(error.error) id \(error.id?.jsonText ?? "-")")
                case .success(var request):
                    if request.arguments != nil { request.argumentsText = arguments.map { Array($0) + [0] } }
                    seen.append(describe(request))
                }
            }
            return true
        }
        for piece in [input[..<cut], input[cut...]] {
            let bytes = Array(piece)
            let used = bytes.withUnsafeBytes { raw in
                scanning
                    ? parser.feedRequests(raw, request: { seen.append(describe($0.request())); return true }, message: message)
                    : parser.feedMessages(raw, while: message)
            }
            if used != bytes.count { seen.append("stopped after \(used) of \(bytes.count)") }
        }
        return seen
    }

    static func describe(_ request: QMPRequest) -> String {
        "run \(request.execute) arguments \(request.arguments.map { JSONValue.object($0).jsonText } ?? "-") text \(request.argumentsText.map { Array($0) } ?? []) id \(request.id?.jsonText ?? "-") oob \(request.isOOB)"
    }
}
