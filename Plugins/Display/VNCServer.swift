import QMPPluginKit
import QMPWire
#if canImport(Glibc)
import Glibc
#endif

/// What QEMU's VNC server keeps about its password (`ui/vnc.c`): whether
/// password authentication is on (`-vnc ...,password=on`), the password
/// set_password gave, and when expire_password said it stops working.
/// Nobody connects to a simulated VNC server; the state is for the checks.
struct VNCServer {
    /// The id of the only VNC display `-vnc` creates, which `display` names.
    static let displayID = "default"

    /// When the password stops working.
    enum Expiry: Equatable {
        case never
        /// Seconds since the epoch (0, as "now" or a bad number give, is past).
        case at(Int64)
    }

    let passwordAuth: Bool
    private(set) var password: String?
    private(set) var expiry = Expiry.never

    /// The addresses `display-update` gave (SocketAddress JSON). Recorded
    /// for the queries; the simulated server does not listen on them.
    var listenAddresses: [JSONValue] = []

    init(passwordAuth: Bool) { self.passwordAuth = passwordAuth }

    /// `vnc_display_password`: refused unless password auth is on.
    mutating func setPassword(_ text: String) -> Bool {
        guard passwordAuth else { return false }
        password = text
        return true
    }

    /// `qmp_expire_password`'s time: "now", "never", "+seconds" from now,
    /// or seconds since the epoch (parsed as strtoull: junk is 0).
    mutating func expire(_ time: String, now: Int64) {
        switch time {
        case "now": expiry = .at(0)
        case "never": expiry = .never
        default:
            if time.hasPrefix("+") {
                // time_t arithmetic in QEMU: "+9223372036854775807" wraps there, not traps.
                expiry = .at(now &+ VNCServer.leadingNumber(time.dropFirst()))
            } else {
                expiry = .at(VNCServer.leadingNumber(Substring(time)))
            }
        }
    }

    /// strtoull's value as the `time_t` QEMU stores it: past 2^64-1 it is
    /// ULLONG_MAX (ERANGE), i.e. -1.
    static func leadingNumber(_ text: Substring) -> Int64 {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return 0 }
        return Int64(bitPattern: UInt64(digits) ?? .max)
    }
}

extension DisplayPlugin {
    /// `qmp_set_password`: SPICE is never in use; VNC needs its display and
    /// password auth, and keeps clients connected (the only choice it has).
    func setPassword(_ args: QAPI.SetPasswordCommand) -> Result<JSONValue, QMPError> {
        if args.protocol == .spice { return .failure(DisplayPlugin.spiceNotInUse) }
        if let connected = args.connected, connected != .keep {
            return .failure(.generic("Invalid parameter 'connected'"))
        }
        var display: String?
        if case .vnc(let vnc)? = args.variant { display = vnc.display }
        guard isVNCDisplay(display), vnc?.setPassword(args.password) == true else {
            return .failure(.generic("Could not set password"))
        }
        return .success(.object([:]))
    }

    /// `qmp_expire_password`: any time string is accepted for a display that exists.
    func expirePassword(_ args: QAPI.ExpirePasswordCommand) -> Result<JSONValue, QMPError> {
        if args.protocol == .spice { return .failure(DisplayPlugin.spiceNotInUse) }
        var display: String?
        if case .vnc(let vnc)? = args.variant { display = vnc.display }
        guard isVNCDisplay(display) else {
            return .failure(.generic("Could not set password expire time"))
        }
        vnc?.expire(args.time, now: Int64(Glibc.time(nil)))
        return .success(.object([:]))
    }

    private func isVNCDisplay(_ id: String?) -> Bool {
        vnc != nil && (id == nil || id == VNCServer.displayID)
    }

    static let spiceNotInUse = QMPError(.deviceNotActive, "SPICE is not in use")
}
