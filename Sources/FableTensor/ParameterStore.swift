/// Every trainable parameter of a model in one flat Float32 buffer, with the gradients
/// in a second buffer of the same layout (the llm.c arrangement).
///
/// Optimizers, gradient clipping and checkpoints each become one loop over
/// ``values`` and ``gradients``; per-tensor work (Muon, weight decay by name) uses
/// ``entries`` to find each parameter's slice.
public final class ParameterStore {
    /// One named parameter: its shape and where its elements sit in the flat buffers.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
        public var range: Range<Int> { offset..<(offset + count) }
    }

    public let entries: [Entry]
    /// The parameter values, all entries back to back in declaration order.
    public let values: UnsafeMutableBufferPointer<Float>
    /// The gradients, laid out exactly like ``values``.
    public let gradients: UnsafeMutableBufferPointer<Float>
    private let indexByName: [String: Int]

    /// Allocates zeroed values and gradients for the given named shapes.
    /// Names must be unique; that is a programming error, not user input.
    public init(layout: [(name: String, shape: [Int])]) {
        var entries: [Entry] = []
        var offset = 0
        for (name, shape) in layout {
            precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(name)")
            let entry = Entry(name: name, shape: shape, offset: offset)
            entries.append(entry)
            offset += entry.count
        }
        self.entries = entries
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() {
            precondition(index[entry.name] == nil, "duplicate parameter name \(entry.name)")
            index[entry.name] = i
        }
        indexByName = index
        values = .allocate(capacity: offset)
        values.initialize(repeating: 0)
        gradients = .allocate(capacity: offset)
        gradients.initialize(repeating: 0)
    }

    deinit {
        values.deallocate()
        gradients.deallocate()
    }

    /// Total number of scalar parameters.
    public var count: Int { values.count }

    /// The entry called `name`, if any.
    public func entry(named name: String) -> Entry? {
        indexByName[name].map { entries[$0] }
    }

    /// The values of one entry.
    public func values(of entry: Entry) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: values[entry.range])
    }

    /// The gradients of one entry.
    public func gradients(of entry: Entry) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: gradients[entry.range])
    }

    /// Sets every gradient to zero, ready for the next backward pass.
    public func zeroGradients() {
        gradients.update(repeating: 0)
    }
}
