import Testing
@testable import FableTraining

@Suite("HumanFormat")
struct HumanFormatTests {
    @Test("durations as h:mm:ss")
    func durations() {
        #expect(HumanFormat.duration(0) == "0:00:00")
        #expect(HumanFormat.duration(59.6) == "0:01:00")
        #expect(HumanFormat.duration(3 * 3600 + 4 * 60 + 5) == "3:04:05")
        #expect(HumanFormat.duration(100 * 3600) == "100:00:00")
        #expect(HumanFormat.duration(.nan) == "--:--:--")
        #expect(HumanFormat.duration(-1) == "--:--:--")
    }

    @Test("counts with K/M/B suffixes and three significant digits")
    func counts() {
        #expect(HumanFormat.count(999) == "999")
        #expect(HumanFormat.count(1234) == "1.23K")
        #expect(HumanFormat.count(45_600_000) == "45.6M")
        #expect(HumanFormat.count(1_200_000_000) == "1.20B")
        #expect(HumanFormat.count(999_999) == "1.00M")
        #expect(HumanFormat.count(2.5) == "2.50")
    }

    @Test("compact and scientific numbers for settings and ticks")
    func compact() {
        #expect(HumanFormat.compact(3e-4) == "3e-4")
        #expect(HumanFormat.compact(1.5e-5) == "1.5e-5")
        #expect(HumanFormat.compact(0.001) == "0.001")
        #expect(HumanFormat.compact(512) == "512")
        #expect(HumanFormat.compact(0.1) == "0.1")
        #expect(HumanFormat.compact(2e7) == "2e+7")
        #expect(HumanFormat.scientific(0.01) == "1e-2")
        #expect(HumanFormat.significant(9.996, digits: 3) == "10.0")
        #expect(HumanFormat.bytes(1536) == "1.50 KiB")
        #expect(HumanFormat.bytes(512) == "512 B")
    }
}
