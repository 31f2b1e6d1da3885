#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

// OpenBLAS builds with DYNAMIC_ARCH pick their kernels from the CPU model when they load.
// Releases older than the CPU do not know it: OpenBLAS 0.3.21 (Debian 12, Ubuntu 24.04)
// runs AMD Zen 4/5 processors, which have AVX-512, on its AVX2 "Haswell" or "Zen" kernels
// at about half speed. Newer OpenBLAS releases choose the AVX-512 "SkylakeX" kernels there.
// OpenBLAS reads OPENBLAS_CORETYPE once, while it loads, so Fable sets it around dlopen
// on such CPUs (AMD with the full AVX-512 F/CD/BW/DQ/VL set) and removes it afterwards.
// A user's own OPENBLAS_CORETYPE always wins; FABLE_OPENBLAS_CORETYPE=auto turns this off.

extension BLASLibrary {
    /// The OpenBLAS core type Fable suggests for this CPU, or nil to let OpenBLAS choose.
    public static func suggestedOpenBLASCoreType(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil { return nil }
        if let setting = environment["FABLE_OPENBLAS_CORETYPE"], !setting.isEmpty {
            return setting.lowercased() == "auto" ? nil : setting
        }
        #if os(Linux) && arch(x86_64)
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return suggestedCoreType(cpuinfo: info)
        #else
        return nil
        #endif
    }

    /// The suggestion for a `/proc/cpuinfo` text: "SkylakeX" on AMD CPUs with AVX-512.
    static func suggestedCoreType(cpuinfo: String) -> String? {
        var vendor = "", flags = Set<Substring>()
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            if key == "vendor_id" && vendor.isEmpty {
                vendor = parts[1].trimmingCharacters(in: .whitespaces)
            } else if key == "flags" && flags.isEmpty {
                flags = Set(parts[1].split(separator: " "))
            }
            if !vendor.isEmpty && !flags.isEmpty { break }
        }
        let avx512: [Substring] = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
        guard vendor == "AuthenticAMD", avx512.allSatisfy(flags.contains) else { return nil }
        return "SkylakeX"
    }

    /// Runs `body` (a dlopen) with OPENBLAS_CORETYPE set to the suggestion, if any.
    static func withOpenBLASCoreTypeHint<R>(_ body: () -> R) -> R {
        guard let core = suggestedOpenBLASCoreType() else { return body() }
        setenv("OPENBLAS_CORETYPE", core, 1)
        defer { unsetenv("OPENBLAS_CORETYPE") }
        return body()
    }
}
