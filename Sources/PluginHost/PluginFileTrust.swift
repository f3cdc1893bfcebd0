#if canImport(Glibc)
import Glibc
#endif

/// A plugin is code the fleet runs with all its rights, in the process that
/// serves every VM: whoever may replace a `.so`, or put one in a plugin
/// directory, runs code as the fleet. So a library is loaded only when it
/// and its directory (after symlinks) belong to the fleet's user or root
/// and no group or other user may write them, as sshd checks its keys.
enum PluginFileTrust {
    /// Why `path` may not be loaded, or nil when it may.
    static func refusal(for path: String, uid: uid_t = getuid()) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }  // dlopen reports it
        defer { free(resolved) }
        let file = String(cString: resolved)
        let directory = file.lastIndex(of: "/").map { String(file[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        if let problem = problem(with: file, what: "the file", uid: uid) { return problem }
        return problem(with: directory, what: "its directory", uid: uid)
    }

    private static func problem(with path: String, what: String, uid: uid_t) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return "\(what) \(path): \(String(cString: strerror(errno)))" }
        if st.st_uid != uid && st.st_uid != 0 {
            return "\(what) \(path) belongs to uid \(st.st_uid), not to the fleet's user (uid \(uid)) or root"
        }
        // A sticky directory (/tmp) still lets others add files: refused too.
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            return "\(what) \(path) is writable by \(st.st_mode & S_IWOTH != 0 ? "other users" : "its group") (mode \(String(st.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }
}
