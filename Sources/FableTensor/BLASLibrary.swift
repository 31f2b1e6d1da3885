#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// Why no BLAS library could be used.
public enum BLASLoadError: Error, CustomStringConvertible, Equatable {
    /// `dlopen` refused every candidate; each entry is "path: reason".
    case notFound(attempts: [String])
    /// The library at `path` opened but lacks `cblas_sgemm`.
    case missingSymbol(path: String, symbol: String)
    /// `FABLE_BLAS` named a library that `dlopen` could not open.
    case overrideFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let attempts):
            return "no BLAS library found (tried \(attempts.joined(separator: "; ")))"
        case .missingSymbol(let path, let symbol):
            return "BLAS library \(path) does not export \(symbol)"
        case .overrideFailed(let path, let reason):
            return "FABLE_BLAS=\(path) could not be loaded: \(reason)"
        }
    }
}

/// A CBLAS library opened at run time with `dlopen`, so Fable has no link-time dependency
/// on any BLAS and runs with the Swift toolchain alone.
///
/// Search order: `FABLE_BLAS` (a path or file name) when set, else on Linux OpenBLAS
/// (`libopenblas.so.0`, `libopenblas.so`, `libopenblasp`/`libopenblaso` variants), BLIS,
/// MKL (`libmkl_rt`), then `libblas.so.3`/`libcblas.so.3`; on macOS Accelerate. The first
/// library that exports `cblas_sgemm` wins, except that the search skips a library it
/// cannot identify as OpenBLAS, BLIS or MKL (a `libblas.so.3` that is the netlib reference
/// implementation is far slower than ``SIMDGEMM``); `FABLE_BLAS` accepts any CBLAS.
/// Loaded libraries stay open for the life of the process.
public final class BLASLibrary: @unchecked Sendable {
    /// The family of library, which decides how its thread count is set.
    public enum Vendor: String, Sendable {
        case openBLAS = "openblas", blis, mkl, accelerate, generic = "blas"
    }

    // MARK: - C signatures

    typealias SgemmFunction = @convention(c) (
        Int32, Int32, Int32, Int32, Int32, Int32, Float,
        UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
        UnsafeMutablePointer<Float>?, Int32
    ) -> Void
    typealias SetThreadsInt32 = @convention(c) (Int32) -> Void
    typealias SetThreadsInt = @convention(c) (Int) -> Void
    typealias StringGetter = @convention(c) () -> UnsafePointer<CChar>?

    // MARK: - Properties

    /// The path or name given to `dlopen`.
    public let requestedPath: String
    /// The file that actually provides `cblas_sgemm` (symlinks resolved by the loader).
    public let resolvedPath: String
    /// Which library family this is.
    public let vendor: Vendor
    /// The library's own description, such as "OpenBLAS 0.3.21 ... Haswell", when it has one.
    public let details: String?

    let sgemmFunction: SgemmFunction
    private let setThreadsFunction: ((Int) -> Void)?
    /// The thread count Fable last gave the library (0: not set by Fable yet) and how many
    /// ``withSingleThread(_:)`` calls are running.
    private let threadState = Mutex((applied: 0, pinDepth: 0))

    /// Whether Fable can set this library's thread count.
    public var controlsThreads: Bool { setThreadsFunction != nil }

    /// A one-line description: vendor, details and the file loaded.
    public var summary: String {
        let file = requestedPath == resolvedPath ? resolvedPath : "\(requestedPath) -> \(resolvedPath)"
        return "\(vendor.rawValue)\(details.map { " (\($0))" } ?? "") from \(file)"
    }

    /// Internal so tests can build a library around stand-in functions.
    init(
        requestedPath: String, resolvedPath: String, vendor: Vendor, details: String?,
        sgemm: SgemmFunction, setThreads: ((Int) -> Void)?
    ) {
        self.requestedPath = requestedPath
        self.resolvedPath = resolvedPath
        self.vendor = vendor
        self.details = details
        self.sgemmFunction = sgemm
        self.setThreadsFunction = setThreads
    }
}

