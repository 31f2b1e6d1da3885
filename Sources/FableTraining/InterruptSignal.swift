import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Ctrl-C (SIGINT) into a flag that long work checks between steps, so it can save
/// its state and stop cleanly instead of dying mid-write.
///
/// While an `InterruptSignal` is active the signal's default action (terminating the
/// process) is replaced by a Dispatch signal source that sets ``isRaised``. A second
/// Ctrl-C, when `secondSignalTerminates` is true, restores the default action and
/// re-raises the signal, so an impatient user can still stop at once.
///
/// ```swift
/// let interrupt = InterruptSignal { print("stopping after this step…") }
/// defer { interrupt.cancel() }
/// let result = try trainer.run(in: dir, shouldStop: { interrupt.isRaised })
/// ```
public final class InterruptSignal: @unchecked Sendable {
    private let signalNumber: Int32
    private let source: DispatchSourceSignal
    private let lock = NSLock()
    private var count = 0
    private var cancelled = false

    /// Starts catching `signal` (SIGINT by default).
    /// - Parameters:
    ///   - signal: the signal to catch.
    ///   - secondSignalTerminates: a second signal ends the process as the default action would.
    ///   - onFirst: called (on a background queue) the first time the signal arrives.
    public init(signal: Int32 = SIGINT, secondSignalTerminates: Bool = true, onFirst: (@Sendable () -> Void)? = nil) {
        signalNumber = signal
        // Ignore the default action first; the source still sees the signal.
        Foundation.signal(signal, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: signal, queue: DispatchQueue.global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.lock()
            self.count += 1
            let count = self.count
            self.lock.unlock()
            if count == 1 {
                onFirst?()
            } else if secondSignalTerminates {
                Foundation.signal(signal, SIG_DFL)
                raise(signal)
            }
        }
        source.resume()
    }

    /// True once the signal has arrived.
    public var isRaised: Bool {
        lock.lock(); defer { lock.unlock() }
        return count > 0
    }

    /// Stops catching the signal and restores its default action.
    public func cancel() {
        lock.lock()
        let first = !cancelled
        cancelled = true
        lock.unlock()
        guard first else { return }
        source.cancel()
        Foundation.signal(signalNumber, SIG_DFL)
    }

    deinit { cancel() }
}
