import Foundation

/// The processes of one data-parallel job and the collective operations between them.
///
/// ``connect(environment:)`` looks for a launcher (``Launcher``); without one the process
/// is a job of one (``single``), no MPI library is loaded and every collective is the
/// identity, so a single process behaves exactly as before. Under `mpirun` or `srun` it
/// loads MPI (``MPILibrary``), initialises it and checks that MPI and the launcher agree.
///
/// Every collective is on all ranks of the job and must be called by every rank in the
/// same order. Reductions are float32 (or float64) sums, in place. MPI is called from one
/// thread at a time (MPI_THREAD_SERIALIZED; a lock enforces it). Failed calls throw
/// ``DistributedError/callFailed(rank:call:message:)``; the caller then ends the whole job
/// with ``abort(code:message:)``.
public final class Communicator: @unchecked Sendable {
    /// This process's rank, 0 ..< size.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// The launcher that started the job; nil for a single process.
    public let launcher: Launcher?
    /// The MPI library in use; nil for a single process.
    public let library: MPILibrary?
    private let lock = NSLock()
    private var finished = false
    private var waitSecondsTotal = 0.0

    /// A job of one process with no MPI.
    public static let single = Communicator(rank: 0, size: 1, launcher: nil, library: nil)

    init(rank: Int, size: Int, launcher: Launcher?, library: MPILibrary?) {
        self.rank = rank
        self.size = size
        self.launcher = launcher
        self.library = library
    }

    /// True for rank 0, the rank that writes files and prints.
    public var isRoot: Bool { rank == 0 }
    /// True when there is more than one process.
    public var isDistributed: Bool { size > 1 }

    /// Seconds this process has spent blocked in collectives and request waits.
    public var waitSeconds: Double {
        lock.lock()
        defer { lock.unlock() }
        return waitSecondsTotal
    }

    /// A one-line description: "rank 0 of 2 (Open MPI (mpirun), Open MPI v4.1.4)".
    public var summary: String {
        guard let launcher, let library else { return "single process" }
        let version = library.version.split(separator: ",").first.map(String.init) ?? library.version
        return "rank \(rank) of \(size) (\(launcher.kind.rawValue), \(version))"
    }

    // MARK: - Connecting

    /// The job this process belongs to, from its launcher's environment variables.
    ///
    /// Without a launcher, or with a launcher that started a single process, returns
    /// ``single`` and loads nothing. Otherwise loads MPI (`FABLE_MPI` names the library),
    /// calls `MPI_Init_thread` and checks rank and size against the launcher's.
    /// - Throws: ``DistributedError`` naming what is missing or disagrees.
    public static func connect(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DistributedError) -> Communicator {
        let launcher: Launcher?
        do { launcher = try Launcher.detect(in: environment) } catch { throw .environment(error) }
        guard let launcher, launcher.size > 1 else { return .single }
        let library: MPILibrary
        switch MPILibrary.load(environment: environment) {
        case .success(let loaded): library = loaded
        case .failure(let reason): throw .mpiUnavailable(launcher: launcher, reason: reason)
        }
        let f = library.functions
        if library.abi == .openMPI {
            // Open MPI busy-polls while waiting; when ranks share cores with each other or with
            // kernel threads, a waiting rank then steals the time the rank it waits for needs
            // (a 10 MB all-reduce took 1.8 s instead of 33 ms at 2 ranks on 2 busy cores).
            // Yielding costs microseconds on dedicated cores. `--mca mpi_yield_when_idle 0` or
            // the variable set beforehand overrides this.
            setenv("OMPI_MCA_mpi_yield_when_idle", "1", 0)
        }
        if !f.initialized() {
            let (code, provided) = f.initThread(MPIFunctions.threadSerialized)
            guard code == 0 else {
                throw .callFailed(rank: launcher.rank, call: "MPI_Init_thread", message: f.errorString(code))
            }
            guard provided >= MPIFunctions.threadSerialized else { throw .threadSupport(provided: Int(provided)) }
        }
        _ = f.setErrorsReturn()
        let (rankCode, rank) = f.rank()
        let (sizeCode, size) = f.size()
        guard rankCode == 0, sizeCode == 0 else {
            throw .callFailed(rank: launcher.rank, call: "MPI_Comm_rank", message: f.errorString(rankCode != 0 ? rankCode : sizeCode))
        }
        guard Int(rank) == launcher.rank, Int(size) == launcher.size else {
            throw .jobMismatch(launcher: launcher, mpiRank: Int(rank), mpiSize: Int(size))
        }
        return Communicator(rank: Int(rank), size: Int(size), launcher: launcher, library: library)
    }

    /// Ends MPI on this rank (`MPI_Finalize`) after a barrier; further collectives are
    /// programming errors. Does nothing for a single process or when already done.
    public func finalize() {
        lock.lock()
        defer { lock.unlock() }
        guard let f = library?.functions, !finished else { return }
        finished = true
        if !f.finalized() { _ = f.finalize() }
    }

    /// Ends every rank of the job at once (`MPI_Abort`) after printing `message` to standard
    /// error with this rank's number; the launcher then stops the others and exits with
    /// `code`. A single process just exits.
    public func abort(code: Int32 = 1, message: String) -> Never {
        let prefix = isDistributed ? "rank \(rank) of \(size): " : ""
        FileHandle.standardError.write(Data("\(prefix)\(message)\n".utf8))
        if let f = library?.functions, !f.finalized() {
            _ = f.abort(code)
        }
        exit(code)
    }

    // MARK: - Calling MPI

    /// Runs one MPI call under the lock, timing it and turning an error code into a throw.
    @discardableResult
    func call(_ name: String, timed: Bool = true, _ body: (MPIFunctions) -> Int32) throws(DistributedError) -> Int32 {
        guard let f = library?.functions else { return 0 }
        lock.lock()
        defer { lock.unlock() }
        precondition(!finished, "\(name) after MPI_Finalize")
        let start = timed ? Communicator.now() : 0
        let code = body(f)
        if timed { waitSecondsTotal += Communicator.now() - start }
        guard code == 0 else { throw .callFailed(rank: rank, call: name, message: f.errorString(code)) }
        return code
    }

    /// Seconds on a monotonic clock.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The largest element count one MPI call takes (its `int count`); longer buffers go in pieces.
    static let maxCount = 1 << 30
}
