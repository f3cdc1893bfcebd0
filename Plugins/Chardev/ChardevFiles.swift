#if canImport(Glibc)
import Glibc
#endif
import QMPPluginKit
import QMPWire

/// The files a chardev's backend writes and reads (its log file, a file
/// backend's `out` and `in`), opened before the backend is built, in
/// QEMU's order (`qemu_char_open`: the log file first).
///
/// `chardev-add` and `chardev-change` open them off the loop (`Opener.offLoop`:
/// the kernel ignores O_NONBLOCK for an open on a hung FUSE or NFS mount,
/// which would hold every VM of the loop); a chardev the config or an
/// incoming migration makes opens them in place (`Opener.now`).
struct ChardevFiles {
    var log: CreatedFile?
    var out: CreatedFile?
    var input: Int32?

    /// Closes what was opened and removes what this attempt created.
    func discard() {
        log?.discard()
        out?.discard()
        if let input { Glibc.close(input) }
    }

    /// How one file is opened: `done` gets it, or QEMU's "Could not open" text.
    struct Opener {
        let open: (_ path: String, _ flags: Int32, _ mode: UInt32, _ done: @escaping (Result<CreatedFile, QMPError>) -> Void) -> Void

        /// On the calling thread, at once.
        static func now(_ vm: PluginVM) -> Opener {
            Opener { path, flags, mode, done in done(CreatedFile.open(vm, path, flags: flags, mode: mode)) }
        }

        /// On a worker, for the request `reply` answers: whether the file
        /// was there is looked up there too (a lookup waits on a hung mount
        /// as an open does). `done` runs on the loop, and not at all when
        /// the request or the VM ended.
        static func offLoop(_ vm: PluginVM, for reply: Reply) -> Opener {
            Opener { path, flags, mode, done in
                let existed = ExistedBox()
                vm.offload({ existed.value = HostFile.exists(path) }, then: {
                    vm.openFile(path, flags: flags, mode: mode, for: reply) { opened in
                        done(opened.map { CreatedFile(path: path, fd: $0, isNew: !existed.value) })
                    }
                })
            }
        }
    }

    /// Opens what `backend` needs with `opener`, then `done` with the
    /// files, or the error (and nothing left open or created).
    static func open(for backend: QAPI.ChardevBackend, with opener: Opener,
                     then done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        let common = backend.common
        guard let logPath = common.logfile else { return openBackendFiles(backend, ChardevFiles(), opener, done) }
        let flags = O_WRONLY | O_CREAT | ((common.logappend ?? false) ? O_APPEND : O_TRUNC)
        opener.open(logPath, flags, 0o666) { opened in
            switch opened {
            case .failure(let error): done(.failure(.generic(ChardevOpener.createText(error.desc))))
            case .success(let log): openBackendFiles(backend, ChardevFiles(log: log), opener, done)
            }
        }
    }

    /// A file backend's `out`, then its `in`.
    private static func openBackendFiles(_ backend: QAPI.ChardevBackend, _ files: ChardevFiles, _ opener: Opener,
                                         _ done: @escaping (Result<ChardevFiles, QMPError>) -> Void) {
        guard case .file(let file) = backend.variant else { return done(.success(files)) }
        let flags = O_WRONLY | O_CREAT | ((file.data.append ?? false) ? O_APPEND : O_TRUNC)
        opener.open(file.data.out, flags, 0o666) { opened in
            var files = files
            switch opened {
            case .failure(let error):
                files.discard()
                return done(.failure(error))
            case .success(let out): files.out = out
            }
            guard let inPath = file.data.in else { return done(.success(files)) }
            opener.open(inPath, O_RDONLY, 0o600) { opened in
                switch opened {
                case .failure(let error):
                    files.discard()
                    done(.failure(error))
                case .success(let input):
                    files.input = input.fd
                    done(.success(files))
                }
            }
        }
    }
}

/// Whether a file was there, set on a worker and read on the loop after it.
private final class ExistedBox: @unchecked Sendable {
    var value = false
}
