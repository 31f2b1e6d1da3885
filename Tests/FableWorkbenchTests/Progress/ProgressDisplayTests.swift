import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableWorkbench

/// A clock the test moves by hand, and a sink that keeps what was written.
final class FakeTerminal: @unchecked Sendable {
    var now = 1000.0
    var written: [String] = []
    var text: String { written.joined() }
}

@Suite("ProgressDisplay: live line and plain lines")
struct ProgressDisplayTests {
    func display(_ fake: FakeTerminal, total: Int?, style: ProgressDisplay.Style, width: Int = 200,
                 unit: ProgressDisplay.Unit = .items("steps")) -> ProgressDisplay {
        ProgressDisplay(total: total, label: "train", unit: unit, style: style, plainInterval: 10, plainPercentStep: 10,
                        useUnicode: false, width: { width }, clock: { fake.now }, sink: { fake.written.append($0) })
    }

    @Test("plain lines come every 10 seconds or every 10 percent, whichever first")
    func plainRateLimit() {
        let fake = FakeTerminal()
        let p = display(fake, total: 1000, style: .plain)
        // 1 step per 0.1 s: 10% = 100 steps = 10 s, so both rules fire together; go slower first.
        for step in 1...50 { fake.now += 0.5; p.update(completed: step) }  // 25 s, 5%
        #expect(fake.written.count == 3)  // the first update, then at 10 s and 20 s
        for step in 51...150 { fake.now += 0.01; p.update(completed: step) }  // crosses 10% quickly
        #expect(fake.written.count == 4)
        #expect(fake.written.allSatisfy { $0.hasSuffix("\n") && !$0.contains("\r") && !$0.contains("\u{1B}") })
        #expect(fake.written[3].hasPrefix("train: 100/1000 (10.0%)"))
    }

    @Test("the plain line shows count, percent, fields, rate, elapsed and ETA")
    func plainContents() {
        let fake = FakeTerminal()
        let p = display(fake, total: 400, style: .plain)
        for step in 1...100 {
            fake.now += 0.5
            p.update(completed: step, fields: ["loss": "3.214", "tok/s": "12.3K"])
        }
        // 100 steps in 50 s: 2 steps/s, 300 steps left = 150 s.
        #expect(fake.written.last == "train: 100/400 (25.0%) loss 3.214, tok/s 12.3K | 2.00 steps/s | elapsed 0:00:50 | ETA 0:02:30\n")
    }

    @Test("the ETA follows the recent rate, not the average since the start")
    func etaFollowsRecentRate() {
        let fake = FakeTerminal()
        let p = display(fake, total: 10_000, style: .silent)
        for step in 1...100 { fake.now += 1; p.update(completed: step) }         // 1 step/s for 100 s
        for step in 1...600 { fake.now += 0.1; p.update(completed: 100 + step * 1) }  // 10 steps/s for 60 s
        let rate = p.currentRate(fake.now)!
        #expect(abs(rate - 10) < 0.5)
        #expect(abs(p.etaSeconds(fake.now)! - 9300.0 / rate) < 1e-6)
    }

    @Test("on a terminal one line is redrawn in place, at most ten times a second")
    func terminalRedraw() {
        let fake = FakeTerminal()
        let p = display(fake, total: 100, style: .terminal)
        for step in 1...100 { fake.now += 0.01; p.update(completed: step, fields: ["loss": "2.5"]) }
        // 1 s of updates: the first draw, about one per 0.1 s, and the final one at 100%.
        #expect(fake.written.count >= 9 && fake.written.count <= 12)
        #expect(fake.written.allSatisfy { $0.hasPrefix("\r") && $0.hasSuffix("\u{1B}[K") && !$0.contains("\n") })
        #expect(fake.written.last!.contains("train  ####################  100/100  100%  loss 2.5 | 100 steps/s | 0:00:01 elapsed"))
        p.finish(summary: "best val 2.4")
        #expect(fake.written.suffix(3) == ["\r\u{1B}[K", "train: 100/100 done in 0:00:01 (100 steps/s) · loss 2.5\n", "best val 2.4\n"])
        let count = fake.written.count
        p.finish(summary: "again")
        p.update(completed: 100)
        #expect(fake.written.count == count)
    }

    @Test("a narrow terminal drops the bar, elapsed time, rate and fields before the ETA")
    func terminalWidth() {
        let fake = FakeTerminal()
        let p = display(fake, total: 100, style: .terminal, width: 70)
        fake.now += 5
        p.update(completed: 5, fields: ["loss": "3.21", "lr": "3e-4", "grad": "0.88"])
        let line = fake.written.last!.dropFirst().replacingOccurrences(of: "\u{1B}[K", with: "")
        #expect(line == "train  5/100    5%  loss 3.21  lr 3e-4  grad 0.88 | ETA 0:01:35")
        let narrow = FakeTerminal()
        let q = display(narrow, total: 100, style: .terminal, width: 36)
        narrow.now += 5
        q.update(completed: 5, fields: ["loss": "3.21", "lr": "3e-4", "grad": "0.88"])
        #expect(narrow.written.last! == "\rtrain  5/100    5% | ETA 0:01:35\u{1B}[K")
        let tiny = FakeTerminal()
        let r = display(tiny, total: 100, style: .terminal, width: 20)
        r.update(completed: 5)
        let cut = tiny.written.last!.dropFirst().replacingOccurrences(of: "\u{1B}[K", with: "")
        #expect(cut.count == 19 && cut.hasSuffix("…"))
    }

    @Test("log() prints above the live line and redraws it")
    func logMessage() {
        let fake = FakeTerminal()
        let p = display(fake, total: 10, style: .terminal)
        p.update(completed: 1)
        p.log("checkpoint saved")
        #expect(fake.written[1] == "\r\u{1B}[K")
        #expect(fake.written[2] == "checkpoint saved\n")
        #expect(fake.written[3].hasPrefix("\rtrain "))
    }

    @Test("without a total: count and rate, no percent or ETA; bytes in binary units")
    func unknownTotalAndBytes() {
        let fake = FakeTerminal()
        let p = display(fake, total: nil, style: .plain, unit: .bytes)
        fake.now += 2
        p.update(completed: 3 * 1024 * 1024)
        #expect(fake.written.last == "train: 3.00 MiB | 1.50 MiB/s | elapsed 0:00:02\n")
    }

    @Test("silent prints nothing")
    func silent() {
        let fake = FakeTerminal()
        let p = display(fake, total: 10, style: .silent)
        p.update(completed: 5)
        p.log("x")
        p.finish(summary: "y")
        #expect(fake.written.isEmpty)
    }
}
