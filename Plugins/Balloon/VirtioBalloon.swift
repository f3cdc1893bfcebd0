/// The state of one virtio-balloon device, as `virtio-balloon.c` keeps it:
/// the target the host asked for and what the guest has given back.
///
/// The guest's balloon driver moves `actual` towards the target a step at a
/// time (it inflates or deflates in page batches and reports through the
/// config space); each reported change is a BALLOON_CHANGE event.
struct VirtioBalloon {
    let ramBytes: Int64
    /// The guest memory the host wants the guest to keep.
    private(set) var targetBytes: Int64
    /// The guest memory the guest currently has (`query-balloon`).
    private(set) var actualBytes: Int64

    init(ramBytes: Int64) {
        self.ramBytes = ramBytes
        targetBytes = ramBytes
        actualBytes = ramBytes
    }

    /// `virtio_balloon_to_target`: a target above RAM means RAM.
    mutating func setTarget(_ bytes: Int64) {
        targetBytes = min(bytes, ramBytes)
    }

    var isSettled: Bool { actualBytes == targetBytes }

    /// One step of the guest driver, at most `limit` bytes; returns whether
    /// `actual` changed.
    mutating func step(by limit: Int64) -> Bool {
        guard !isSettled, limit > 0 else { return false }
        let distance = targetBytes - actualBytes
        actualBytes += distance > 0 ? min(distance, limit) : max(distance, -limit)
        return true
    }
}
