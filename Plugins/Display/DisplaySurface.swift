/// The picture on the simulated console: 24-bit RGB, drawn from what
/// distinguishes one VM from another, so two screendumps of two VMs differ
/// and a screendump after `stop` differs from one before.
///
/// - the background is a colour derived from a hash of the VM's name;
/// - a bar across the top shows the run state (green running, yellow
///   paused, grey prelaunch, red anything else), as wide as the screen;
/// - a strip along the bottom spells the name's bytes as a bar code.
struct DisplaySurface {
    let width: Int
    let height: Int
    /// Rows of `width * 3` bytes, top to bottom.
    private(set) var pixels: [UInt8]

    static let stateBarHeight = 24
    static let barcodeHeight = 32
    static let barcodeBitWidth = 4

    init(width: Int, height: Int, vmName: String, runState: String) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(rows: 0..<height, colour: DisplaySurface.colour(of: vmName))
        fill(rows: 0..<min(height, DisplaySurface.stateBarHeight), colour: DisplaySurface.colour(ofState: runState))
        drawBarcode(Array(vmName.utf8))
    }

    /// FNV-1a of the name, folded into a mid-bright colour.
    static func colour(of name: String) -> (UInt8, UInt8, UInt8) {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return (UInt8(64 + (hash & 0x7f)), UInt8(64 + ((hash >> 8) & 0x7f)), UInt8(64 + ((hash >> 16) & 0x7f)))
    }

    static func colour(ofState state: String) -> (UInt8, UInt8, UInt8) {
        switch state {
        case "running": return (0, 200, 0)
        case "paused", "suspended": return (230, 200, 0)
        case "prelaunch", "inmigrate": return (128, 128, 128)
        default: return (220, 0, 0)
        }
    }

    private mutating func fill(rows: Range<Int>, columns: Range<Int>? = nil, colour: (UInt8, UInt8, UInt8)) {
        let columns = columns ?? 0..<width
        for y in rows {
            var i = (y * width + columns.lowerBound) * 3
            for _ in columns {
                pixels[i] = colour.0
                pixels[i + 1] = colour.1
                pixels[i + 2] = colour.2
                i += 3
            }
        }
    }

    private mutating func drawBarcode(_ bytes: [UInt8]) {
        let top = max(0, height - DisplaySurface.barcodeHeight)
        var x = 0
        for byte in bytes {
            for bit in (0..<8).reversed() {
                guard x + DisplaySurface.barcodeBitWidth <= width else { return }
                let on = byte >> UInt8(bit) & 1 == 1
                fill(rows: top..<height, columns: x..<x + DisplaySurface.barcodeBitWidth, colour: on ? (255, 255, 255) : (0, 0, 0))
                x += DisplaySurface.barcodeBitWidth
            }
        }
    }
}
