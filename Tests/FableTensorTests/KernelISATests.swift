import Testing
@testable import FableTensor

// Every instruction set of Fable's own GEMM kernel that this CPU runs, each against the
// Double-accumulating reference; the other sets are reported as skipped by their absence.

/// (instruction set, case) pairs for every supported set.
let ownKernelCases: [(KernelISA, GEMMCase)] = KernelISA.supported.flatMap { isa in
    GEMMCase.all.map { (isa, $0) }
}

@Suite("Own GEMM kernel per instruction set")
struct OwnKernelISATests {
    @Test("matches the reference on odd shapes, all transposes, alpha/beta and padded strides",
          arguments: ownKernelCases)
    func matchesReference(_ isa: KernelISA, _ test: GEMMCase) {
        let result = test.check(SIMDGEMM(isa: isa), threads: 2)
        #expect(result.error < 1e-5, "\(isa.rawValue) \(test)")
        #expect(result.paddingIntact, "\(isa.rawValue) wrote outside the (m, n) block: \(test)")
    }

    @Test("shapes past every block size, around each tile, with beta",
          arguments: KernelISA.supported)
    func largeShapes(_ isa: KernelISA) {
        // (12, 32, 256), (64, 32, 1000) and (75, 64, 200) without transposes read B in place
        // (AVX-512), the others pack it.
        for (m, n, k) in [(97, 65, 513), (25, 2049, 33), (12, 32, 256), (13, 33, 257), (64, 32, 1000), (75, 64, 200)] {
            for (ta, tb) in [(false, false), (true, true), (false, true)] {
                let test = GEMMCase(m: m, n: n, k: k, transposeA: ta, transposeB: tb, alpha: 0.75, beta: 0.5, padding: 1)
                let result = test.check(SIMDGEMM(isa: isa), threads: 2)
                #expect(result.error < 1e-5, "\(isa.rawValue) \(test)")
                #expect(result.paddingIntact, "\(isa.rawValue) \(test)")
            }
        }
    }

    @Test("B read in place gives the same bits as B packed", arguments: [(64, 32, 1000), (75, 64, 200), (7, 96, 33)])
    func inPlaceMatchesPacked(_ m: Int, _ n: Int, _ k: Int) {
        // A row-major B with a padded row stride is read in place by the AVX-512 kernel; its
        // transpose, given as transposeB, is packed. Same multiply-adds, same order.
        let ldb = n + 5
        var rng = RandomGenerator(seed: 3)
        let a = (0..<(m * k)).map { _ in Float(rng.nextNormal()) }
        let b = (0..<(k * ldb)).map { _ in Float(rng.nextNormal()) }
        var bT = [Float](repeating: 0, count: n * k)
        for p in 0..<k { for j in 0..<n { bT[j * k + p] = b[p * ldb + j] } }
        for isa in KernelISA.supported {
            var inPlace = [Float](repeating: 0.5, count: m * n), packed = inPlace
            SIMDGEMM(isa: isa).sgemm(
                transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 0.75,
                a: a, lda: k, b: b, ldb: ldb, beta: 0.5, c: &inPlace, ldc: n, threads: 2)
            SIMDGEMM(isa: isa).sgemm(
                transposeA: false, transposeB: true, m: m, n: n, k: k, alpha: 0.75,
                a: a, lda: k, b: bT, ldb: k, beta: 0.5, c: &packed, ldc: n, threads: 2)
            #expect(bitwiseMismatch(inPlace, packed) == nil, "\(isa.rawValue) \(m)x\(n)x\(k)")
        }
    }

    @Test("bitwise identical results for 1, 2 and 3 threads", arguments: KernelISA.supported)
    func deterministicAcrossThreads(_ isa: KernelISA) {
        let results = productsByThreadCount(SIMDGEMM(isa: isa), 150, 70, 300, alpha: 1.5, beta: 0.25, seed: 11)
        #expect(bitwiseMismatch(results[0], results[1]) == nil, "\(isa.rawValue), 2 threads")
        #expect(bitwiseMismatch(results[0], results[2]) == nil, "\(isa.rawValue), 3 threads")
    }

