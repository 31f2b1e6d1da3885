#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Why no MPI library could be used.
public enum MPILoadError: Error, CustomStringConvertible, Equatable {
    /// `dlopen` refused every candidate; each entry is "path: reason".
    case notFound(attempts: [String])
    /// `FABLE_MPI` named a library that `dlopen` could not open.
    case overrideFailed(path: String, reason: String)
    /// The library at `path` opened but lacks an MPI function Fable calls.
    case missingSymbol(path: String, symbol: String)
    /// The library is neither Open MPI nor from the MPICH ABI family (MPICH, Intel MPI,
    /// MVAPICH, Cray MPICH), whose handle values Fable knows.
    case unknownABI(path: String, version: String)

    public var description: String {
        switch self {
        case .notFound(let attempts):
            return "no MPI library found (tried \(attempts.joined(separator: "; "))); install Open MPI or MPICH "
                + "(Debian/Ubuntu: apt-get install openmpi-bin) or name the library with FABLE_MPI=/path/to/libmpi.so"
        case .overrideFailed(let path, let reason):
            return "FABLE_MPI=\(path) could not be loaded: \(reason)"
        case .missingSymbol(let path, let symbol):
            return "MPI library \(path) does not export \(symbol)"
        case .unknownABI(let path, let version):
            return "MPI library \(path) (\(version)) is neither Open MPI nor MPICH-compatible; "
                + "Fable knows those two handle conventions"
        }
    }
}

/// An MPI library opened at run time with `dlopen`, so Fable has no link-time dependency on
/// MPI and builds with the Swift toolchain alone (the BLAS path works the same way, see
/// `BLASLibrary`).
///
/// Search order: `FABLE_MPI` (a path or file name) when set, else `libmpi.so.40` (Open MPI
/// 3-5), `libmpi.so.12` (MPICH, Intel MPI, MVAPICH), `libmpich.so.12`, `libmpi.so`; on macOS
/// `libmpi.dylib` and `libmpi.40.dylib`. Under an MPICH/Hydra launcher (`PMI_RANK` set, no
/// `OMPI_*` variables) the MPICH names come first, so a machine with both installed picks
/// the library that belongs to the launcher. The library is opened with `RTLD_GLOBAL` because Open
/// MPI loads its own plug-ins afterwards and they resolve symbols from it.
///
/// MPI's handles differ by implementation: Open MPI's are pointers to exported objects
/// (`MPI_COMM_WORLD` is `&ompi_mpi_comm_world`), MPICH's are 32-bit integers with fixed
/// values (`MPI_COMM_WORLD` is 0x44000000). ``ABI`` binds every function with the right C
/// signature for the library found; callers see one Swift interface (``MPIFunctions``).
public final class MPILibrary: @unchecked Sendable {
    /// The handle convention of the library.
    public enum ABI: String, Sendable {
        case openMPI = "Open MPI"
        case mpich = "MPICH"
    }

    /// The path or name given to `dlopen`.
    public let path: String
    /// Which handle convention it uses.
    public let abi: ABI
    /// `MPI_Get_library_version`'s first line, such as "Open MPI v4.1.4, ...".
    public let version: String
    let functions: MPIFunctions

    init(path: String, abi: ABI, version: String, functions: MPIFunctions) {
        self.path = path
        self.abi = abi
        self.version = version
        self.functions = functions
    }

    /// The library names tried, in order, when `FABLE_MPI` is not set.
    public static var candidatePaths: [String] {
        #if os(macOS)
        return ["libmpi.dylib", "libmpi.40.dylib", "libmpich.12.dylib", "/opt/homebrew/lib/libmpi.dylib",
                "/usr/local/lib/libmpi.dylib"]
        #else
        return ["libmpi.so.40", "libmpi.so.12", "libmpich.so.12", "libmpi.so"]
        #endif
    }

