import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a thread count cannot be used.
public enum ThreadCountError: Error, Equatable, Sendable, CustomStringConvertible, LocalizedError {
    /// `FABLE_THREADS` is not a whole number in range.
    case badEnvironment(value: String)
    /// A thread count option is out of range.
    case outOfRange(option: String, value: Int)
    /// Only `started` of `requested` worker threads could be created (a memory or
    /// process limit); `reason` is the system's.
    case cannotStart(requested: Int, started: Int, reason: String)

    public var description: String {
        switch self {
        case let .badEnvironment(value):
            return "FABLE_THREADS must be a whole number from 1 to \(Parallel.maximumThreadCount), got \"\(value)\""
        case let .outOfRange(option, value):
            return "\(option) must be from 1 to \(Parallel.maximumThreadCount), got \(value)"
        case let .cannotStart(requested, started, reason):
            return "cannot start \(requested) worker threads: the system refused after \(started) (\(reason)); "
                + "use fewer threads (--threads or FABLE_THREADS) or raise the memory or process limit (ulimit -v, ulimit -u)"
        }
    }

    public var errorDescription: String? { description }
}

extension Parallel {
    /// The most threads any Fable command accepts: far above any CPU it runs on, far below
    /// what exhausts memory with thread stacks.
    public static let maximumThreadCount = 1024

    /// Checks `FABLE_THREADS`: nil when unset, the count when valid.
    /// - Throws: ``ThreadCountError/badEnvironment(value:)`` for `0`, `-3`, `abc`, ...
    public static func environmentThreadCount() throws -> Int? {
        guard let text = ProcessInfo.processInfo.environment["FABLE_THREADS"] else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (1...maximumThreadCount).contains(value) else {
            throw ThreadCountError.badEnvironment(value: text)
        }
        return value
    }

    /// Checks a thread-count option against 1...``maximumThreadCount``.
    public static func checkThreadOption(_ value: Int, option: String = "--threads") throws {
        guard (1...maximumThreadCount).contains(value) else { throw ThreadCountError.outOfRange(option: option, value: value) }
    }

    /// Starts `count - 1` threads (the caller is the other one), holds them until all are
    /// up, then lets them go. Under a memory limit (`ulimit -v`) or process limit thread
    /// creation fails, and later code (a BLAS library's or Dispatch's workers) can hang
    /// waiting for threads that never started; this turns that into an error up front.
    /// - Throws: ``ThreadCountError/cannotStart(requested:started:reason:)``.
    public static func ensureThreadsCanStart(_ count: Int) throws {
        guard count > 1 else { return }
        let gate = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(gate, nil)
        pthread_mutex_lock(gate)
        defer {
            pthread_mutex_destroy(gate)
            gate.deallocate()
        }
        #if canImport(Darwin)
        var threads: [pthread_t?] = []
        #else
        var threads: [pthread_t] = []
        #endif
        var failure: Int32 = 0
        for _ in 1..<count {
            #if canImport(Darwin)
            var thread: pthread_t?
            #else
            var thread = pthread_t()
            #endif
            let status = pthread_create(&thread, nil, { argument in
                // Wait at the gate: every probe thread is alive at once, as workers will be.
                let gate = argument!.assumingMemoryBound(to: pthread_mutex_t.self)
                pthread_mutex_lock(gate)
                pthread_mutex_unlock(gate)
                return nil
            }, UnsafeMutableRawPointer(gate))
            if status != 0 { failure = status; break }
            threads.append(thread)
        }
        pthread_mutex_unlock(gate)
        for thread in threads {
            #if canImport(Darwin)
            if let thread { pthread_join(thread, nil) }
            #else
            pthread_join(thread, nil)
            #endif
        }
        if failure != 0 {
            throw ThreadCountError.cannotStart(requested: count, started: threads.count + 1, reason: String(cString: strerror(failure)))
        }
    }
}
