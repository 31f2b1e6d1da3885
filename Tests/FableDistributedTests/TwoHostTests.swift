import FableTestSupport
import Foundation
import Testing

/// Two simulated hosts: network namespaces joined by a veth pair (10.77.0.1 and
/// 10.77.0.2, addresses that exist only inside them), each with its own host name, and
/// Open MPI started across them with an rsh agent that enters the other namespace instead
/// of ssh. Ranks then talk over TCP on the veth only (`btl tcp,self`), as on two machines.
///
/// Opt-in, needs root and iproute2: `FABLE_MPI_NETNS_TESTS=1 swift test --filter TwoHost`.
/// README's "Distributed training" section gives the commands for real machines and Slurm.
@Suite("Two hosts over TCP (network namespaces)", .serialized,
       .enabled(if: TestData.optIn("FABLE_MPI_NETNS_TESTS") && MultiRank.unavailable == nil,
                "set FABLE_MPI_NETNS_TESTS=1 (root, iproute2) to run 2 ranks on two network namespaces"))
struct TwoHostTests {
    static func shell(_ script: String) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("collectives and a 10-step run across two namespaces match one process")
    func twoHosts() throws {
        let folder = try MultiRank.makeWorkspace()
        let id = String(ProcessInfo.processInfo.processIdentifier % 100_000)
        let (a, b) = ("fable-a\(id)", "fable-b\(id)")
        defer {
            _ = try? Self.shell("ip netns del \(a); ip netns del \(b)")
            try? FileManager.default.removeItem(at: folder)
        }
        let setup = try Self.shell("""
            set -e
            ip netns add \(a); ip netns add \(b)
            ip link add va\(id) type veth peer name vb\(id)
            ip link set va\(id) netns \(a); ip link set vb\(id) netns \(b)
            ip -n \(a) addr add 10.77.0.1/24 dev va\(id); ip -n \(b) addr add 10.77.0.2/24 dev vb\(id)
            ip -n \(a) link set va\(id) up; ip -n \(b) link set vb\(id) up
            ip -n \(a) link set lo up; ip -n \(b) link set lo up
            """)
        try #require(setup.status == 0, "namespace setup failed: \(setup.text)")
        // mpirun calls the agent as "agent HOST COMMAND..." to start its daemon on HOST.
        let agent = folder.appendingPathComponent("agent.sh")
        try """
            #!/bin/sh
            host=$1; shift
            case $host in 10.77.0.1) ns=\(a) ;; 10.77.0.2) ns=\(b) ;; *) echo "unknown host $host" >&2; exit 1 ;; esac
            exec ip netns exec $ns unshare --uts sh -c "hostname $ns; $*"
            """.write(to: agent, atomically: true, encoding: .utf8)
        _ = try Self.shell("chmod +x '\(agent.path)'")
        try "10.77.0.1 slots=1\n10.77.0.2 slots=1\n".write(to: folder.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
        let mpirun = "mpirun -np 2 --hostfile hosts --map-by node --bind-to none --mca plm_rsh_agent '\(agent.path)' "
            + "--mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 "
            + "-x OMPI_ALLOW_RUN_AS_ROOT -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM '\(MultiRank.fable!.path)'"
        func onHostA(_ arguments: [String]) throws -> (status: Int32, text: String) {
            let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
            return try Self.shell("cd '\(folder.path)' && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                + "timeout 300 ip netns exec \(a) unshare --uts sh -c \"hostname \(a); \(mpirun) \(quoted)\"")
        }
        let check = try onHostA(["bench", "allreduce", "--check"])
        #expect(check.status == 0 && check.text.contains("collectives ok"), "\(check.text)")
        let parallel = try onHostA(MultiRank.tinyRun(out: "two-hosts", batchSize: 4))
        #expect(parallel.status == 0, "\(parallel.text)")
        let single = try MultiRank.run(ranks: 0, MultiRank.tinyRun(out: "single", batchSize: 8), in: folder)
        #expect(single.status == 0, "\(single.text)")
        let a2 = try MultiRank.trainLosses(folder.appendingPathComponent("two-hosts"))
        let s1 = try MultiRank.trainLosses(folder.appendingPathComponent("single"))
        #expect(s1.count == 10)
        for step in 1...10 { #expect(abs((a2[step] ?? -1) - (s1[step] ?? .nan)) <= 1e-5, "step \(step)") }
    }
}
