/// A value that belongs to one loop thread, carried through another
/// thread's hands without being used there.
///
/// Sharding hands closures and routers between loops with
/// `EventLoop.execute`, which takes only `Sendable` work. The things handed
/// over (a session's completion, a router) are not thread-safe; they are
/// safe to carry because they are unwrapped only on the loop they belong to.
/// Every use of this box must keep that promise.
package struct LoopConfined<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
