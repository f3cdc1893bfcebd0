import QMPPluginKit
import QMPWire

/// `throttle-group` objects (`object-add`): I/O limits a group of drives
/// shares, set through `limits` (a `ThrottleLimits`) or the legacy `x-*`
/// members, applied in the order given (a later member overrides), then
/// checked as QEMU 7.2's `throttle_group_obj_complete` checks them
/// (`ThrottleSettings.check`, `throttle_is_valid`'s texts). The group's
/// values are answered to the host as the object's properties, so
/// `qom-get` of `limits` or an `x-*` member reads them back as QEMU does
/// (every limit, burst lengths defaulting to 1).
enum ThrottleGroupObject {
    static let type = "throttle-group"

    /// ThrottleLimits' members in QAPI order, with the block_set_io_throttle
    /// name (`ThrottleSettings`) each sets; nil for `iops-size`.
    static let limits: [(name: String, setting: String?)] = {
        let buckets = [("iops-total", "iops"), ("iops-read", "iops_rd"), ("iops-write", "iops_wr"),
                       ("bps-total", "bps"), ("bps-read", "bps_rd"), ("bps-write", "bps_wr")]
        var all: [(String, String?)] = []
        for (name, setting) in buckets {
            all += [(name, setting), (name + "-max", setting + "_max"), (name + "-max-length", setting + "_max_length")]
        }
        return all + [("iops-size", nil)]
    }()

    /// The group's settings from `props`, or QEMU's refusal.
    static func settings(_ id: String, _ props: JSONObject) -> Result<ThrottleSettings, QMPError> {
        var settings = ThrottleSettings(group: id)
        for key in ThrottleSettings.lengths { settings.values[key] = 1 }
        func set(_ name: String, _ value: Int64) {
            guard let limit = limits.first(where: { $0.name == name }) else { return }
            if let key = limit.setting { settings.values[key] = value } else { settings.iopsSize = value }
        }
        for (key, value) in props {
            if key == "limits" {
                for (name, member) in value.objectValue ?? [:] { set(name, member.int64Value ?? 0) }
            } else if key.hasPrefix("x-"), let n = value.int64Value {
                guard n >= 0 else { return .failure(.generic("Property values cannot be negative")) }
                set(String(key.dropFirst(2)), n)
            }
        }
        if let error = settings.check() { return .failure(error) }
        return .success(settings)
    }

    /// What `qom-get` reads: `limits` whole, and each `x-*` member.
    static func properties(of settings: ThrottleSettings) -> JSONObject {
        var limitValues = JSONObject()
        var properties = JSONObject()
        for limit in limits {
            let value = limit.setting.map(settings.value) ?? settings.iopsSize
            limitValues[limit.name] = .int(value)
            properties["x-" + limit.name] = .int(value)
        }
        properties["limits"] = .object(limitValues)
        return properties
    }
}

extension BlockPlugin {
    static func registerThrottleGroups(_ plugin: PluginRegistry<BlockPlugin>) {
        let names = ["limits"] + ThrottleGroupObject.limits.map { "x-" + $0.name }
        plugin.objectType(["name": .string(ThrottleGroupObject.type), "parent": "object",
                           "properties": .array(names.map { ["name": .string($0), "type": "str"] })],
                          asyncAdd: { this, id, props, reply in
                              switch ThrottleGroupObject.settings(id ?? "", props) {
                              case .failure(let error): reply.failure(error)
                              case .success(let settings):
                                  this.throttleGroups[id ?? ""] = settings
                                  reply.success(.object(ThrottleGroupObject.properties(of: settings)))
                              }
                          },
                          remove: { this, id in this.throttleGroups[id] = nil; return .success(()) })
    }
}
