/// A block of Float32 memory that tensors view.
///
/// A storage either owns its memory (allocated here, freed on `deinit`) or borrows memory
/// that another object owns, such as a ``ParameterStore``'s flat buffers; it then keeps
/// that owner alive for as long as any tensor views it.
public final class TensorStorage {
    /// The first element.
    public let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int
    private let owner: AnyObject?
    private let ownsMemory: Bool

    /// Allocates `count` uninitialised elements.
    init(uninitializedCount count: Int) {
        self.base = .allocate(capacity: Swift.max(count, 1))
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

    deinit {
        if ownsMemory { base.deallocate() }
    }
}