// MARK: - Loading

extension BLASLibrary {
    /// The library names tried, in order, when `FABLE_BLAS` is not set.
    public static var candidatePaths: [String] {
        #if os(macOS) || os(iOS)
        return ["/System/Library/Frameworks/Accelerate.framework/Accelerate"]
        #else
        return [
            "libopenblas.so.0", "libopenblas.so",
            "libopenblasp.so.0", "libopenblasp.so", "libopenblaso.so.0", "libopenblaso.so",
            "libblis.so.4", "libblis.so", "libblisp.so.4", "libbliso.so.4", "libblis-mt.so.4",
            "libmkl_rt.so.2", "libmkl_rt.so",
            "libblas.so.3", "libcblas.so.3",
        ]
        #endif
    }

    /// Every library opened so far, by the name asked for.
    private static let cache = Mutex<[String: Result<BLASLibrary, BLASLoadError>]>([:])

    /// Loads the library named by `FABLE_BLAS` in `environment`, else the first of
    /// ``candidatePaths`` that opens and exports `cblas_sgemm`. Results are cached.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Result<BLASLibrary, BLASLoadError> {
        if let path = environment["FABLE_BLAS"], !path.isEmpty {
            return load(path: path).mapError { error in
                if case .notFound(let attempts) = error {
                    let reason = attempts.first.map { shorten($0, path: path) } ?? "not found"
                    return .overrideFailed(path: path, reason: reason)
                }
                return error
            }
        }
        var attempts: [String] = []
        for path in candidatePaths {
            switch load(path: path) {
            case .success(let library) where library.vendor == .generic:
                // Likely the unoptimised reference BLAS, slower than the Swift kernel.
                attempts.append("\(path): not a known optimised BLAS (set FABLE_BLAS to use it anyway)")
            case .success(let library): return .success(library)
            case .failure(.notFound(let tried)): attempts += tried
            case .failure(let error): attempts.append(error.description)
            }
        }
        return .failure(.notFound(attempts: attempts))
    }

    /// Opens one library by path or file name (as `dlopen` searches), cached per name.
    public static func load(path: String) -> Result<BLASLibrary, BLASLoadError> {
        cache.withLock { cache in
            if let cached = cache[path] { return cached }
            var result = open(path: path)
            // Two names for one file (libopenblas.so.0 and its real path) share one object, so
            // the thread-count bookkeeping matches the library's single global setting.
            if case .success(let library) = result,
               let twin = cache.values.lazy.compactMap({ try? $0.get() })
                   .first(where: { $0.resolvedPath == library.resolvedPath }) {
                result = .success(twin)
            }
            cache[path] = result
            return result
        }
    }

    private static func open(path: String) -> Result<BLASLibrary, BLASLoadError> {
        let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)
        guard let handle else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            return .failure(.notFound(attempts: ["\(path): \(shorten(reason, path: path))"]))
        }
        func symbol(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }
        guard let sgemmPointer = symbol("cblas_sgemm") else {
            dlclose(handle)
            return .failure(.missingSymbol(path: path, symbol: "cblas_sgemm"))
        }
        let sgemm = unsafeBitCast(sgemmPointer, to: SgemmFunction.self)

        var vendor = Vendor.generic
        var details: String?
        var setThreads: ((Int) -> Void)?
        if let set = symbol("openblas_set_num_threads") {
            vendor = .openBLAS
            let function = unsafeBitCast(set, to: SetThreadsInt32.self)
            setThreads = { function(Int32(clamping: $0)) }
            details = string(from: symbol("openblas_get_config"))
            if let core = string(from: symbol("openblas_get_corename")),
               !(details?.contains(core) ?? false) {
                details = [details, core].compactMap { $0 }.joined(separator: " ")
            }
        } else if let set = symbol("bli_thread_set_num_threads") {
            vendor = .blis
            let function = unsafeBitCast(set, to: SetThreadsInt.self)
            setThreads = { function($0) }
            details = string(from: symbol("bli_info_get_version_str")).map { "BLIS \($0)" }
        } else if let set = symbol("MKL_Set_Num_Threads") ?? symbol("mkl_set_num_threads") {
            vendor = .mkl
            let function = unsafeBitCast(set, to: SetThreadsInt32.self)
            setThreads = { function(Int32(clamping: $0)) }
        } else if path.contains("Accelerate") {
            vendor = .accelerate
        }

        let resolved = fileContaining(sgemmPointer).map(realPath) ?? path
        return .success(BLASLibrary(
            requestedPath: path, resolvedPath: resolved, vendor: vendor, details: details,
            sgemm: sgemm, setThreads: setThreads))
    }

    /// The file the loader mapped `address` from, via `dladdr` (looked up with dlsym
    /// because Glibc's module map hides it behind _GNU_SOURCE).
    private static func fileContaining(_ address: UnsafeMutableRawPointer) -> String? {
        #if canImport(Darwin)
        var info = Dl_info()
        guard dladdr(address, &info) != 0, let name = info.dli_fname else { return nil }
        return String(cString: name)
        #else
        // Dl_info is four pointers: file name, file base, symbol name, symbol address.
        typealias Dladdr = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> Int32
        guard let lookup = dlsym(nil, "dladdr") else { return nil }  // nil: RTLD_DEFAULT
        var info: [UnsafePointer<CChar>?] = [nil, nil, nil, nil]
        let found = info.withUnsafeMutableBytes { bytes in
            unsafeBitCast(lookup, to: Dladdr.self)(address, bytes.baseAddress)
        }
        guard found != 0, let name = info[0] else { return nil }
        return String(cString: name)
        #endif
    }

    /// The path with symbolic links resolved (alternatives links name the real variant).
    private static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func string(from getter: UnsafeMutableRawPointer?) -> String? {
        guard let getter else { return nil }
        let function = unsafeBitCast(getter, to: StringGetter.self)
        guard let text = function() else { return nil }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// dlerror repeats the path; keep only the reason.
    private static func shorten(_ reason: String, path: String) -> String {
        let prefix = "\(path): "
        return reason.hasPrefix(prefix) ? String(reason.dropFirst(prefix.count)) : reason
    }
}

