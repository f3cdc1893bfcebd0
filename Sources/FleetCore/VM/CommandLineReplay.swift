import QMPWire

/// A QEMU command line's `-object`, `-chardev`, `-blockdev`, `-netdev` and
/// `-device` options as the QMP commands that recreate them (libvirt's JSON
/// option syntax is QMP's argument syntax), run in order on a VM that has
/// no client yet. Shared by `qmpfleet-emulator`'s in-process mode and the
/// control socket's `vm-attach-monitor`, so both refuse the same lines.
public struct CommandLineReplay {
    public struct Step {
        public var command: String
        public var arguments: JSONObject
        /// The option as written (`-device {...}`), for QEMU's error text.
        public var option: String

        public init(command: String, arguments: JSONObject, option: String) {
            self.command = command
            self.arguments = arguments
            self.option = option
        }
    }

    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// Steps one replay may have: far more than any QEMU command line
    /// libvirt writes, few enough that a hostile `vm-attach-monitor` cannot
    /// keep a loop busy for long.
    public static let maxSteps = 4096

    /// Runs every step; `complete` gets QEMU's start-up error
    /// (`-device ...: <reason>`) for the first refusal, or nil. Devices and
    /// objects of a kind the simulation does not model are skipped and
    /// reported through `skipped`, not refused.
    ///
    /// Steps that answer at once run in a loop, not by recursion, so a long
    /// command line cannot exhaust the stack; a step that answers later
    /// resumes the loop from its completion.
    public func run(on vm: VM, skipped: @escaping (String) -> Void = { _ in },
                    complete: @escaping (String?) -> Void) {
        guard steps.count <= Self.maxSteps else {
            return complete("too many command-line options (\(steps.count); at most \(Self.maxSteps))")
        }
        Replay(steps: steps, vm: vm, skipped: skipped, complete: complete).resume()
    }

    /// One replay in progress.
    private final class Replay {
        let steps: [Step]
        let vm: VM
        let skipped: (String) -> Void
        let complete: (String?) -> Void
        var next = 0
        var running = false

        init(steps: [Step], vm: VM, skipped: @escaping (String) -> Void, complete: @escaping (String?) -> Void) {
            self.steps = steps
            self.vm = vm
            self.skipped = skipped
            self.complete = complete
        }

        /// Runs steps until one answers later (its completion resumes) or all are done.
        func resume() {
            guard !running else { return }
            running = true
            defer { running = false }
            while next < steps.count {
                let step = steps[next]
                var answer: CommandResult?
                var answeredLater = false
                // A command line's devices exist before the machine is
                // ready: cold-plugged, even on a bus that takes no hot-plug.
                vm.coldPlugging = true
                vm.execute(step.command, step.arguments) { result in
                    if answeredLater {
                        self.finish(step, result)
                        self.resume()
                    } else {
                        answer = result
                    }
                }
                vm.coldPlugging = false
                guard let result = answer else {
                    answeredLater = true
                    return
                }
                guard finish(step, result) else { return }
            }
            if next == steps.count {
                next += 1
                complete(nil)
            }
        }

        /// Records one step's answer; false (and the replay is over) on a refusal.
        @discardableResult
        private func finish(_ step: Step, _ result: CommandResult) -> Bool {
            if case .failure(let error) = result {
                guard CommandLineReplay.isUnmodelledKind(step.command, error) else {
                    next = steps.count + 1
                    complete("\(step.option): \(error.desc)")
                    return false
                }
                skipped("\(step.option): not simulated (\(error.desc))")
            }
            next += 1
            return true
        }
    }

    static func isUnmodelledKind(_ command: String, _ error: QMPError) -> Bool {
        (command == "device_add" && error.desc.hasSuffix("is not a valid device model name"))
            || (command == "object-add" && error.desc.hasPrefix("Parameter 'qom-type' does not accept value"))
    }

    /// The `commands` argument of `vm-attach-monitor`: objects with
    /// `execute`, `arguments` and `option`.
    public var json: JSONValue {
        .array(steps.map { ["execute": .string($0.command), "arguments": .object($0.arguments), "option": .string($0.option)] })
    }

    public init?(json: JSONValue?) {
        guard let json else { self.init(steps: []); return }
        guard case .array(let items) = json else { return nil }
        var steps: [Step] = []
        for item in items {
            guard let command = item["execute"]?.stringValue else { return nil }
            steps.append(Step(command: command, arguments: item["arguments"]?.objectValue ?? [:],
                              option: item["option"]?.stringValue ?? command))
        }
        self.init(steps: steps)
    }
}
