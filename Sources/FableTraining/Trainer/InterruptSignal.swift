import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Ctrl-C (SIGINT), SIGTERM and SIGHUP into a flag that long work checks between
/// steps, so it can save its state and stop cleanly instead of dying mid-write. SIGTERM is
/// what `timeout`, `docker stop`, Slurm and systemd send before killing a job; SIGHUP
/// arrives when the terminal goes away.
///
/// While an `InterruptSignal` is active, a real signal handler (installed with `sigaction`)
/// replaces the default action. It only bumps an atomic counter and writes one byte to a
/// pipe, both async-signal-safe; a Dispatch read source on that pipe runs `onFirst`. A
/// plain handler is used rather than a Dispatch signal source because the latter needs the
/// signal blocked in every thread, and kernel worker threads started earlier would swallow
/// it. A second Ctrl-C, when `secondSignalTerminates` is true, restores the default action
/// and re-raises the signal, so an impatient user can still stop at once.
///
/// ```swift
/// let interrupt = InterruptSignal(onSignal: { signal in print("\(InterruptSignal.name(of: signal)): stopping after this step…") })
/// defer { interrupt.cancel() }
/// let result = try trainer.run(in: dir, shouldStop: { interrupt.isRaised })
/// ```
public final class InterruptSignal: @unchecked Sendable {
    /// The signals that ask a long job to save and stop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    private let signalNumbers: [Int32]
    private let startCount: Int
    private var previousActions: [sigaction]
    private let readSource: DispatchSourceRead
    private let pipeDescriptors: (read: Int32, write: Int32)
    private let lock = NSLock()
    private var cancelled = false

    /// Starts catching `signals` (SIGINT, SIGTERM and SIGHUP by default); any of them
    /// raises the flag. Only one `InterruptSignal` should be active at a time.
    /// - Parameters:
    ///   - signals: the signals to catch.
    ///   - secondSignalTerminates: a second signal ends the process as the default action would.
    ///   - onFirst: called (on a background queue) the first time a signal arrives.
    public convenience init(signals: [Int32] = InterruptSignal.stopSignals, secondSignalTerminates: Bool = true,
                            onFirst: (@Sendable () -> Void)? = nil) {
        self.init(signals: signals, secondSignalTerminates: secondSignalTerminates, onSignal: { _ in onFirst?() })
    }

    /// Like ``init(signals:secondSignalTerminates:onFirst:)``, with the number of the
    /// signal that arrived first (for a message: ``name(of:)``).
    public init(signals: [Int32] = InterruptSignal.stopSignals, secondSignalTerminates: Bool = true,
                onSignal onFirst: @escaping @Sendable (Int32) -> Void) {
        signalNumbers = signals
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        pipeDescriptors = (fds[0], fds[1])
        startCount = interruptState.count.load(ordering: .sequentiallyConsistent)
        interruptState.pipeWrite.store(fds[1], ordering: .sequentiallyConsistent)
        interruptState.terminatesOnSecond.store(secondSignalTerminates, ordering: .sequentiallyConsistent)
        interruptState.startCount.store(startCount, ordering: .sequentiallyConsistent)

        readSource = DispatchSource.makeReadSource(fileDescriptor: fds[0], queue: .global())
        let readFD = fds[0]
        var fired = false
        readSource.setEventHandler {
            var byte: UInt8 = 0
            _ = read(readFD, &byte, 1)
            if !fired { fired = true; onFirst(interruptState.lastSignal.load(ordering: .sequentiallyConsistent)) }
        }
        readSource.resume()

        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = interruptHandler
        #else
        action.__sigaction_u.__sa_handler = interruptHandler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        // A parent that started us from a thread blocking these signals (a Dispatch
        // worker, some supervisors) passes that mask on, and a blocked signal would stay
        // pending forever: unblock them on this thread, which then receives them.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in signals { sigaddset(&unblock, signal) }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
        var previous: [sigaction] = []
        for signal in signals {
            var old = sigaction()
            sigaction(signal, &action, &old)
            previous.append(old)
        }
        previousActions = previous
    }

    /// "Ctrl-C", "SIGTERM", "SIGHUP" or "signal N", for messages.
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "Ctrl-C"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        default: return "signal \(signal)"
        }
    }

    /// True once the signal has arrived after this object started catching it.
    public var isRaised: Bool {
        interruptState.count.load(ordering: .sequentiallyConsistent) > startCount
    }

    /// Stops catching the signal and restores the action that was in place before.
    public func cancel() {
        lock.lock()
        let first = !cancelled
        cancelled = true
        lock.unlock()
        guard first else { return }
        for (signal, var previous) in zip(signalNumbers, previousActions) { sigaction(signal, &previous, nil) }
        interruptState.pipeWrite.store(-1, ordering: .sequentiallyConsistent)
        readSource.cancel()
        if pipeDescriptors.read >= 0 { close(pipeDescriptors.read) }
        if pipeDescriptors.write >= 0 { close(pipeDescriptors.write) }
    }

    deinit { cancel() }
}

/// What the signal handler may touch: lock-free atomics only.
private final class InterruptState: Sendable {
    let count = Atomic<Int>(0)
    let startCount = Atomic<Int>(0)
    let pipeWrite = Atomic<Int32>(-1)
    let terminatesOnSecond = Atomic<Bool>(true)
    let lastSignal = Atomic<Int32>(0)
}

private let interruptState = InterruptState()

/// The C signal handler: count, wake the read source, and on a second signal fall back to
/// the default action.
private func interruptHandler(_ signal: Int32) {
    interruptState.lastSignal.store(signal, ordering: .sequentiallyConsistent)
    let (_, total) = interruptState.count.add(1, ordering: .sequentiallyConsistent)
    let fd = interruptState.pipeWrite.load(ordering: .sequentiallyConsistent)
    if fd >= 0 {
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
    }
    let seen = total - interruptState.startCount.load(ordering: .sequentiallyConsistent)
    if seen >= 2 && interruptState.terminatesOnSecond.load(ordering: .sequentiallyConsistent) {
        _ = Foundation.signal(signal, SIG_DFL)
        raise(signal)
    }
}
