import CUV

/// A Swift object that owns a libuv handle.
///
/// The handle's `data` holds a retained reference to its owner while the
/// handle is open, so the owner lives as long as libuv can call it; the close
/// callback releases that reference and frees the handle's memory. That is
/// the rule the libuv docs give: memory only in the close callback.
protocol LoopHandle: AnyObject {
    /// Starts closing; idempotent.
    func close()
}

/// Allocates and frees libuv handle memory, and the close callback that ends
/// the ownership described in `LoopHandle`.
enum HandleMemory {
    static func allocate<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        UnsafeMutableRawPointer(p).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        return p
    }

    /// Stores a retained owner in `handle.data`.
    static func retain(_ owner: AnyObject, in handle: UnsafeMutablePointer<uv_handle_t>) {
        handle.pointee.data = Unmanaged.passRetained(owner).toOpaque()
    }

    static func owner<T: AnyObject>(_ handle: UnsafeMutablePointer<uv_handle_t>?, as: T.Type) -> T? {
        guard let data = handle?.pointee.data else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? T
    }

    /// Closes `handle`; the callback releases the owner and frees the memory.
    static func close(_ handle: UnsafeMutablePointer<uv_handle_t>) {
        guard uv_is_closing(handle) == 0 else { return }
        uv_close(handle) { handle in
            guard let handle else { return }
            if let data = handle.pointee.data {
                Unmanaged<AnyObject>.fromOpaque(data).release()
                handle.pointee.data = nil
            }
            handle.deallocate()
        }
    }
}

extension UnsafeMutablePointer {
    /// The same memory seen as the `uv_handle_t` every handle type starts with.
    var asHandle: UnsafeMutablePointer<uv_handle_t> { UnsafeMutableRawPointer(self).assumingMemoryBound(to: uv_handle_t.self) }
}
