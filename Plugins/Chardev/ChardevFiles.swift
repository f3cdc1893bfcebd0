#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// What a chardev's backend holds on the host before it is built: its log
/// file, a file backend's `out` and `in`, a unix socket backend's socket,
/// made in QEMU's order (`qemu_char_open`: the log file first).
///
/// They are made off the loop (`Opener`: the kernel ignores O_NONBLOCK for
/// a lookup or an open on a hung FUSE or NFS mount, which would hold every
/// VM of the loop), for `chardev-add` and `chardev-change` (tied to the
/// request) and for the chardevs the config or an incoming migration makes
/// (`PendingBackend` stands in meanwhile).
struct ChardevFiles {
    var log: CreatedFile?
    var out: CreatedFile?
    var input: Int32?
    var socket: SocketSetup?
    /// A `udp` backend's connected socket.
    var datagram: Int32?
    /// A `braille` backend's connection to brltty.
    var braille: Int32?

    /// Closes what was opened and removes what this attempt created (on a
    /// worker), then `done`.
    func discard(with opener: Opener, then done: @escaping () -> Void = {}) {
        for fd in [log?.fd, out?.fd, input, datagram, braille].compactMap({ $0 }) { Glibc.close(fd) }
        let created = [log, out].compactMap { $0 }.filter(\.isNew).map(\.path)
        let socketFile = socket?.take()
        if let socketFile { Glibc.close(socketFile.fd) }
        let bound = socketFile?.file
        guard !created.isEmpty || bound != nil else { return done() }
        opener.run({
            for path in created { unlink(path) }
            bound?.remove()
        }, then: done)
    }

    /// How the files are made: on workers, each step's `done` on the loop.
    struct Opener {
        let vm: PluginVM
        /// The request the opens serve (nil: none); when it ended, or the
        /// VM did, `done` is not called.
        let reply: Reply?
        /// Runs on the loop instead, when the host dropped an open because
        /// the request was answered meanwhile (its timeout) or the VM
        /// ended: the command clears what it marked busy (an id being
        /// added), or it would refuse that id for the VM's life.
        let cancelled: (() -> Void)?

        static func offLoop(_ vm: PluginVM, for reply: Reply?, cancelled: (() -> Void)? = nil) -> Opener {
            Opener(vm: vm, reply: reply, cancelled: cancelled)
        }

        /// `work` (blocking calls on client-named paths), then `done`.
        func run(_ work: @escaping @Sendable () -> Void, then done: @escaping () -> Void) {
            vm.offload(work, then: done)
        }

        /// Opens `path` through the VM's file policy: the descriptor or QEMU's
        /// text. `held` is what the chain opened before this step: were the
        /// open dropped, nobody would close it, so it is discarded then.
        func open(_ path: String, flags: Int32, mode: UInt32, discarding held: ChardevFiles,
                  then done: @escaping (Result<Int32, QMPError>) -> Void) {
            vm.openFile(path, flags: flags, mode: mode, for: reply, cancelled: {
                held.discard(with: self)
                self.cancelled?()
            }, then: done)
        }

        /// A file the chardev writes or reads; whether it was there is
        /// looked up first, the same way (a lookup waits on a hung mount
        /// as an open does), so a failed command removes only what it made.
        func create(_ path: String, flags: Int32, mode: UInt32, discarding held: ChardevFiles,
                    then done: @escaping (Result<CreatedFile, QMPError>) -> Void) {
            let existed = ExistedBox()
            run({ existed.value = HostFile.exists(path) }, then: {
                self.open(path, flags: flags, mode: mode, discarding: held) { opened in
                    done(opened.map { CreatedFile(path: path, fd: $0, isNew: !existed.value) })
                }
            })
        }
    }

    /// Opens what `backend` needs with `opener`, then `done` with the
    /// files, or the error (and nothing left open or created).
    static func open(for backend: QAPI.ChardevBackend, with opener: Opener,
                     then done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        let common = backend.common
        guard let logPath = common.logfile else { return openBackendFiles(backend, ChardevFiles(), opener, done) }
        let flags = O_WRONLY | O_CREAT | ((common.logappend ?? false) ? O_APPEND : O_TRUNC)
        opener.create(logPath, flags: flags, mode: 0o666, discarding: ChardevFiles()) { opened in
            switch opened {
            case .failure(let error): done(.failure(.generic(ChardevOpener.createText(error.desc))))
            case .success(let log): openBackendFiles(backend, ChardevFiles(log: log), opener, done)
            }
        }
    }

