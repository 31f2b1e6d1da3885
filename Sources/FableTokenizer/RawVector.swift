/// A growable array of trivial values on a raw allocation: no bounds checks, no
/// copy-on-write, no exclusivity checks in hot loops. The owner calls ``deallocate()``.
struct RawVector<Element> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int = 16) {
        self.capacity = max(capacity, 4)
        base = .allocate(capacity: self.capacity)
    }

    /// A vector of `count` copies of `value`.
    init(repeating value: Element, count: Int) {
        self.init(capacity: count)
        base.initialize(repeating: value, count: count)
        self.count = count
    }

    @inline(__always)
    subscript(index: Int) -> Element {
        get { base[index] }
        nonmutating set { base[index] = newValue }
    }

    @inline(__always)
    mutating func append(_ value: Element) {
        if count == capacity { grow(to: capacity * 2) }
        (base + count).initialize(to: value)
        count += 1
    }

    /// Empties the vector, keeping its storage.
    mutating func removeAll() { count = 0 }

    /// Grows the vector with `value` up to `newCount` elements.
    mutating func resize(to newCount: Int, filling value: Element) {
        if newCount > capacity { grow(to: max(newCount, capacity * 2)) }
        if newCount > count { (base + count).initialize(repeating: value, count: newCount - count) }
        count = newCount
    }

    private mutating func grow(to newCapacity: Int) {
        let fresh = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        fresh.moveInitialize(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = newCapacity
    }

    /// Frees the storage; the vector must not be used afterwards.
    func deallocate() { base.deallocate() }

}
