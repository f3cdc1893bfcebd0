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

    /// Runs every step; `complete` gets QEMU's start-up error
    /// (`-device ...: <reason>`) for the first refusal, or nil. Devices and
    /// objects of a kind the simulation does not model are skipped and
    /// reported through `skipped`, not refused.
    public func run(on vm: VM, skipped: @escaping (String) -> Void = { _ in },
                    complete: @escaping (String?) -> Void) {
        run(from: 0, on: vm, skipped: skipped, complete: complete)
    }

    private func run(from index: Int, on vm: VM, skipped: @escaping (String) -> Void, complete: @escaping (String?) -> Void) {
        guard index < steps.count else { return complete(nil) }
        let step = steps[index]
        vm.execute(step.command, step.arguments) { result in
            if case .failure(let error) = result {
                guard Self.isUnmodelledKind(step.command, error) else { return complete("\(step.option): \(error.desc)") }
                skipped("\(step.option): not simulated (\(error.desc))")
            }
            self.run(from: index + 1, on: vm, skipped: skipped, complete: complete)
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
