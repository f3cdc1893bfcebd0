import QMPWire

/// Every result of feeding `bytes` in one go (or in `chunk`-byte pieces).
func parseAll(_ bytes: [UInt8], limits: JSONLimits = .qemu, chunk: Int? = nil) -> [Result<JSONValue, JSONParseError>] {
    var parser = JSONStreamParser(limits: limits)
    var out: [Result<JSONValue, JSONParseError>] = []
    let size = chunk ?? max(bytes.count, 1)
    var start = 0
    while start < bytes.count {
        let end = min(start + size, bytes.count)
        parser.feed(Array(bytes[start..<end])) { out.append($0) }
        start = end
    }
    return out
}

func parseAll(_ text: String, limits: JSONLimits = .qemu, chunk: Int? = nil) -> [Result<JSONValue, JSONParseError>] {
    parseAll(Array(text.utf8), limits: limits, chunk: chunk)
}

/// What a negotiated QEMU monitor answers for `bytes`, one string per reply:
/// the error's desc, or "ok <id>" when the request would run. This is the
/// shape the QEMU 7.2 transcripts in the comments are written in.
func qmpReplies(_ bytes: [UInt8], limits: JSONLimits = .qemu, chunk: Int? = nil, oob: Bool = false) -> [String] {
    parseAll(bytes, limits: limits, chunk: chunk).map { result in
        switch result {
        case .failure(let error):
            return error.message
        case .success(let value):
            switch QMPRequest.decode(value, oobEnabled: oob) {
            case .success(let request): return "ok " + (request.id?.jsonText ?? "")
            case .failure(let error): return error.error.desc
            }
        }
    }
}

func qmpReplies(_ text: String, limits: JSONLimits = .qemu, chunk: Int? = nil, oob: Bool = false) -> [String] {
    qmpReplies(Array(text.utf8), limits: limits, chunk: chunk, oob: oob)
}

/// The messages of errors, nil for values.
func errors(_ results: [Result<JSONValue, JSONParseError>]) -> [String?] {
    results.map { if case .failure(let e) = $0 { return e.message } else { return nil } }
}

let good = #"{"execute":"query-status","id":"ok"}"#
