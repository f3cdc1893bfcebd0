import QMPPluginKit
import QMPWire

/// I/O limits of a backend (QEMU's ThrottleConfig), checked as
/// `throttle_is_valid` checks them, with its texts.
struct ThrottleSettings: Equatable {
    /// The members of block_set_io_throttle, in QAPI order: the six rates,
    /// the six burst rates, the six burst lengths.
    static let rates = ["bps", "bps_rd", "bps_wr", "iops", "iops_rd", "iops_wr"]
    static let maxima = rates.map { $0 + "_max" }
    static let lengths = rates.map { $0 + "_max_length" }
    /// THROTTLE_VALUE_MAX.
    static let valueLimit: Int64 = 1_000_000_000_000_000

    var values: [String: Int64] = [:]
    var iopsSize: Int64 = 0
    var group: String

    func value(_ key: String) -> Int64 { values[key] ?? 0 }

    var isEnabled: Bool { ThrottleSettings.rates.contains { value($0) > 0 } || ThrottleSettings.maxima.contains { value($0) > 0 } }

    /// Reads block_set_io_throttle's typed arguments into the table keyed
    /// by their QAPI names (`rates`, `maxima`, `lengths`), which the checks
    /// and BlockDeviceInfo walk.
    static func parse(_ args: QAPI.BlockSetIoThrottleCommand, group: String) -> Result<ThrottleSettings, QMPError> {
        var settings = ThrottleSettings(group: group)
        let given: [Int64?] = [
            args.bps, args.bpsRd, args.bpsWr, args.iops, args.iopsRd, args.iopsWr,
            args.bpsMax, args.bpsRdMax, args.bpsWrMax, args.iopsMax, args.iopsRdMax, args.iopsWrMax,
            args.bpsMaxLength, args.bpsRdMaxLength, args.bpsWrMaxLength, args.iopsMaxLength, args.iopsRdMaxLength, args.iopsWrMaxLength,
        ]
        for (key, value) in zip(rates + maxima + lengths, given) {
            // Burst lengths default to one second, as throttle_config_init sets them.
            if let value { settings.values[key] = value } else if lengths.contains(key) { settings.values[key] = 1 }
        }
        settings.iopsSize = args.iopsSize ?? 0
        if let error = settings.check() { return .failure(error) }
        return .success(settings)
    }

    /// `throttle_is_valid`'s checks, in its order, with its texts; negative
    /// values wrap to huge unsigned ones there, so they fail the range check.
    func check() -> QMPError? {
        func both(_ total: String, _ read: String, _ write: String) -> Bool { value(total) != 0 && (value(read) != 0 || value(write) != 0) }
        if both("bps", "bps_rd", "bps_wr") || both("iops", "iops_rd", "iops_wr")
            || both("bps_max", "bps_rd_max", "bps_wr_max") || both("iops_max", "iops_rd_max", "iops_wr_max") {
            return .generic("bps/iops/max total values and read/write values cannot be used at the same time")
        }
        if iopsSize != 0 && value("iops") == 0 && value("iops_rd") == 0 && value("iops_wr") == 0 {
            return .generic("iops size requires an iops value to be set")
        }
        for (i, rate) in ThrottleSettings.rates.enumerated() {
            let avg = value(rate), max = value(ThrottleSettings.maxima[i]), length = value(ThrottleSettings.lengths[i])
            if avg < 0 || max < 0 || avg > ThrottleSettings.valueLimit || max > ThrottleSettings.valueLimit {
                return .generic("bps/iops/max values must be within [0, \(ThrottleSettings.valueLimit)]")
            }
            if length == 0 { return .generic("the burst length cannot be 0") }
            if length > 1 && max == 0 { return .generic("burst length set without burst rate") }
            if max > 0 && (length < 0 || length > ThrottleSettings.valueLimit / max) { return .generic("burst length too high for this burst rate") }
            if max > 0 && avg == 0 { return .generic("bps_max/iops_max require corresponding bps/iops values") }
            if max > 0 && max < avg { return .generic("bps_max/iops_max cannot be lower than bps/iops") }
        }
        return nil
    }

    /// The throttle members of BlockDeviceInfo: the rates always, bursts and
    /// iops_size only when set, and the group.
    func apply(to info: inout JSONObject) {
        for key in ThrottleSettings.rates { info[key] = .int(value(key)) }
        for (i, key) in ThrottleSettings.maxima.enumerated() where value(key) > 0 {
            info[key] = .int(value(key))
            info[ThrottleSettings.lengths[i]] = .int(value(ThrottleSettings.lengths[i]))
        }
        if iopsSize > 0 { info["iops_size"] = .int(iopsSize) }
        info["group"] = .string(group)
    }
}
