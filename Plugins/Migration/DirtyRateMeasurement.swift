import QMPPluginKit
import QMPWire

/// `calc-dirty-rate` and `query-dirty-rate` (QEMU's migration/dirtyrate.c):
/// a measurement of how fast the guest dirties its memory, run in the
/// background for `calc-time` seconds, then read back.
///
/// The measurement runs as QEMU's does: one at a time, the same argument
/// checks and texts, `measuring` for `calc-time` seconds on the VM's clock
/// (paused or not), then `measured`. What it measures is the simulated
/// guest, which writes none of its RAM (no guest code runs), so the rate is
/// 0 MB/s, which is also what QEMU 7.2 measures for a guest that is
/// paused or idle in firmware.
///
/// Modes: `page-sampling` (the default) and `dirty-bitmap` measure;
/// `dirty-ring` needs KVM's dirty ring (`-accel kvm,dirty-ring-size=N`),
/// which no simulated VM has, so it gets QEMU's "not enabled" error.
/// (QEMU 7.2 under TCG crashes on both non-default modes, as it asks KVM
/// state that does not exist; a simulated VM answers as QEMU does with KVM.)
struct DirtyRateMeasurement {
    /// QEMU's MIN/MAX_FETCH_DIRTYRATE_TIME_SEC.
    static let calcTimeRange: ClosedRange<Int64> = 1...60
    /// QEMU's MIN/MAX_SAMPLE_PAGE_COUNT, and DIRTYRATE_DEFAULT_SAMPLE_PAGES.
    static let samplePagesRange: ClosedRange<Int64> = 128...16384
    static let defaultSamplePages: Int64 = 512
    /// The simulated guest's memory write rate, in MB/s.
    static let guestDirtyRate: Int64 = 0

    enum Status: String { case unstarted, measuring, measured }

    var status = Status.unstarted
    var mode = "page-sampling"
    var samplePages: Int64 = 0
    var startTime: Int64 = 0
    var calcTime: Int64 = 0
    var dirtyRate: Int64 = -1
    var timer: TimerID?

    /// `qmp_calc_dirty_rate`'s checks, in QEMU 7.2's order; on success the
    /// measurement has started at `nowSeconds` (QEMU_CLOCK_REALTIME / 1000).
    mutating func start(_ args: QAPI.CalcDirtyRateCommand, nowSeconds: Int64) -> Result<Void, QMPError> {
        guard status != .measuring else { return .failure(.generic("the dirty rate is already being measured.")) }
        let calcTime = args.calcTime
        guard Self.calcTimeRange.contains(calcTime) else {
            return .failure(.generic("calc-time is out of range[\(Self.calcTimeRange.lowerBound), \(Self.calcTimeRange.upperBound)]."))
        }
        let mode = (args.mode ?? .pageSampling).rawValue
        var pages = Self.defaultSamplePages
        if let given = args.samplePages {
            guard mode != "dirty-ring" else { return .failure(.generic("either sample-pages or dirty-ring can be specified.")) }
            guard Self.samplePagesRange.contains(given) else {
                return .failure(.generic("sample-pages is out of range[\(Self.samplePagesRange.lowerBound), \(Self.samplePagesRange.upperBound)]."))
            }
            pages = given
        }
        if mode == "dirty-ring" { return .failure(.generic("mode dirty-ring is not enabled, use other method instead.")) }
        status = .measuring
        self.mode = mode
        samplePages = pages
        startTime = nowSeconds
        self.calcTime = calcTime
        dirtyRate = -1
        return .success(())
    }

    /// The measuring period is over.
    mutating func finish() {
        status = .measured
        dirtyRate = Self.guestDirtyRate
        timer = nil
    }

    /// `query-dirty-rate`: DirtyRateInfo, `dirty-rate` once measured.
    var info: JSONValue {
        var info: JSONObject = ["status": .string(status.rawValue), "sample-pages": .int(samplePages)]
        if status == .measured { info["dirty-rate"] = .int(dirtyRate) }
        info["mode"] = .string(mode)
        info["start-time"] = .int(startTime)
        info["calc-time"] = .int(calcTime)
        return .object(info)
    }
}

extension MigrationPlugin {
    static func registerDirtyRate(_ plugin: PluginRegistry<MigrationPlugin>) {
        plugin.command(QAPI.CalcDirtyRateCommand.self) { this, args in this.calcDirtyRate(args) }
        plugin.command(QAPI.QueryDirtyRateCommand.self) { this, _ in .success(this.dirtyRate.info) }
    }

    func calcDirtyRate(_ args: QAPI.CalcDirtyRateCommand) -> Result<JSONValue, QMPError> {
        let now = Int64(vm.nowMilliseconds / 1000)
        if case .failure(let error) = dirtyRate.start(args, nowSeconds: now) { return .failure(error) }
        dirtyRate.timer = vm.startTimer(afterMilliseconds: UInt64(dirtyRate.calcTime) * 1000) { [weak self] in
            self?.dirtyRate.finish()
        }
        return .success(.object([:]))
    }
}
