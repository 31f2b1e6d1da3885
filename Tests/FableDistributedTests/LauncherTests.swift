import FableDistributed
import Testing

@Suite("Launcher detection")
struct LauncherTests {
    @Test("no launcher variables: a plain single process")
    func none() throws {
        #expect(try Launcher.detect(in: [:]) == nil)
        #expect(try Launcher.detect(in: ["PATH": "/usr/bin", "HOME": "/root"]) == nil)
        // A batch script before srun: SLURM_PROCID without a job step is not a parallel job.
        #expect(try Launcher.detect(in: ["SLURM_PROCID": "0", "SLURM_NTASKS": "4", "SLURM_JOB_ID": "7"]) == nil)
    }

    @Test("Open MPI's mpirun")
    func openMPI() throws {
        let env = ["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
                   "PMIX_RANK": "1"]
        #expect(try Launcher.detect(in: env) == Launcher(kind: .openMPI, rank: 1, size: 4, localRank: 1))
    }

    @Test("PMIx, MPICH's Hydra (PMI) and Slurm's srun")
    func others() throws {
        #expect(try Launcher.detect(in: ["PMIX_RANK": "2", "SLURM_NTASKS": "3", "SLURM_LOCALID": "0"])
            == Launcher(kind: .pmix, rank: 2, size: 3, localRank: 0))
        #expect(try Launcher.detect(in: ["PMI_RANK": "0", "PMI_SIZE": "2", "MPI_LOCALRANKID": "0"])
            == Launcher(kind: .pmi, rank: 0, size: 2, localRank: 0))
        #expect(try Launcher.detect(in: ["SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0"])
            == Launcher(kind: .slurm, rank: 5, size: 8, localRank: 1))
    }

    @Test("malformed variables name the variable")
    func malformed() {
        #expect(throws: Launcher.EnvironmentError(variable: "PMI_RANK", value: "x", expected: "a whole number >= 0")) {
            try Launcher.detect(in: ["PMI_RANK": "x", "PMI_SIZE": "2"])
        }
        #expect(throws: Launcher.EnvironmentError.self) { try Launcher.detect(in: ["PMI_RANK": "2", "PMI_SIZE": "2"]) }
        #expect(throws: Launcher.EnvironmentError.self) { try Launcher.detect(in: ["PMI_RANK": "0"]) }
    }
}

@Suite("MPI loading")
struct MPILoadingTests {
    @Test("a single process without a launcher loads no MPI")
    func single() throws {
        let communicator = try Communicator.connect(environment: ["FABLE_MPI": "/nonexistent/libmpi.so"])
        #expect(communicator.size == 1 && communicator.rank == 0 && communicator.library == nil)
        #expect(communicator.summary == "single process")
    }

    @Test("FABLE_MPI naming a missing file: the error names the variable and the path")
    func missingOverride() {
        let result = MPILibrary.load(environment: ["FABLE_MPI": "/nonexistent/libmpi.so"])
        guard case .failure(.overrideFailed(let path, let reason)) = result else {
            Issue.record("expected overrideFailed, got \(result)")
            return
        }
        #expect(path == "/nonexistent/libmpi.so")
        #expect(!reason.isEmpty)
    }

    @Test("under MPICH's Hydra the MPICH library names are tried first; under Open MPI the default order")
    func candidateOrder() {
        let defaults = MPILibrary.candidatePaths
        #expect(MPILibrary.candidatePaths(for: [:]) == defaults)
        #expect(MPILibrary.candidatePaths(for: ["OMPI_COMM_WORLD_RANK": "0", "PMI_RANK": "0"]) == defaults)
        let hydra = MPILibrary.candidatePaths(for: ["PMI_RANK": "1", "PMI_SIZE": "2"])
        #expect(Set(hydra) == Set(defaults) && hydra.count == defaults.count)
        #if os(Linux)
        #expect(Array(hydra.prefix(2)) == ["libmpi.so.12", "libmpich.so.12"])
        #endif
    }

    @Test("a library that is not MPI: the missing symbol is named")
    func notMPI() {
        #if os(Linux)
        guard case .failure(let error) = MPILibrary.load(path: "libm.so.6") else {
            Issue.record("libm loaded as an MPI library")
            return
        }
        #expect(error == .missingSymbol(path: "libm.so.6", symbol: "MPI_Get_library_version"))
        #endif
    }

    @Test("ranks requested without MPI: the error says which launcher, rank and library")
    func ranksWithoutMPI() {
        let env = ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "2", "FABLE_MPI": "/nonexistent/libmpi.so"]
        do {
            _ = try Communicator.connect(environment: env)
            Issue.record("connect succeeded without an MPI library")
        } catch {
            let text = error.description
            #expect(text.contains("Open MPI (mpirun) as rank 0 of 2"))
            #expect(text.contains("FABLE_MPI=/nonexistent/libmpi.so"))
        }
    }

    @Test("a launcher that started one process needs no MPI")
    func launcherOfOne() throws {
        let env = ["OMPI_COMM_WORLD_RANK": "0", "OMPI_COMM_WORLD_SIZE": "1", "FABLE_MPI": "/nonexistent/libmpi.so"]
        #expect(try Communicator.connect(environment: env).library == nil)
    }

    @Test("the single-process collectives are the identity")
    func singleCollectives() throws {
        let c = Communicator.single
        var values: [Float] = [1, 2, 3, 4]
        try values.withUnsafeMutableBufferPointer { try c.allreduce($0) }
        #expect(values == [1, 2, 3, 4])
        #expect(try c.allreduce([2.5, 3]) == [2.5, 3])
        var shard: [Float] = [0, 0, 0, 0]
        try values.withUnsafeBufferPointer { source in
            try shard.withUnsafeMutableBufferPointer { try c.reduceScatter(source, into: $0) }
        }
        #expect(shard == values)
        let request = try values.withUnsafeMutableBufferPointer { try c.startAllreduce($0) }
        #expect(try request.test())
        #expect(throws: DistributedError.self) {
            try values.withUnsafeBufferPointer { source in
                try shard.withUnsafeMutableBufferPointer { try c.reduceScatter(source, into: UnsafeMutableBufferPointer(rebasing: $0[0..<3])) }
            }
        }
    }
}