// MARK: - Calling

extension BLASLibrary {
    /// Calls `cblas_sgemm` in row-major order. Dimensions must fit in Int32.
    @inline(__always)
    func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112
        sgemmFunction(
            rowMajor, transposeA ? transpose : noTranspose, transposeB ? transpose : noTranspose,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    // MARK: - Threads

    /// Sets the library's (process-wide) thread count to `threads` unless it already is,
    /// or unless ``withSingleThread(_:)`` is running, which keeps it at one.
    /// Cheap when nothing changes: one lock and a comparison.
    func applyThreadCount(_ threads: Int) {
        guard let setThreadsFunction else { return }
        threadState.withLock { state in
            let wanted = state.pinDepth > 0 ? 1 : max(1, threads)
            if state.applied != wanted {
                setThreadsFunction(wanted)
                state.applied = wanted
            }
        }
    }

    /// Whether ``withSingleThread(_:)`` is running, so calls from worker threads are safe.
    var isPinnedToSingleThread: Bool {
        setThreadsFunction != nil && threadState.withLock { $0.pinDepth > 0 }
    }

    /// Runs `body` with the library limited to one thread, so that `body`'s worker threads
    /// may each call the library at once. Nests. Call from the orchestrating thread.
    func withSingleThread<R>(_ body: () throws -> R) rethrows -> R {
        threadState.withLock { state in
            state.pinDepth += 1
            if state.pinDepth == 1, let setThreadsFunction, state.applied != 1 {
                setThreadsFunction(1)
                state.applied = 1
            }
        }
        defer { threadState.withLock { $0.pinDepth -= 1 } }
        return try body()
    }
}
