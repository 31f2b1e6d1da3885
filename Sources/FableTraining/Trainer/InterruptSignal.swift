import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Ctrl-C (SIGINT) into a flag that long work checks between steps, so it can save
/// its state and stop cleanly instead of dying mid-write.
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
/// let interrupt = InterruptSignal { print("stopping after this step…") }
/// defer { interrupt.cancel() }
/// let result = try trainer.run(in: dir, shouldStop: { interrupt.isRaised })
/// ```
public final class InterruptSignal: @unchecked Sendable {
    private let signalNumbers: [Int32]
    private let startCount: Int
    private var previousActions: [sigaction]
    private let readSource: DispatchSourceRead
    private let pipeDescriptors: (read: Int32, write: Int32)
    private let lock = NSLock()
    private var cancelled = false

    /// Starts catching `signal` (SIGINT by default).
    /// - Parameters:
    ///   - signal: the signal to catch.
    ///   - secondSignalTerminates: a second signal ends the process as the default action would.
    ///   - onFirst: called (on a background queue) the first time the signal arrives.
    public convenience init(signal: Int32 = SIGINT, secondSignalTerminates: Bool = true,
                            onFirst: (@Sendable () -> Void)? = nil) {
        self.init(signals: [signal], secondSignalTerminates: secondSignalTerminates, onFirst: onFirst)
    }

    /// Starts catching every signal in `signals` (e.g. SIGINT and SIGTERM); any of them
    /// raises the flag. Only one `InterruptSignal` should be active at a time.
    public init(signals: [Int32], secondSignalTerminates: Bool = true, onFirst: (@Sendable () -> Void)? = nil) {
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
            if !fired { fired = true; onFirst?() }
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
        previousActions = signals.map { number in
            var previous = sigaction()
            sigaction(number, &action, &previous)
            return previous
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
        for (number, previous) in zip(signalNumbers, previousActions) {
            var previous = previous
            sigaction(number, &previous, nil)
        }
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
}

private let interruptState = InterruptState()

/// The C signal handler: count, wake the read source, and on a second signal fall back to
/// the default action.
private func interruptHandler(_ signal: Int32) {
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
