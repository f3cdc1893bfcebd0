import Testing
import UVLoop

@Suite struct TCPAddressTests {
    @Test func parsesLiteralsAndTellsLoopback() throws {
        let v4 = try TCPAddress(parsing: "127.0.0.1:9464")
        #expect(v4.host == "127.0.0.1" && v4.port == 9464 && v4.isLoopback)
        #expect(try TCPAddress(parsing: "127.3.4.5:0").isLoopback)
        let v6 = try TCPAddress(parsing: "[::1]:80")
        #expect(v6.host == "::1" && v6.isLoopback && v6.description == "[::1]:80")
        #expect(try TCPAddress(parsing: "localhost:1").host == "127.0.0.1")
        #expect(try !TCPAddress(parsing: "0.0.0.0:9464").isLoopback)
        #expect(try !TCPAddress(parsing: "[::]:9464").isLoopback)
        #expect(try !TCPAddress(parsing: "192.0.2.1:9464").isLoopback)
    }

    @Test(arguments: ["127.0.0.1", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:99999999999999999999",
                      "example.org:80", "[::1:80", "::1:80", "127.0.0.1:"])
    func refusesWhatIsNotANumericEndpoint(_ text: String) {
        #expect(throws: UVError.self) { try TCPAddress(parsing: text) }
    }
}
