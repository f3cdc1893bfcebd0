import QMPWire
import Testing

/// Numbers as QEMU 7.2 reads and writes them (QNum: int64, else uint64, else double; `%.17g`).
struct NumberTests {
    // QEMU 7.2 echoing
    // [1,-2,18446744073709551615,9223372036854775808,-9223372036854775808,-9223372036854775809,0.1,1e300,1.0,1E2,-0.0,0,1e-300,123456789012345678901234567890]
    // as id wrote
    // [1, -2, 18446744073709551615, 9223372036854775808, -9223372036854775808, -9.2233720368547758e+18, 0.10000000000000001, 1.0000000000000001e+300, 1, 100, -0, 0, 1e-300, 1.2345678901234568e+29]
    @Test func echoedAsQEMUEchoesThem() {
        let input = "[1,-2,18446744073709551615,9223372036854775808,-9223372036854775808,-9223372036854775809,0.1,1e300,1.0,1E2,-0.0,0,1e-300,123456789012345678901234567890]"
        let output = "[1, -2, 18446744073709551615, 9223372036854775808, -9223372036854775808, -9.2233720368547758e+18, 0.10000000000000001, 1.0000000000000001e+300, 1, 100, -0, 0, 1e-300, 1.2345678901234568e+29]"
        #expect(qmpReplies(#"{"execute":"query-status","id":"# + input + "}") == ["ok " + output])
    }

    // QEMU 7.2: [0.5, 1e-5, 1e21, 1e16, 123.456, 5e-324, 1.7976931348623157e308, 100000000000000000000.0]
    // -> [0.5, 1.0000000000000001e-05, 1e+21, 10000000000000000, 123.456, 4.9406564584124654e-324, 1.7976931348623157e+308, 1e+20];
    // 1e400 -> inf, -1e400 -> -inf (not JSON, but what QEMU sends); 1E+2 -> 100; -0 -> 0; 1.5E-3 -> 0.0015.
    @Test func doubles() {
        let input = "[0.5, 1e-5, 1e21, 1e16, 123.456, 5e-324, 1.7976931348623157e308, 100000000000000000000.0, 1e400, -1e400, 1E+2, -0, 1.5E-3]"
        let output = "[0.5, 1.0000000000000001e-05, 1e+21, 10000000000000000, 123.456, 4.9406564584124654e-324, 1.7976931348623157e+308, 1e+20, inf, -inf, 100, 0, 0.0015]"
        #expect(qmpReplies(#"{"execute":"query-status","id":"# + input + "}") == ["ok " + output])
    }

    @Test func kinds() throws {
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int64.max))
        #expect(try JSONValue(parsing: "-9223372036854775808") == .int(Int64.min))
        #expect(try JSONValue(parsing: "18446744073709551615") == .uint(UInt64.max))
        #expect(try JSONValue(parsing: "18446744073709551616") == .double(18446744073709551616.0))
        #expect(try JSONValue(parsing: "-9223372036854775809") == .double(-9223372036854775809.0))
        #expect(try JSONValue(parsing: "1.5e3") == .double(1500))
        #expect(try JSONValue(parsing: "[123456789012345678]") == [.int(123456789012345678)])
        #expect(try JSONValue(parsing: "[1234567890123456789]") == [.int(1234567890123456789)])
    }

    @Test func written() {
        #expect(JSONValue.int(-42).jsonText == "-42")
        #expect(JSONValue.int(Int64.min).jsonText == "-9223372036854775808")
        #expect(JSONValue.uint(UInt64.max).jsonText == "18446744073709551615")
        #expect(JSONValue.double(0.1).jsonText == "0.10000000000000001")
        #expect(JSONValue.double(1.0).jsonText == "1")
        #expect(JSONValue.double(1e300).jsonText == "1.0000000000000001e+300")
        #expect(JSONValue.double(-0.0).jsonText == "-0")
    }
}
