import Testing

import QMPWire

/// QEMU's id rule read as bytes gives what QEMU 7.2's `id_wellformed`
/// gives: checked against `qemu-system-x86_64 -machine none` with
/// `object-add {"qom-type": "secret", "id": ID, "data": "x"}`, which
/// refuses an ill-formed id with "Parameter 'id' expects an identifier".
@Suite struct QEMUIdentifierTests {
    @Test(arguments: ["a", "Z", "disk0", "a-b.c_d", "x9", "Aa-._09"])
    func wellFormed(_ id: String) {
        #expect(QEMUIdentifier.isWellFormed(id))
    }

    /// Empty, a digit, '-', '_' or '.' first, anything outside the set,
    /// and letters that are not ASCII (QEMU's `qemu_isalpha` is C's).
    @Test(arguments: ["", "0a", "-a", "_a", ".a", "a b", "a/b", "a@", "a[", "a`", "a{", "é", "aé", "ａ"])
    func illFormed(_ id: String) {
        #expect(!QEMUIdentifier.isWellFormed(id))
    }
}