    /// A file backend's `out`, then its `in`; a socket backend's socket.
    private static func openBackendFiles(_ backend: QAPI.ChardevBackend, _ files: ChardevFiles, _ opener: Opener,
                                         _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        let failed: (QMPError) -> Void = { error in files.discard(with: opener) { done(.failure(error)) } }
        switch backend.variant {
        case .file(let file): openFileBackend(file.data, files, opener, failed: failed, done)
        case .serial(let serial): openSerial(serial.data.device, files, opener, failed: failed, done)
        case .parallel(let parallel): openParallel(parallel.data.device, files, opener, failed: failed, done)
        case .pipe(let pipe): openPipe(pipe.data.device, files, opener, failed: failed, done)
        case .udp(let udp):
            switch DatagramSetup.prepare(udp.data) {
            case .failure(let error): failed(error)
            case .success(let setup):
                opener.run({ setup.run() }, then: {
                    guard let fd = setup.take() else { return failed(.generic(setup.failure ?? "udp: no socket")) }
                    var files = files
                    files.datagram = fd
                    done(.success(files))
                })
            }
        case .socket(let socket):
            SocketSetup.prepare(socket.data, opener, discarding: files) { prepared in
                switch prepared {
                case .failure(let error): failed(error)
                case .success(let setup):
                    var files = files
                    files.socket = setup
                    done(.success(files))
                }
            }
        case .braille:
            let connection = BrailleConnection()
            opener.run({ connection.result = BrailleBackend.connect() }, then: {
                switch connection.result {
                case .failure(let refusal): failed(.generic(refusal.text))
                case .success(let fd):
                    var files = files
                    files.braille = fd
                    done(.success(files))
                }
            })
        default: done(.success(files))
        }
    }

    private static func openFileBackend(_ file: QAPI.ChardevFile, _ files: ChardevFiles, _ opener: Opener,
                                        failed: @escaping (QMPError) -> Void,
                                        _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        let flags = O_WRONLY | O_CREAT | ((file.append ?? false) ? O_APPEND : O_TRUNC)
        opener.create(file.out, flags: flags, mode: 0o666, discarding: files) { opened in
            var files = files
            switch opened {
            case .failure(let error): return failed(error)
            case .success(let out): files.out = out
            }
            guard let inPath = file.in else { return done(.success(files)) }
            opener.open(inPath, flags: O_RDONLY, mode: 0o600, discarding: files) { opened in
                switch opened {
                case .failure(let error): files.discard(with: opener) { done(.failure(error)) }
                case .success(let input):
                    files.input = input
                    done(.success(files))
                }
            }
        }
    }
}

extension ChardevFiles {
    /// `serial`: the device opened read-write and non-blocking, then set
    /// up as QEMU sets up a tty (`HostDeviceSetup.initSerial`, on a
    /// worker). Unlike QEMU, `O_NOCTTY`: a terminal never becomes the
    /// fleet's controlling terminal.
    fileprivate static func openSerial(_ device: String, _ files: ChardevFiles, _ opener: Opener,
                                       failed: @escaping (QMPError) -> Void,
                                       _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        opener.open(device, flags: O_RDWR | O_NONBLOCK | O_NOCTTY, mode: 0, discarding: files) { opened in
            guard case .success(let fd) = opened else {
                if case .failure(let error) = opened { failed(error) }
                return
            }
            var files = files
            files.out = CreatedFile(path: device, fd: fd, isNew: false)
            opener.run({ HostDeviceSetup.initSerial(fd) }, then: { done(.success(files)) })
        }
    }

    /// `parallel`: the device opened read-write, then claimed (on a
    /// worker); anything but a parallel port is refused with QEMU's text.
    fileprivate static func openParallel(_ device: String, _ files: ChardevFiles, _ opener: Opener,
                                         failed: @escaping (QMPError) -> Void,
                                         _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        opener.open(device, flags: O_RDWR | O_NOCTTY, mode: 0, discarding: files) { opened in
            guard case .success(let fd) = opened else {
                if case .failure(let error) = opened { failed(error) }
                return
            }
            let claim = ClaimBox()
            opener.run({ claim.refusal = HostDeviceSetup.claimParallel(fd) }, then: {
                if let refusal = claim.refusal {
                    Glibc.close(fd)
                    return failed(.generic(refusal))
                }
                var files = files
                files.out = CreatedFile(path: device, fd: fd, isNew: false)
                done(.success(files))
            })
        }
    }

    /// `pipe`: QEMU's `qemu_chr_open_pipe`: PATH.in and PATH.out, each
    /// read-write; when either cannot be opened, PATH itself for both
    /// directions, and its error is the one reported.
    fileprivate static func openPipe(_ path: String, _ files: ChardevFiles, _ opener: Opener,
                                     failed: @escaping (QMPError) -> Void,
                                     _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        let onePath = {
            opener.open(path, flags: O_RDWR | O_NOCTTY, mode: 0, discarding: files) { opened in
                switch opened {
                case .failure(let error): failed(error)
                case .success(let fd):
                    var files = files
                    files.out = CreatedFile(path: path, fd: fd, isNew: false)
                    done(.success(files))
                }
            }
        }
        opener.open("\(path).in", flags: O_RDWR | O_NOCTTY, mode: 0, discarding: files) { input in
            guard case .success(let inFD) = input else { return onePath() }
            var held = files
            held.input = inFD
            opener.open("\(path).out", flags: O_RDWR | O_NOCTTY, mode: 0, discarding: held) { output in
                guard case .success(let outFD) = output else {
                    Glibc.close(inFD)
                    return onePath()
                }
                held.out = CreatedFile(path: "\(path).out", fd: outFD, isNew: false)
                done(.success(held))
            }
        }
    }
}

/// A parallel port's claim, made on a worker and read on the loop after it.
private final class ClaimBox: @unchecked Sendable {
    var refusal: String?
}

/// Whether a file was there, set on a worker and read on the loop after it.
private final class ExistedBox: @unchecked Sendable {
    var value = false
}