    @Test("threads sharing packed B blocks give the bits of one thread",
          arguments: KernelISA.supported)
    func sharedBlocksMatchOneThread(_ isa: KernelISA) {
        // Tall products, so threads share each packed B block and claim row blocks: several
        // column blocks and depth slices (n > 2,048, k > 512 for every layout), ragged edges,
        // and a C with few row blocks whose units also split the B block's slivers.
        for (m, n, k) in [(192, 2_100, 20), (301, 700, 40), (40, 90, 1_100)] {
            for (ta, tb) in [(false, false), (true, true), (false, true), (true, false)] {
                let results = productsByThreadCount(
                    SIMDGEMM(isa: isa), m, n, k, transposeA: ta, transposeB: tb, alpha: 0.75, beta: -1.5,
                    seed: UInt64(m + n + k))
                #expect(bitwiseMismatch(results[0], results[1]) == nil, "\(isa.rawValue) \(m)x\(n)x\(k) tA=\(ta) tB=\(tb), 2 threads")
                #expect(bitwiseMismatch(results[0], results[2]) == nil, "\(isa.rawValue) \(m)x\(n)x\(k) tA=\(ta) tB=\(tb), 3 threads")
            }
        }
    }

    @Test("names say which kernel runs")
    func names() {
        #expect(SIMDGEMM(isa: .swift).name == "swift-simd")
        for isa in KernelISA.supported where isa != .swift {
            #expect(SIMDGEMM(isa: isa).name == "fable-\(isa.rawValue)")
        }
    }
}

@Suite("Instruction-set and backend selection")
struct KernelISASelectionTests {
    @Test("FABLE_ISA picks a supported set, caps to one below when the CPU lacks it, warns on nonsense")
    func isaOverride() {
        #expect(KernelISA.select(environment: [:]).isa == KernelISA.widest)
        #expect(KernelISA.select(environment: ["FABLE_ISA": "swift"]).isa == .swift)
        let bogus = KernelISA.select(environment: ["FABLE_ISA": "sse9"])
        #expect(bogus.isa == KernelISA.widest && bogus.isWarning)
        for isa in KernelISA.allCases {
            let chosen = KernelISA.select(environment: ["FABLE_ISA": isa.rawValue])
            #expect(chosen.isa.isSupported)
            #expect(chosen.isa <= isa)
            #expect(chosen.isWarning == !isa.isSupported)
        }
    }

    @Test("FABLE_GEMM=fable and swift choose the own kernels; FABLE_ISA reaches the kernel")
    func ownChoices() throws {
        let fable = try #require(GEMM.select(environment: ["FABLE_GEMM": "fable"]).backend as? SIMDGEMM)
        #expect(fable.isa == KernelISA.widest)
        let swift = try #require(GEMM.select(environment: ["FABLE_GEMM": "swift"]).backend as? SIMDGEMM)
        #expect(swift.isa == .swift)
        let capped = try #require(
            GEMM.select(environment: ["FABLE_GEMM": "fable", "FABLE_ISA": "swift"]).backend as? SIMDGEMM)
        #expect(capped.isa == .swift)
    }

    @Test("auto prefers the own kernel over OpenBLAS only when OPENBLAS_CORETYPE pins it narrower",
          .enabled(if: loadedBLAS != nil, "no BLAS library loads here"))
    func automaticAgainstBLAS() throws {
        let library = try #require(loadedBLAS)
        for isa in KernelISA.supported {
            for pin in ["", "Haswell", "SkylakeX", "Sandybridge"] {
                var environment = ["FABLE_ISA": isa.rawValue, "FABLE_BLAS": library.resolvedPath]
                if !pin.isEmpty { environment["OPENBLAS_CORETYPE"] = pin }
                let selection = GEMM.select(environment: environment)
                let own = GEMM.ownKernelIsFaster(isa: isa, library: library, environment: environment)
                if own {
                    #expect((selection.backend as? SIMDGEMM)?.isa == isa, "\(selection.reason)")
                } else {
                    #expect(selection.backend is BLASBackend, "\(selection.reason)")
                }
                #expect(GEMM.select(environment: environment.merging(["FABLE_GEMM": "blas"]) { $1 }).backend is BLASBackend)
            }
        }
        if library.vendor == .openBLAS {
            let pinned = ["OPENBLAS_CORETYPE": "Haswell"]
            #expect(GEMM.ownKernelIsFaster(isa: .avx512, library: library, environment: pinned))
            #expect(!GEMM.ownKernelIsFaster(isa: .avx2, library: library, environment: pinned))
            #expect(!GEMM.ownKernelIsFaster(isa: .avx512, library: library, environment: [:]))
            #expect(!GEMM.ownKernelIsFaster(isa: .swift, library: library, environment: ["OPENBLAS_CORETYPE": "Core2"]))
        }
    }
}
