/// One stripe's plugin handles (`PluginHandles`): the instance of each
/// live handle, in a slot found by the handle's number, not hashed.
///
/// Handle numbers only grow and are never reused, so a stripe's slots are
/// pages, made as numbers reach them and freed once every slot of a page
/// has been given out and released: a fleet that creates and ends VMs for
/// ever keeps only the pages of live handles, plus 8 bytes per page ever
/// made. A slot is 8 bytes (an unretained reference, as the dictionary
/// entry it replaces held its instance `unowned(unsafe)`): the instance
/// empties its slot before it is freed.
///
/// Not locked itself: `PluginHandles` holds each under its stripe's lock.
struct HandleSlots {
    /// Slots per page: 8 KiB of references.
    static let pageSize: UInt = 1024

    /// Reached only under its stripe's lock, so without the runtime's
    /// dynamic exclusivity checks (a pair per field touched: making and
    /// ending a VM's 12 instances took 36 of them).
    final class Page {
        @exclusivity(unchecked) var slots = [Unmanaged<PluginInstance>?](repeating: nil, count: Int(HandleSlots.pageSize))
        /// Slots holding an instance.
        @exclusivity(unchecked) var live = 0
        /// Slots given out so far (live or released); at `pageSize` no
        /// handle can land here again.
        @exclusivity(unchecked) var used: UInt = 0
    }

    private var pages: [Page?] = []
    /// Live handles in this stripe.
    private(set) var count = 0

    /// The instance in `slot`; nil for a released slot, or one never given
    /// out (a made-up handle may have any number).
    subscript(slot: UInt) -> PluginInstance? {
        let (page, index) = slot.quotientAndRemainder(dividingBy: Self.pageSize)
        guard page < UInt(pages.count), let found = pages[Int(page)] else { return nil }
        return found.slots[Int(index)]?.takeUnretainedValue()
    }

    mutating func insert(_ instance: PluginInstance, at slot: UInt) {
        let (page, index) = slot.quotientAndRemainder(dividingBy: Self.pageSize)
        // A handle number fits a UInt; its page index, a 1,024th of it, an Int.
        let p = Int(page)
        if p >= pages.count { pages.append(contentsOf: repeatElement(nil, count: p - pages.count + 1)) }
        let target: Page
        if let existing = pages[p] {
            target = existing
        } else {
            target = Page()
            pages[p] = target
        }
        target.slots[Int(index)] = Unmanaged.passUnretained(instance)
        target.live += 1
        target.used += 1
        count += 1
    }

    /// Empties `slot`; one already empty (a second release) is left as it is.
    mutating func remove(at slot: UInt) {
        let (page, index) = slot.quotientAndRemainder(dividingBy: Self.pageSize)
        guard page < UInt(pages.count), let found = pages[Int(page)], found.slots[Int(index)] != nil else { return }
        found.slots[Int(index)] = nil
        found.live -= 1
        count -= 1
        if found.live == 0 && found.used == Self.pageSize { pages[Int(page)] = nil }
    }

    /// Pages held now (for tests: released pages are given back).
    var pageCount: Int { pages.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
}
