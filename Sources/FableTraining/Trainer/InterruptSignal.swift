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
/// Several may be active at once (tests running concurrently, nested work): the handler
/// stays installed until the last one for a signal is cancelled, and each sees every signal
/// that arrives while it is active.
///
/// ```swift
/// let interrupt = InterruptSignal { print("stopping after this step…") }
/// defer { interrupt.cancel() }
/// let result = try trainer.run(in: dir, shouldStop: { interrupt.isRaised })
/// ```
public final class InterruptSignal: @unchecked Sendable {
    fileprivate let signalNumbers: [Int32]
    fileprivate let startCount: Int
    fileprivate let onFirst: (@Sendable () -> Void)?

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
    /// raises the flag.
    public init(signals: [Int32], secondSignalTerminates: Bool = true, onFirst: (@Sendable () -> Void)? = nil) {
        signalNumbers = signals
        self.onFirst = onFirst
        startCount = interruptState.count.load(ordering: .sequentiallyConsistent)
        interruptState.terminatesOnSecond.store(secondSignalTerminates, ordering: .sequentiallyConsistent)
        interruptState.startCount.store(startCount, ordering: .sequentiallyConsistent)
        InterruptRegistry.shared.add(self)
    }

    /// True once a signal has arrived after this object started catching it.
    public var isRaised: Bool {
        interruptState.count.load(ordering: .sequentiallyConsistent) > startCount
    }

    /// Stops catching; the action that was in place before comes back once no other
    /// `InterruptSignal` catches the signal.
    public func cancel() {
        InterruptRegistry.shared.remove(ObjectIdentifier(self))
    }

    deinit { cancel() }
}

/// The active ``InterruptSignal``s, the installed handlers and the wake-up pipe, shared by
/// the whole process (a signal's action is process-wide).
private final class InterruptRegistry: @unchecked Sendable {
    static let shared = InterruptRegistry()

    private struct Entry {
        weak var signal: InterruptSignal?
        let signalNumbers: [Int32]
        var fired = false
    }

    private let lock = NSLock()
    private var active: [ObjectIdentifier: Entry] = [:]
    private var installed: [Int32: (users: Int, previous: sigaction)] = [:]
    /// The read end of the wake-up pipe and its source; made once and kept for the process.
    private var readSource: DispatchSourceRead?

    func add(_ signal: InterruptSignal) {
        lock.lock(); defer { lock.unlock() }
        startReadingIfNeeded()
        active[ObjectIdentifier(signal)] = Entry(signal: signal, signalNumbers: signal.signalNumbers)
        for number in signal.signalNumbers {
            if let entry = installed[number] {
                installed[number] = (entry.users + 1, entry.previous)
                continue
            }
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = interruptHandler
            #else
            action.__sigaction_u.__sa_handler = interruptHandler
            #endif
            sigemptyset(&action.sa_mask)
            action.sa_flags = 0
            var previous = sigaction()
            sigaction(number, &action, &previous)
            installed[number] = (1, previous)
        }
    }

    func remove(_ id: ObjectIdentifier) {
        lock.lock(); defer { lock.unlock() }
        guard let entry = active.removeValue(forKey: id) else { return }
        for number in entry.signalNumbers {
            guard let use = installed[number] else { continue }
            if use.users > 1 {
                installed[number] = (use.users - 1, use.previous)
            } else {
                var previous = use.previous
                sigaction(number, &previous, nil)
                installed[number] = nil
            }
        }
    }

    /// Creates the pipe the handler writes to and the source that reads it. Called locked.
    private func startReadingIfNeeded() {
        guard readSource == nil else { return }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }  // without a pipe the flag still works, onFirst does not run
        let readFD = fds[0]
        interruptState.pipeWrite.store(fds[1], ordering: .sequentiallyConsistent)
        let source = DispatchSource.makeReadSource(fileDescriptor: readFD, queue: .global())
        source.setEventHandler { [unowned self] in
            var byte: UInt8 = 0
            _ = read(readFD, &byte, 1)
            self.wake()
        }
        source.resume()
        readSource = source
    }

    /// Runs `onFirst` of every active signal raised since it started, once each.
    private func wake() {
        let count = interruptState.count.load(ordering: .sequentiallyConsistent)
        var due: [@Sendable () -> Void] = []
        lock.lock()
        for (id, entry) in active where !entry.fired {
            guard let signal = entry.signal, count > signal.startCount else { continue }
            active[id]?.fired = true
            if let onFirst = signal.onFirst { due.append(onFirst) }
        }
        lock.unlock()
        for action in due { action() }
    }
}

/// What the signal handler may touch: lock-free atomics only.
private final class InterruptState: Sendable {
    let count = Atomic<Int>(0)
    let startCount = Atomic<Int>(0)
    let pipeWrite = Atomic<Int32>(-1)
    let terminatesOnSecond = Atomic<Bool>(true)
}

private let interruptState = InterruptState()

/// The C signal handler: count, wake the read source, and on a second signal (counted from
/// the newest `InterruptSignal`) fall back to the default action.
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
