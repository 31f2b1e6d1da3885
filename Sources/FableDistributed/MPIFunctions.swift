/// The element types Fable reduces.
public enum MPIDatatype: Sendable {
    case float, double
    /// Bytes per element.
    public var size: Int { self == .float ? 4 : 8 }
}

/// The reductions Fable uses.
public enum MPIReduction: Sendable {
    case sum, max
}

/// The MPI calls Fable makes, bound to one library's C signatures and handle values.
/// Always on `MPI_COMM_WORLD`. A nil send buffer means `MPI_IN_PLACE`; a request is an
/// 8-byte slot that holds the library's `MPI_Request` (a pointer in Open MPI, an int in
/// MPICH). Every function returns MPI's error code (0 is `MPI_SUCCESS`).
struct MPIFunctions: @unchecked Sendable {
    typealias Send = UnsafeRawPointer?
    typealias Receive = UnsafeMutableRawPointer

    var initialized: () -> Bool
    var finalized: () -> Bool
    var initThread: (_ required: Int32) -> (code: Int32, provided: Int32)
    var finalize: () -> Int32
    var rank: () -> (code: Int32, value: Int32)
    var size: () -> (code: Int32, value: Int32)
    /// Makes MPI return error codes on the world communicator instead of aborting, so
    /// Fable can name the rank and the cause before it aborts the job itself.
    var setErrorsReturn: () -> Int32
    var barrier: () -> Int32
    var allreduce: (_ send: Send, _ receive: Receive, _ count: Int32, MPIDatatype, MPIReduction) -> Int32
    var iallreduce: (_ send: Send, _ receive: Receive, _ count: Int32, MPIDatatype, MPIReduction,
                     _ request: UnsafeMutableRawPointer) -> Int32
    var reduceScatterBlock: (_ send: Send, _ receive: Receive, _ receiveCount: Int32, MPIDatatype, MPIReduction) -> Int32
    var allgather: (_ send: Send, _ sendCount: Int32, _ receive: Receive, _ receiveCount: Int32, MPIDatatype) -> Int32
    /// `MPI_Reduce_scatter` in place: the sum's block r (counts[r] elements) lands at the
    /// start of rank r's buffer.
    var reduceScatterInPlace: (_ buffer: Receive, _ counts: UnsafePointer<Int32>, MPIDatatype, MPIReduction) -> Int32
    /// `MPI_Allgatherv` in place: rank r's counts[r] elements at displacements[r].
    var allgathervInPlace: (_ buffer: Receive, _ counts: UnsafePointer<Int32>, _ displacements: UnsafePointer<Int32>,
                            MPIDatatype) -> Int32
    var broadcast: (_ buffer: Receive, _ count: Int32, MPIDatatype, _ root: Int32) -> Int32
    var wait: (_ request: UnsafeMutableRawPointer) -> Int32
    var test: (_ request: UnsafeMutableRawPointer) -> (code: Int32, done: Bool)
    var abort: (_ code: Int32) -> Int32
    var errorString: (_ code: Int32) -> String

    /// MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (both families number
    /// the levels 0 ... 3 the same way).
    static let threadSerialized: Int32 = 2
}

// MARK: - Open MPI: handles are pointers to exported objects

