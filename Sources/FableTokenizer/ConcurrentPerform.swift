import Dispatch

// The one place FableTokenizer hands work to several threads at once under the Swift 6
// language mode. FableTensor's `Parallel` has the same helper; this target needs no tensors.

/// Runs `body(i)` for every i in `0..<iterations` on Dispatch's threads and returns when
/// all are done.
///
/// `body` is not `@Sendable`: it captures pointers into buffers the caller keeps alive for
/// the call, and per-worker state that index i alone touches (or that locks itself). Swift
/// cannot check either fact, so the promise is made here, once, rather than by marking each
/// worker type `@unchecked Sendable`.
func concurrentPerform(iterations: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
    }
}

/// A value carried to other threads without a Sendable check; see ``concurrentPerform(iterations:_:)``.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
