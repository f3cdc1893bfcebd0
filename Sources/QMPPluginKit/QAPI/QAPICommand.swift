import QMPWire

/// These run unspecialized in the kit (a plugin calls them generically), so
/// they decode with `do`/`catch`: a `Result<C, QMPError>` there is a
/// generic metadata lookup per request (docs/performance.md).
extension PluginRegistry {
    /// A command that answers at once, with arguments typed by its schema.
    public func command<C: QAPICommand>(_ command: C.Type, _ body: @escaping (P, C) -> Result<JSONValue, QMPError>) {
        self.command(C.qapiName) { this, args in
            do throws(QMPError) { return body(this, try C(arguments: args)) } catch { return .failure(error) }
        }
    }

    /// A command whose members are those of a struct the schema declares
    /// (QEMU 7.2 declares `block-dirty-bitmap-add` with `'data':
    /// 'BlockDirtyBitmapAdd'`; introspection, which our schemas come from,
    /// shows the members inline): its arguments decode as that struct, so
    /// one handler serves the command and the `transaction` action that
    /// carries the same struct.
    public func command<A: QAPIObject>(_ name: String, arguments: A.Type, _ body: @escaping (P, A) -> Result<JSONValue, QMPError>) {
        self.command(name) { this, args in
            do throws(QMPError) { return body(this, try A(qapiMembers: args, at: .root)) } catch { return .failure(error) }
        }
    }

    /// A command that keeps its options as the client gave them, besides
    /// reading them typed: QEMU stores a `netdev_add`'s or a chardev
    /// backend's options and shows them back later in the client's member
    /// order, which re-encoding the typed value would not keep. `members` is
    /// that bag, checked against the schema like the typed value.
    public func command<C: QAPICommand>(_ command: C.Type, keepingMembers body: @escaping (P, C, JSONObject) -> Result<JSONValue, QMPError>) {
        self.command(C.qapiName) { this, args in
            do throws(QMPError) { return body(this, try C(arguments: args), args) } catch { return .failure(error) }
        }
    }

    /// A command whose handler throws its QMP error: `try` forwards a
    /// failure, where a `Result` needed a `switch` for each step.
    public func command<C: QAPICommand>(_ command: C.Type, throwing body: @escaping (P, C) throws(QMPError) -> JSONValue) {
        self.command(C.qapiName) { this, args in
            do throws(QMPError) { return .success(try body(this, try C(arguments: args))) } catch { return .failure(error) }
        }
    }

    /// A command that answers with text the plugin keeps (`CanonicalJSON`,
    /// made with `CanonicalJSON(value)`): for a query asked far more often
    /// than what it reports changes (libvirt polls `query-block`), so its
    /// answer is built and written once per change instead of per request.
    public func textCommand<C: QAPICommand>(_ command: C.Type, _ body: @escaping (P, C) -> Result<CanonicalJSON, QMPError>) {
        commands.append((C.qapiName, HandlerBox { instance, args, reply in
            do throws(QMPError) {
                switch body(unsafeDowncast(instance, to: P.self), try C(arguments: args)) {
                case .success(let text): reply.success(text)
                case .failure(let error): reply.failure(error)
                }
            } catch {
                reply.failure(error)
            }
        }))
    }

    /// A command that answers later through `Reply`; arguments that do not
    /// decode are answered at once.
    public func asyncCommand<C: QAPICommand>(_ command: C.Type, _ body: @escaping (P, C, Reply) -> Void) {
        asyncCommand(C.qapiName) { this, args, reply in
            do throws(QMPError) { body(this, try C(arguments: args), reply) } catch { reply.failure(error) }
        }
    }
}
