import Testing
@testable import FableTensor

@Suite("Buffer cache")
struct BufferCacheTests {
    @Test("a freed large buffer is reused for the next allocation of the same size")
    func reuse() {
        let count = BufferCache.minimumCount * 3 + 1
        var first: UnsafeMutablePointer<Float>?
        do {
            let t = Tensor.zeros([count])
            first = t.data
        }
        let second = Tensor.zeros([count])
        #expect(second.data == first)
        #expect(second.toArray().allSatisfy { $0 == 0 })
    }
}