    /// ``candidatePaths`` ordered for the launcher `environment` names: MPICH's libraries
    /// first under Hydra (`PMI_RANK` without any `OMPI_*` variable), else unchanged.
    public static func candidatePaths(for environment: [String: String]) -> [String] {
        let openMPILaunched = environment.keys.contains { $0.hasPrefix("OMPI_") }
        guard environment["PMI_RANK"] != nil, !openMPILaunched else { return candidatePaths }
        let isMPICH = { (path: String) in path.contains("mpich") || path.contains(".so.12") || path.contains(".12.dylib") }
        return candidatePaths.filter(isMPICH) + candidatePaths.filter { !isMPICH($0) }
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: Result<MPILibrary, MPILoadError>] = [:]

    /// Loads the library named by `FABLE_MPI` in `environment`, else the first of
    /// ``candidatePaths`` that opens and exports MPI. Results are cached.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> Result<MPILibrary, MPILoadError> {
        if let path = environment["FABLE_MPI"], !path.isEmpty {
            return load(path: path).mapError { error in
                if case .notFound(let attempts) = error {
                    return .overrideFailed(path: path, reason: attempts.first.map { shorten($0, path: path) } ?? "not found")
                }
                return error
            }
        }
        var attempts: [String] = []
        for path in candidatePaths(for: environment) {
            switch load(path: path) {
            case .success(let library): return .success(library)
            case .failure(.notFound(let tried)): attempts += tried
            case .failure(let error): attempts.append(error.description)
            }
        }
        return .failure(.notFound(attempts: attempts))
    }

    /// Opens one library by path or file name (as `dlopen` searches), cached per name.
    public static func load(path: String) -> Result<MPILibrary, MPILoadError> {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cached = cache[path] { return cached }
        let result = open(path: path)
        cache[path] = result
        return result
    }

    private static func open(path: String) -> Result<MPILibrary, MPILoadError> {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            return .failure(.notFound(attempts: ["\(path): \(shorten(reason, path: path))"]))
        }
        let symbols = SymbolTable(handle: handle, path: path)
        do {
            let version = try libraryVersion(symbols)
            let abi: ABI
            if symbols.address("ompi_mpi_comm_world") != nil {
                abi = .openMPI
            } else if ["MPICH", "Intel(R) MPI", "MVAPICH", "CRAY MPICH"].contains(where: { version.localizedCaseInsensitiveContains($0) }) {
                abi = .mpich
            } else {
                dlclose(handle)
                return .failure(.unknownABI(path: path, version: version))
            }
            let functions = try abi == .openMPI ? MPIFunctions.openMPI(symbols) : MPIFunctions.mpich(symbols)
            return .success(MPILibrary(path: path, abi: abi, version: version, functions: functions))
        } catch {
            dlclose(handle)
            return .failure(error)
        }
    }

    /// The first line of `MPI_Get_library_version` (callable before `MPI_Init`).
    private static func libraryVersion(_ symbols: SymbolTable) throws(MPILoadError) -> String {
        typealias GetVersion = @convention(c) (UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32
        let function = try symbols.function("MPI_Get_library_version", as: GetVersion.self)
        var buffer = [CChar](repeating: 0, count: 8192)  // MPI_MAX_LIBRARY_VERSION_STRING is at most 8192
        var length: Int32 = 0
        _ = function(&buffer, &length)
        let text = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return text.split(whereSeparator: \.isNewline).first.map(String.init)?
            .trimmingCharacters(in: .whitespaces) ?? "unknown version"
    }

    /// dlerror repeats the path; keep only the reason.
    static func shorten(_ reason: String, path: String) -> String {
        let prefix = "\(path): "
        return reason.hasPrefix(prefix) ? String(reason.dropFirst(prefix.count)) : reason
    }
}

/// Symbols of one opened library, looked up by name.
struct SymbolTable {
    let handle: UnsafeMutableRawPointer
    let path: String

    func address(_ name: String) -> UnsafeMutableRawPointer? { dlsym(handle, name) }

    func function<F>(_ name: String, as type: F.Type) throws(MPILoadError) -> F {
        guard let pointer = dlsym(handle, name) else { throw .missingSymbol(path: path, symbol: name) }
        return unsafeBitCast(pointer, to: type)
    }

    func object(_ name: String) throws(MPILoadError) -> UnsafeMutableRawPointer {
        guard let pointer = dlsym(handle, name) else { throw .missingSymbol(path: path, symbol: name) }
        return pointer
    }
}
