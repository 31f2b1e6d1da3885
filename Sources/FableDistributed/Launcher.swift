import Foundation

/// The process launcher that started this process as one rank of a parallel job, read from
/// the environment variables each launcher sets for its processes.
///
/// | launcher | rank | size | local rank |
/// | --- | --- | --- | --- |
/// | Open MPI `mpirun` | `OMPI_COMM_WORLD_RANK` | `OMPI_COMM_WORLD_SIZE` | `OMPI_COMM_WORLD_LOCAL_RANK` |
/// | PMIx (Open MPI 5, `srun --mpi=pmix`) | `PMIX_RANK` | `OMPI_COMM_WORLD_SIZE` or `SLURM_NTASKS` | `OMPI_COMM_WORLD_LOCAL_RANK` or `SLURM_LOCALID` |
/// | MPICH / Intel MPI Hydra, PMI-1/2 | `PMI_RANK` | `PMI_SIZE` | `MPI_LOCALRANKID` |
/// | Slurm `srun` | `SLURM_PROCID` | `SLURM_NTASKS` | `SLURM_LOCALID` |
///
/// `SLURM_PROCID` is read only inside a job step (`SLURM_STEP_ID` set): in a batch script
/// before `srun`, `SLURM_PROCID` is 0 for the one shell and does not mean a parallel job.
public struct Launcher: Equatable, Sendable, CustomStringConvertible {
    /// Which launcher's variables were found.
    public enum Kind: String, Sendable {
        case openMPI = "Open MPI (mpirun)"
        case pmix = "PMIx"
        case pmi = "PMI (MPICH/Hydra)"
        case slurm = "Slurm (srun)"
    }

    public let kind: Kind
    /// This process's rank, 0 ..< size.
    public let rank: Int
    /// The number of processes in the job.
    public let size: Int
    /// This process's rank among the processes on its machine, when the launcher says.
    public let localRank: Int?

    public init(kind: Kind, rank: Int, size: Int, localRank: Int?) {
        self.kind = kind
        self.rank = rank
        self.size = size
        self.localRank = localRank
    }

    public var description: String { "\(kind.rawValue): rank \(rank) of \(size)" }

    /// Why the launcher's variables could not be used.
    public struct EnvironmentError: Error, Equatable, CustomStringConvertible {
        public let variable: String
        public let value: String
        public let expected: String
        public var description: String { "environment variable \(variable)=\(value): expected \(expected)" }

        public init(variable: String, value: String, expected: String) {
            self.variable = variable
            self.value = value
            self.expected = expected
        }
    }

    /// The launcher described by `environment`, or nil when no launcher started this
    /// process (a plain single-process run).
    /// - Throws: ``EnvironmentError`` when a launcher's variable is present but malformed
    ///   (not a number, or a rank outside 0 ..< size).
    public static func detect(in environment: [String: String]) throws(EnvironmentError) -> Launcher? {
        func integer(_ name: String) throws(EnvironmentError) -> Int? {
            guard let text = environment[name] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
                throw EnvironmentError(variable: name, value: text, expected: "a whole number >= 0")
            }
            return value
        }
        func first(_ names: [String]) throws(EnvironmentError) -> Int? {
            for name in names { if let value = try integer(name) { return value } }
            return nil
        }
        var found: (Kind, String, Int, Int?, Int?)?  // kind, rank variable, rank, size, local
        if let rank = try integer("OMPI_COMM_WORLD_RANK") {
            found = (.openMPI, "OMPI_COMM_WORLD_RANK", rank, try integer("OMPI_COMM_WORLD_SIZE"),
                     try integer("OMPI_COMM_WORLD_LOCAL_RANK"))
        } else if let rank = try integer("PMIX_RANK") {
            found = (.pmix, "PMIX_RANK", rank, try first(["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"]),
                     try first(["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"]))
        } else if let rank = try integer("PMI_RANK") {
            found = (.pmi, "PMI_RANK", rank, try integer("PMI_SIZE"), try first(["MPI_LOCALRANKID", "SLURM_LOCALID"]))
        } else if environment["SLURM_STEP_ID"] != nil, let rank = try integer("SLURM_PROCID") {
            found = (.slurm, "SLURM_PROCID", rank, try first(["SLURM_NTASKS", "SLURM_NPROCS"]), try integer("SLURM_LOCALID"))
        }
        guard let (kind, rankVariable, rank, size, local) = found else { return nil }
        guard let size, size >= 1 else {
            throw EnvironmentError(variable: rankVariable, value: String(rank),
                                   expected: "a job size beside it (\(kind.rawValue) sets no size variable)")
        }
        guard rank < size else {
            throw EnvironmentError(variable: rankVariable, value: String(rank), expected: "a rank below the job's size \(size)")
        }
        return Launcher(kind: kind, rank: rank, size: size, localRank: local)
    }
}