extension MPIFunctions {
    static func openMPI(_ s: SymbolTable) throws(MPILoadError) -> MPIFunctions {
        typealias H = UnsafeMutableRawPointer?
        typealias P = UnsafeMutableRawPointer?
        let world = try s.object("ompi_mpi_comm_world")
        let types = (float: try s.object("ompi_mpi_float"), double: try s.object("ompi_mpi_double"))
        let ops = (sum: try s.object("ompi_mpi_op_sum"), max: try s.object("ompi_mpi_op_max"))
        let errorsReturn = try s.object("ompi_mpi_errors_return")
        let inPlace = UnsafeRawPointer(bitPattern: 1)  // MPI_IN_PLACE is (void *) 1
        let statusIgnore: P = nil  // MPI_STATUS_IGNORE is NULL
        func type(_ t: MPIDatatype) -> H { t == .float ? types.float : types.double }
        func op(_ o: MPIReduction) -> H { o == .sum ? ops.sum : ops.max }

        let flagQuery = try s.function("MPI_Initialized", as: (@convention(c) (UnsafeMutablePointer<Int32>?) -> Int32).self)
        let finalizedQuery = try s.function("MPI_Finalized", as: (@convention(c) (UnsafeMutablePointer<Int32>?) -> Int32).self)
        let initThread = try s.function("MPI_Init_thread", as: (@convention(c) (P, P, Int32, UnsafeMutablePointer<Int32>?) -> Int32).self)
        let finalize = try s.function("MPI_Finalize", as: (@convention(c) () -> Int32).self)
        let commQuery = (@convention(c) (H, UnsafeMutablePointer<Int32>?) -> Int32).self
        let rank = try s.function("MPI_Comm_rank", as: commQuery)
        let size = try s.function("MPI_Comm_size", as: commQuery)
        let setHandler = try s.function("MPI_Comm_set_errhandler", as: (@convention(c) (H, H) -> Int32).self)
        let barrier = try s.function("MPI_Barrier", as: (@convention(c) (H) -> Int32).self)
        let allreduce = try s.function("MPI_Allreduce", as: (@convention(c) (Send, Receive, Int32, H, H, H) -> Int32).self)
        let iallreduce = try s.function("MPI_Iallreduce", as: (@convention(c) (Send, Receive, Int32, H, H, H, P) -> Int32).self)
        let reduceScatter = try s.function("MPI_Reduce_scatter_block", as: (@convention(c) (Send, Receive, Int32, H, H, H) -> Int32).self)
        let allgather = try s.function("MPI_Allgather", as: (@convention(c) (Send, Int32, H, Receive, Int32, H, H) -> Int32).self)
        let reduceScatterV = try s.function("MPI_Reduce_scatter", as: (@convention(c) (Send, Receive, UnsafePointer<Int32>?, H, H, H) -> Int32).self)
        let allgatherv = try s.function("MPI_Allgatherv", as: (@convention(c) (Send, Int32, H, Receive, UnsafePointer<Int32>?, UnsafePointer<Int32>?, H, H) -> Int32).self)
        let broadcast = try s.function("MPI_Bcast", as: (@convention(c) (Receive, Int32, H, Int32, H) -> Int32).self)
        let wait = try s.function("MPI_Wait", as: (@convention(c) (P, P) -> Int32).self)
        let test = try s.function("MPI_Test", as: (@convention(c) (P, UnsafeMutablePointer<Int32>?, P) -> Int32).self)
        let abort = try s.function("MPI_Abort", as: (@convention(c) (H, Int32) -> Int32).self)
        let errorString = try s.function("MPI_Error_string", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32).self)

        return MPIFunctions(
            initialized: { var flag: Int32 = 0; _ = flagQuery(&flag); return flag != 0 },
            finalized: { var flag: Int32 = 0; _ = finalizedQuery(&flag); return flag != 0 },
            initThread: { required in var provided: Int32 = 0; return (initThread(nil, nil, required, &provided), provided) },
            finalize: { finalize() },
            rank: { var value: Int32 = 0; return (rank(world, &value), value) },
            size: { var value: Int32 = 0; return (size(world, &value), value) },
            setErrorsReturn: { setHandler(world, errorsReturn) },
            barrier: { barrier(world) },
            allreduce: { send, receive, count, t, o in allreduce(send ?? inPlace, receive, count, type(t), op(o), world) },
            iallreduce: { send, receive, count, t, o, request in
                iallreduce(send ?? inPlace, receive, count, type(t), op(o), world, request)
            },
            reduceScatterBlock: { send, receive, count, t, o in reduceScatter(send ?? inPlace, receive, count, type(t), op(o), world) },
            allgather: { send, sendCount, receive, receiveCount, t in
                allgather(send ?? inPlace, sendCount, type(t), receive, receiveCount, type(t), world)
            },
            reduceScatterInPlace: { buffer, counts, t, o in reduceScatterV(inPlace, buffer, counts, type(t), op(o), world) },
            allgathervInPlace: { buffer, counts, displacements, t in
                allgatherv(inPlace, 0, type(t), buffer, counts, displacements, type(t), world)
            },
            broadcast: { buffer, count, t, root in broadcast(buffer, count, type(t), root, world) },
            wait: { request in wait(request, statusIgnore) },
            test: { request in var flag: Int32 = 0; return (test(request, &flag, statusIgnore), flag != 0) },
            abort: { code in abort(world, code) },
            errorString: { code in describe(code, errorString) })
    }
}

// MARK: - MPICH family: handles are 32-bit integers with fixed values

