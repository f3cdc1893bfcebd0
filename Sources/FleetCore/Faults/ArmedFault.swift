/// A fault as one VM holds it: the spec, the VM's own generator and how
/// often it fired there. Loop-confined, like the VM.
final class ArmedFault {
    let spec: FaultSpec
    private var generator: SplitMix64
    private(set) var fired = 0

    init(_ spec: FaultSpec) {
        self.spec = spec
        generator = SplitMix64(seed: spec.seed)
    }

    /// Firings left before it is used up (nil: no bound).
    var remaining: Int? { spec.times.map { max(0, $0 - fired) } }

    /// Decides whether a call of `command` fires it, and counts it if so.
    /// A call it does not watch, or a fault used up, draws nothing from
    /// the generator, so the sequence depends only on the watched calls.
    func fires(on command: String) -> Bool {
        if let watched = spec.command, watched != command { return false }
        if let remaining, remaining == 0 { return false }
        if let probability = spec.probability, generator.nextUnit() >= probability { return false }
        fired += 1
        return true
    }
}
