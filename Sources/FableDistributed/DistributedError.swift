/// Why a distributed job could not start or go on.
public enum DistributedError: Error, CustomStringConvertible, Equatable {
    /// A launcher's environment variable is malformed.
    case environment(Launcher.EnvironmentError)
    /// A launcher started this process as one of several ranks, but no MPI library loaded.
    case mpiUnavailable(launcher: Launcher, reason: MPILoadError)
    /// MPI started, but its view of the job disagrees with the launcher's variables.
    case jobMismatch(launcher: Launcher, mpiRank: Int, mpiSize: Int)
    /// An MPI call failed on `rank`.
    case callFailed(rank: Int, call: String, message: String)
    /// The MPI library cannot give the thread support Fable needs.
    case threadSupport(provided: Int)
    /// A buffer does not fit the collective (sizes that must divide, counts above 2^31).
    case invalidBuffer(call: String, reason: String)

    public var description: String {
        switch self {
        case .environment(let error):
            return "cannot read the launcher's settings: \(error)"
        case let .mpiUnavailable(launcher, reason):
            return "this process was started by \(launcher.kind.rawValue) as rank \(launcher.rank) of \(launcher.size), "
                + "but MPI is unavailable: \(reason)"
        case let .jobMismatch(launcher, rank, size):
            return "\(launcher.kind.rawValue) says rank \(launcher.rank) of \(launcher.size), but MPI says rank \(rank) of "
                + "\(size); the MPI library (FABLE_MPI) must be the one that belongs to the launcher"
        case let .callFailed(rank, call, message):
            return "rank \(rank): \(call) failed: \(message)"
        case .threadSupport(let provided):
            return "the MPI library provides thread level \(provided); Fable needs MPI_THREAD_SERIALIZED (2)"
        case let .invalidBuffer(call, reason):
            return "\(call): \(reason)"
        }
    }
}