extension MPIFunctions {
    static func mpich(_ s: SymbolTable) throws(MPILoadError) -> MPIFunctions {
        typealias H = Int32
        typealias P = UnsafeMutableRawPointer?
        // Values from MPICH's mpi.h, shared by Intel MPI, MVAPICH and Cray MPICH (the MPICH ABI).
        let world: H = 0x4400_0000
        let floatType = H(bitPattern: 0x4C00_040A), doubleType = H(bitPattern: 0x4C00_080B)
        let sumOp = H(bitPattern: 0x5800_0003), maxOp = H(bitPattern: 0x5800_0001)
        let errorsReturn = H(bitPattern: 0x5400_0001)
        let inPlace = UnsafeRawPointer(bitPattern: -1)  // MPI_IN_PLACE is (void *) -1
        let statusIgnore = UnsafeMutableRawPointer(bitPattern: 1)  // MPI_STATUS_IGNORE is (MPI_Status *) 1
        func type(_ t: MPIDatatype) -> H { t == .float ? floatType : doubleType }
        func op(_ o: MPIReduction) -> H { o == .sum ? sumOp : maxOp }

        let flagQuery = try s.function("MPI_Initialized", as: (@convention(c) (UnsafeMutablePointer<Int32>?) -> Int32).self)
        let finalizedQuery = try s.function("MPI_Finalized", as: (@convention(c) (UnsafeMutablePointer<Int32>?) -> Int32).self)
        let initThread = try s.function("MPI_Init_thread", as: (@convention(c) (P, P, Int32, UnsafeMutablePointer<Int32>?) -> Int32).self)
        let finalize = try s.function("MPI_Finalize", as: (@convention(c) () -> Int32).self)
        let commQuery = (@convention(c) (H, UnsafeMutablePointer<Int32>?) -> Int32).self
        let rank = try s.function("MPI_Comm_rank", as: commQuery)
        let size = try s.function("MPI_Comm_size", as: commQuery)
        let setHandler = try s.function("MPI_Comm_set_errhandler", as: (@convention(c) (H, H) -> Int32).self)
        let barrier = try s.function("MPI_Barrier", as: (@convention(c) (H) -> Int32).self)
        let allreduce = try s.function("MPI_Allreduce", as: (@convention(c) (Send, Receive, Int32, H, H, H) -> Int32).self)
        let iallreduce = try s.function("MPI_Iallreduce", as: (@convention(c) (Send, Receive, Int32, H, H, H, P) -> Int32).self)
        let reduceScatter = try s.function("MPI_Reduce_scatter_block", as: (@convention(c) (Send, Receive, Int32, H, H, H) -> Int32).self)
        let allgather = try s.function("MPI_Allgather", as: (@convention(c) (Send, Int32, H, Receive, Int32, H, H) -> Int32).self)
        let reduceScatterV = try s.function("MPI_Reduce_scatter", as: (@convention(c) (Send, Receive, UnsafePointer<Int32>?, H, H, H) -> Int32).self)
        let allgatherv = try s.function("MPI_Allgatherv", as: (@convention(c) (Send, Int32, H, Receive, UnsafePointer<Int32>?, UnsafePointer<Int32>?, H, H) -> Int32).self)
        let broadcast = try s.function("MPI_Bcast", as: (@convention(c) (Receive, Int32, H, Int32, H) -> Int32).self)
        let wait = try s.function("MPI_Wait", as: (@convention(c) (P, P) -> Int32).self)
        let test = try s.function("MPI_Test", as: (@convention(c) (P, UnsafeMutablePointer<Int32>?, P) -> Int32).self)
        let abort = try s.function("MPI_Abort", as: (@convention(c) (H, Int32) -> Int32).self)
        let errorString = try s.function("MPI_Error_string", as: (@convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32).self)

        return MPIFunctions(
            initialized: { var flag: Int32 = 0; _ = flagQuery(&flag); return flag != 0 },
            finalized: { var flag: Int32 = 0; _ = finalizedQuery(&flag); return flag != 0 },
            initThread: { required in var provided: Int32 = 0; return (initThread(nil, nil, required, &provided), provided) },
            finalize: { finalize() },
            rank: { var value: Int32 = 0; return (rank(world, &value), value) },
            size: { var value: Int32 = 0; return (size(world, &value), value) },
            setErrorsReturn: { setHandler(world, errorsReturn) },
            barrier: { barrier(world) },
            allreduce: { send, receive, count, t, o in allreduce(send ?? inPlace, receive, count, type(t), op(o), world) },
            iallreduce: { send, receive, count, t, o, request in
                iallreduce(send ?? inPlace, receive, count, type(t), op(o), world, request)
            },
            reduceScatterBlock: { send, receive, count, t, o in reduceScatter(send ?? inPlace, receive, count, type(t), op(o), world) },
            allgather: { send, sendCount, receive, receiveCount, t in
                allgather(send ?? inPlace, sendCount, type(t), receive, receiveCount, type(t), world)
            },
            reduceScatterInPlace: { buffer, counts, t, o in reduceScatterV(inPlace, buffer, counts, type(t), op(o), world) },
            allgathervInPlace: { buffer, counts, displacements, t in
                allgatherv(inPlace, 0, type(t), buffer, counts, displacements, type(t), world)
            },
            broadcast: { buffer, count, t, root in broadcast(buffer, count, type(t), root, world) },
            wait: { request in wait(request, statusIgnore) },
            test: { request in var flag: Int32 = 0; return (test(request, &flag, statusIgnore), flag != 0) },
            abort: { code in abort(world, code) },
            errorString: { code in describe(code, errorString) })
    }
}

/// `MPI_Error_string` for `code`, or the number when the library cannot say.
private func describe(
    _ code: Int32,
    _ function: @convention(c) (Int32, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> Int32
) -> String {
    var buffer = [CChar](repeating: 0, count: 1024)  // MPI_MAX_ERROR_STRING is at most 1024
    var length: Int32 = 0
    guard function(code, &buffer, &length) == 0 else { return "MPI error \(code)" }
    return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } + " (MPI error \(code))"
}
