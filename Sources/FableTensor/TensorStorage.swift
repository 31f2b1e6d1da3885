import Foundation
import Synchronization

/// A block of Float32 memory that tensors view.
///
/// A storage either owns its memory (allocated here, freed on `deinit`) or borrows memory
/// that another object owns, such as a ``ParameterStore``'s flat buffers; it then keeps
/// that owner alive for as long as any tensor views it.
public final class TensorStorage {
    /// The first element. Internal, so no pointer outlives the storage that owns it.
    let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int
    private let owner: AnyObject?
    private let ownsMemory: Bool

    /// Allocates `count` uninitialised elements (reusing a cached buffer when one fits).
    init(uninitializedCount count: Int) {
        self.base = BufferCache.shared.take(count)
        self.count = count
        self.owner = nil
        self.ownsMemory = true
    }

    /// Allocates `count` elements set to `value`.
    convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// Views memory that `owner` keeps alive.
    init(borrowing base: UnsafeMutablePointer<Float>, count: Int, owner: AnyObject) {
        self.base = base
        self.count = count
        self.owner = owner
        self.ownsMemory = false
    }

    /// Calls `body` with every element of the storage (tensors view it from their
    /// ``Tensor/offset``). The buffer is valid only inside `body`.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    deinit {
        if ownsMemory { BufferCache.shared.give(base, count: count) }
    }
}

// MARK: - Buffer cache

extension TensorStorage {
    /// The most bytes of freed tensor buffers kept for reuse (default 2 GiB; 0 disables
    /// the cache). Training repeats the same shapes every step, so reusing buffers avoids
    /// the page faults and kernel zeroing of fresh large allocations.
    public static var cacheLimitBytes: Int {
        get { BufferCache.shared.limit }
        set { BufferCache.shared.setLimit(newValue) }
    }

    /// Frees every cached buffer.
    public static func releaseCachedBuffers() { BufferCache.shared.setLimit(BufferCache.shared.limit, flush: true) }
}

/// Freed buffers of at least ``minimumCount`` elements, kept by exact size for reuse.
final class BufferCache: Sendable {
    static let shared = BufferCache()
    /// Smaller buffers come and go through malloc, which is fast for them.
    static let minimumCount = 16_384

    /// A buffer no tensor holds any more: whoever has it owns it, so it may pass between
    /// threads (Swift cannot see that ownership moves with it).
    private struct FreedBuffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
    }

    private struct State {
        var free: [Int: [FreedBuffer]] = [:]
        var cachedBytes = 0
        var limit = 2 << 30
    }

    private let state = Mutex(State())

    var limit: Int { state.withLock { $0.limit } }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count >= BufferCache.minimumCount {
            let reused = state.withLock { state -> FreedBuffer? in
                guard let buffer = state.free[count]?.popLast() else { return nil }
                state.cachedBytes -= count * 4
                return buffer
            }
            if let reused { return reused.pointer }
        }
        return .allocate(capacity: max(count, 1))
    }

    func give(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= BufferCache.minimumCount {
            let buffer = FreedBuffer(pointer: p)
            let kept = state.withLock { state in
                guard state.cachedBytes + count * 4 <= state.limit else { return false }
                state.free[count, default: []].append(buffer)
                state.cachedBytes += count * 4
                return true
            }
            if kept { return }
        }
        p.deallocate()
    }

    func setLimit(_ bytes: Int, flush: Bool = false) {
        state.withLock { state in
            state.limit = max(0, bytes)
            if flush || state.cachedBytes > state.limit {
                for (_, list) in state.free { for buffer in list { buffer.pointer.deallocate() } }
                state.free = [:]
                state.cachedBytes = 0
            }
        }
    }
}
