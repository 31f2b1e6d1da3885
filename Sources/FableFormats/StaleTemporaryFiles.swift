import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes the temporary files that killed or failed writes leave behind.
///
/// Every atomic write in Fable goes through a hidden temporary beside its target,
/// `.NAME.tmp-PID` or `.NAME.tmp-PID-RANDOM`, renamed into place when complete. A process
/// killed mid-write (`kill -9`, a full disk, the OOM killer) leaves that file, and a few
/// kills during checkpointing leave hundreds of megabytes. The next run in the same folder
/// calls ``removeAbandoned(in:)``: a temporary whose process no longer exists is deleted;
/// one of a live process (another run still writing) is left alone.
public enum StaleTemporaryFiles {
    /// The process id in a temporary's name, or nil when the name is not one.
    public static func ownerPID(of name: String) -> Int32? {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let digits = name[marker.upperBound...].prefix { $0.isASCII && $0.isNumber }
        let rest = name[marker.upperBound...].dropFirst(digits.count)
        guard !digits.isEmpty, rest.isEmpty || rest.first == "-" else { return nil }
        return Int32(digits)
    }

    /// True when process `pid` exists (on this machine).
    public static func isAlive(_ pid: Int32) -> Bool {
        if pid == getpid() { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Deletes the temporaries in `folder` (not its subfolders) whose process has ended;
    /// with `target`, only those of that file name (in a folder Fable does not own).
    /// - Returns: the names removed.
    @discardableResult
    public static func removeAbandoned(in folder: URL, target: String? = nil) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for name in names {
            if let target, !name.hasPrefix("." + target + ".tmp-") { continue }
            guard let pid = ownerPID(of: name), !isAlive(pid) else { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil {
                removed.append(name)
            }
        }
        return removed.sorted()
    }
}
