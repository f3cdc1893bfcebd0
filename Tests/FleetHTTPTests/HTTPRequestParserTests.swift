import FleetHTTP
import Testing

@Suite struct HTTPRequestParserTests {
    private func feed(_ parser: inout HTTPRequestParser, _ text: String) -> HTTPRequestParser.Outcome {
        Array(text.utf8).withUnsafeBytes { parser.feed($0) }
    }

    @Test func completeHeadInOnePiece() {
        var parser = HTTPRequestParser(limit: 1024)
        let outcome = feed(&parser, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n")
        #expect(outcome == .complete(HTTPRequestHead(method: "GET", target: "/metrics", version: "HTTP/1.1",
                                                     headers: [("Host", "127.0.0.1"), ("Accept", "*/*")])))
    }

    @Test func headSplitAcrossFeedsEvenInsideTheBlankLine() {
        var parser = HTTPRequestParser(limit: 1024)
        #expect(feed(&parser, "GET / HTTP/1.0\r\nX: 1\r") == .needMore)
        #expect(feed(&parser, "\n\r") == .needMore)
        guard case .complete(let head) = feed(&parser, "\n") else {
            Issue.record("expected a complete head")
            return
        }
        #expect(head.path == "/")
        #expect(head.header("x") == "1")
    }

    @Test func bareLineFeedsAreTaken() {
        var parser = HTTPRequestParser(limit: 1024)
        guard case .complete(let head) = feed(&parser, "GET /events?vm=ci-0 HTTP/1.1\nHost: x\n\n") else {
            Issue.record("expected a complete head")
            return
        }
        #expect(head.path == "/events")
        #expect(head.query("vm") == "ci-0")
    }

    @Test func headOverTheLimitIsTooLargeAndStaysSo() {
        var parser = HTTPRequestParser(limit: 64)
        #expect(feed(&parser, "GET / HTTP/1.1\r\nX-Long: ") == .needMore)
        #expect(feed(&parser, String(repeating: "a", count: 100)) == .headerTooLarge)
        #expect(feed(&parser, "\r\n\r\n") == .headerTooLarge)
    }

    @Test func headEndingExactlyAtTheLimitIsComplete() {
        let text = "GET / HTTP/1.1\r\nA: b\r\n\r\n"
        var parser = HTTPRequestParser(limit: text.utf8.count)
        guard case .complete = feed(&parser, text) else {
            Issue.record("a head of exactly the limit must pass")
            return
        }
        var short = HTTPRequestParser(limit: text.utf8.count - 1)
        #expect(feed(&short, text) == .headerTooLarge)
    }

    @Test(arguments: [
        "GET /\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET relative HTTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
    ])
    func malformedHeads(_ text: String) {
        var parser = HTTPRequestParser(limit: 1024)
        guard case .malformed = feed(&parser, text) else {
            Issue.record("\(text.debugDescription) should be malformed")
            return
        }
    }

    @Test func queryIsPercentDecoded() {
        let head = HTTPRequestHead(method: "GET", target: "/events?a=1&vm=web%2D1+x&empty", version: "HTTP/1.1")
        #expect(head.query("vm") == "web-1 x")
        #expect(head.query("empty") == "")
        #expect(head.query("missing") == nil)
        #expect(HTTPRequestHead(method: "GET", target: "/x?v=%zz%4", version: "HTTP/1.1").query("v") == "%zz%4")
    }
}
