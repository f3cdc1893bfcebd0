import QMPPluginKit
import QMPWire

/// The commands that run a migration, with QEMU 7.2's checks and texts
/// (migration/migration.c): `migrate`, `migrate-incoming`, `migrate_cancel`,
/// `migrate-continue`, `migrate-start-postcopy`, `migrate-pause` and
/// `migrate-recover` (the last two `allow-oob`, as 7.2 declares them),
/// `query-migrate`, and a guest action that fails the running migration
/// (a broken network, for fault injection).
extension MigrationPlugin {
    static func registerMigrationCommands(_ plugin: PluginRegistry<MigrationPlugin>) {
        plugin.command(QAPI.QueryMigrateCommand.self) { this, _ in .success(.object(this.migrationInfo)) }
        plugin.command(QAPI.MigrateCommand.self) { this, args in
            this.migrate(uri: args.uri, resume: args.resume ?? false).map { .object([:]) }
        }
        plugin.command(QAPI.MigrateIncomingCommand.self) { this, args in
            this.migrateIncoming(uri: args.uri).map { .object([:]) }
        }
        plugin.command(QAPI.MigrateCancelCommand.self) { this, _ in
            this.outgoing?.cancel()
            return .success(.object([:]))
        }
        plugin.command(QAPI.MigrateContinueCommand.self) { this, args in
            guard let outgoing = this.outgoing else {
                return .failure(.generic("Migration not in expected state: none"))
            }
            return outgoing.continueFrom(args.state.rawValue).map { .object([:]) }
        }
        plugin.command(QAPI.MigrateStartPostcopyCommand.self) { this, _ in this.startPostcopy().map { .object([:]) } }
        plugin.command(QAPI.MigratePauseCommand.self) { this, _ in this.pause().map { .object([:]) } }
        plugin.command(QAPI.MigrateRecoverCommand.self) { this, args in
            this.recover(uri: args.uri).map { .object([:]) }
        }
        plugin.guestAction(QAPI.FailMigrationGuestAction.self) { this, args in
            this.failMigration(reason: args.reason ?? "Unable to write to socket: Connection reset by peer")
                .map { .object([:]) }
        }
    }

    /// qmp_query_migrate: the source's view when this VM has migrated out,
    /// else the target's.
    var migrationInfo: JSONObject {
        if let outgoing { return outgoing.info }
        return incoming?.info ?? [:]
    }

    /// The guest RAM the migration moves: the machine's memory.
    var migratedRAMSize: UInt64 { vm.machine.ramSize }

    /// qmp_migrate and migrate_prepare.
    func migrate(uri: String, resume: Bool) -> Result<Void, QMPError> {
        if resume {
            guard let outgoing, outgoing.isPaused else {
                return .failure(.generic("Cannot resume if there is no paused migration"))
            }
            switch MigrationAddress.parse(uri) ?? .failure(.generic("Parameter 'uri' expects a valid migration protocol")) {
            case .failure(let error): return .failure(error)
            case .success(let address): outgoing.resume(to: address)
            }
            return .success(())
        }
        if let outgoing, outgoing.status.isRunning {
            return .failure(.generic("There's a migration process in progress"))
        }
        if vm.runState == "inmigrate" {
            return .failure(.generic("Guest is waiting for an incoming migration"))
        }
        guard vm.canMigrate else { return .failure(.generic("this host cannot migrate VMs")) }
        let migration = OutgoingMigration(plugin: self, ramSize: migratedRAMSize)
        outgoing = migration
        return migration.start(MigrationAddress.parse(uri) ?? .failure(.generic("Parameter 'uri' expects a valid migration protocol")))
    }

    /// qmp_migrate_incoming: only once, only with `incoming: defer`. QEMU
    /// sends MIGRATION setup here whatever the `events` capability says,
    /// before it even reads the URI.
    func migrateIncoming(uri: String) -> Result<Void, QMPError> {
        guard incomingDeferred else { return .failure(.generic("'-incoming' was not specified on the command line")) }
        guard incoming == nil else { return .failure(.generic("The incoming migration has already been started")) }
        vm.emit("MIGRATION", ["status": "setup"])
        guard let parsed = MigrationAddress.parse(uri) else {
            return .failure(.generic("unknown migration protocol: \(uri)"))
        }
        guard case .success(let address) = parsed else { return parsed.map { _ in () } }
        let migration = IncomingMigration(plugin: self, ramSize: migratedRAMSize)
        if case .failure(let error) = migration.listen(address) { return .failure(error) }
        incoming = migration
        return .success(())
    }

    /// qmp_migrate_start_postcopy.
    func startPostcopy() -> Result<Void, QMPError> {
        guard capabilities.isEnabled("postcopy-ram") || capabilities.isEnabled("dirty-bitmaps") else {
            return .failure(.generic("Enable postcopy with migrate_set_capability before the start of migration"))
        }
        guard let outgoing else {
            return .failure(.generic("Postcopy must be started after migration has been started"))
        }
        outgoing.requestPostcopy()
        return .success(())
    }

    /// qmp_migrate_pause: the source in postcopy-active, else the target.
    func pause() -> Result<Void, QMPError> {
        if let outgoing, outgoing.status == .postcopyActive { return outgoing.pause() }
        if let incoming, incoming.pause() { return .success(()) }
        return .failure(.generic("migrate-pause is currently only supported during postcopy-active state"))
    }

    /// qmp_migrate_recover: the target, paused in postcopy, listens again.
    func recover(uri: String) -> Result<Void, QMPError> {
        guard let incoming, incoming.status == .postcopyPaused else {
            return .failure(.generic("Migrate recover can only be run when postcopy is paused."))
        }
        guard let parsed = MigrationAddress.parse(uri) else {
            return .failure(.generic("unknown migration protocol: \(uri)"))
        }
        switch parsed {
        case .failure(let error): return .failure(error)
        case .success(let address): return incoming.recover(address)
        }
    }

    /// The guest action: the running migration fails as a broken stream would.
    func failMigration(reason: String) -> Result<Void, QMPError> {
        if let outgoing, outgoing.status.isRunning {
            outgoing.fail(reason)
            return .success(())
        }
        if let incoming, incoming.status.isRunning {
            incoming.fail(reason)
            return .success(())
        }
        return .failure(.generic("no migration is running on this VM"))
    }
}
