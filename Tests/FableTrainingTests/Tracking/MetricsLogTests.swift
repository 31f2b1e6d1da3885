import FableFormats
import Foundation
import FableTestSupport
import Testing
@testable import FableTraining

@Suite("metrics.jsonl: writer and reader")
struct MetricsLogTests {
    let records = [
        MetricsRecord(step: 10, tokens: 2560, wallSeconds: 1.25, lr: 3e-4, trainLoss: 9.123456789,
                      gradNorm: 2.5, tokensPerSecond: 2048),
        MetricsRecord(step: 20, tokens: 5120, wallSeconds: 2.5, lr: 6e-4, trainLoss: 8.5, valLoss: 8.75,
                      gradNorm: 1.75, tokensPerSecond: 2048.5, extra: ["mfu": .number(0.31), "note": .string("a \"q\"")]),
        MetricsRecord(step: 30, trainLoss: .nan, valLoss: .infinity),
    ]

    @Test("records and events round-trip through the file, NaN included")
    func roundTrip() throws {
        let folder = TemporaryFolder()
        let url = folder.url.appendingPathComponent("run/metrics.jsonl")
        let writer = try MetricsLogWriter(url: url)
        for r in records { try writer.append(r) }
        try writer.append(MetricsEvent(MetricsEvent.diverged, step: 30, fields: ["message": .string("train loss is NaN")]))
        writer.close()

        let log = try MetricsLog.read(url)
        #expect(log.records == records)
        #expect(log.events == [MetricsEvent("diverged", step: 30, fields: ["message": .string("train loss is NaN")])])
        #expect(log.events.first?.message == "train loss is NaN")
        #expect(!log.droppedTruncatedLine)
        #expect(log.entries.count == 4)
    }

    @Test("lines use the documented keys, in order, one object per line")
    func lineFormat() {
        let line = MetricsEntry.record(records[1]).jsonLine
        #expect(line == #"{"step":20,"tokens":5120,"wall_seconds":2.5,"lr":0.0006,"train_loss":8.5,"val_loss":8.75,"grad_norm":1.75,"tokens_per_second":2048.5,"mfu":0.31,"note":"a \"q\""}"#)
        #expect(MetricsEntry.record(records[2]).jsonLine == #"{"step":30,"train_loss":NaN,"val_loss":Infinity}"#)
        #expect(MetricsEntry.event(MetricsEvent("resumed", step: 100)).jsonLine == #"{"event":"resumed","step":100}"#)
    }

    @Test("Python's json module reads the lines back")
    func pythonReadable() throws {
        let folder = TemporaryFolder()
        let url = folder.url.appendingPathComponent("metrics.jsonl")
        let writer = try MetricsLogWriter(url: url)
        for r in records { try writer.append(r) }
        writer.close()
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", """
            import json, sys
            rows = [json.loads(l) for l in open(sys.argv[1])]
            print(rows[0]["train_loss"], rows[1]["mfu"], rows[2]["train_loss"])
            """, url.path]
        let pipe = Pipe()
        python.standardOutput = pipe
        python.standardError = FileHandle.nullDevice
        do { try python.run() } catch { return }  // no python3: nothing to compare with
        python.waitUntilExit()
        guard python.terminationStatus == 0 else { return }
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.trimmingCharacters(in: .whitespacesAndNewlines) == "9.123456789 0.31 nan")
    }

    @Test("a truncated last line is dropped, not an error")
    func truncatedTail() throws {
        let folder = TemporaryFolder()
        let url = try folder.write(#"{"step":1,"train_loss":5}"# + "\n" + #"{"step":2,"train_loss":4}"# + "\n" + #"{"step":3,"tra"#,
                                   to: "metrics.jsonl")
        let log = try MetricsLog.read(url)
        #expect(log.records.map(\.step) == [1, 2])
        #expect(log.droppedTruncatedLine)
    }

    @Test("a complete last line without its newline still counts")
    func unterminatedButComplete() throws {
        let folder = TemporaryFolder()
        let url = try folder.write(#"{"step":1}"# + "\n\n" + #"{"step":2}"#, to: "metrics.jsonl")
        let log = try MetricsLog.read(url)
        #expect(log.records.map(\.step) == [1, 2])
        #expect(!log.droppedTruncatedLine)
    }

    @Test("a garbled line in the middle names the file and the line")
    func garbledLine() throws {
        let folder = TemporaryFolder()
        let url = try folder.write("{\"step\":1}\n{\"step\":2,,}\n{\"step\":3}\n", to: "metrics.jsonl")
        do {
            _ = try MetricsLog.read(url)
            Issue.record("should have failed")
        } catch let error as MetricsLogError {
            #expect(error.description.hasPrefix(url.path + ":2: "))
            #expect(error.description.contains("column 11"))
        }
    }

    @Test("a key of the wrong kind names the key, the line and what was found")
    func wrongType() throws {
        let folder = TemporaryFolder()
        let url = try folder.write("{\"step\":1}\n{\"step\":2,\"train_loss\":\"low\"}\n", to: "metrics.jsonl")
        #expect {
            try MetricsLog.read(url)
        } throws: { error in
            let text = String(describing: error)
            return text.contains(":2: ") && text.contains("train_loss") && text.contains("a number") && text.contains("\"low\"")
        }
        let noStep = try folder.write("{\"tokens\":1}\n", to: "nostep.jsonl")
        #expect { try MetricsLog.read(noStep) } throws: { String(describing: $0).contains("\"step\" should be a whole number") }
        let fractional = try folder.write("{\"step\":1.5}\n", to: "frac.jsonl")
        #expect(throws: MetricsLogError.self) { try MetricsLog.read(fractional) }
        let array = try folder.write("[1]\n", to: "array.jsonl")
        #expect { try MetricsLog.read(array) } throws: { String(describing: $0).contains("found an array") }
    }

    @Test("a missing file is reported by path")
    func missingFile() {
        let url = URL(fileURLWithPath: "/nonexistent/fable/metrics.jsonl")
        #expect { try MetricsLog.read(url) } throws: { String(describing: $0).contains("/nonexistent/fable/metrics.jsonl") }
    }

    @Test("reopening a log cut short removes the half line before appending")
    func writerRepairsTail() throws {
        let folder = TemporaryFolder()
        let url = try folder.write("{\"step\":1}\n{\"step\":2,\"lr\":0.0", to: "metrics.jsonl")
        let writer = try MetricsLogWriter(url: url)
        try writer.append(MetricsRecord(step: 2, lr: 0.5))
        writer.close()
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == "{\"step\":1}\n{\"step\":2,\"lr\":0.5}\n")

        // A complete final line that only lacks its newline is kept.
        let other = try folder.write("{\"step\":1}", to: "other.jsonl")
        let second = try MetricsLogWriter(url: other)
        try second.append(MetricsRecord(step: 2))
        second.close()
        #expect(try MetricsLog.read(other).records.map(\.step) == [1, 2])
    }

    @Test("rewinding for a resume drops the lines after the checkpoint step")
    func rewind() throws {
        let folder = TemporaryFolder()
        let url = folder.url.appendingPathComponent("metrics.jsonl")
        let writer = try MetricsLogWriter(url: url)
        for step in [10, 20, 30, 40] { try writer.append(MetricsRecord(step: step, trainLoss: Double(step))) }
        try writer.append(MetricsEvent("note"))
        try writer.append(MetricsEvent(MetricsEvent.interrupted, step: 40))
        writer.close()
        let removed = try MetricsLogWriter.rewind(url, toStep: 20)
        #expect(removed == 3)
        let log = try MetricsLog.read(url)
        #expect(log.records.map(\.step) == [10, 20])
        #expect(log.events.map(\.name) == ["note"])
    }

    @Test("appends from several threads stay whole lines")
    func concurrentAppends() throws {
        let folder = TemporaryFolder()
        let url = folder.url.appendingPathComponent("metrics.jsonl")
        let writer = try MetricsLogWriter(url: url)
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            try? writer.append(MetricsRecord(step: i, extra: ["pad": .string(String(repeating: "x", count: 500))]))
        }
        writer.close()
        let log = try MetricsLog.read(url)
        #expect(log.records.map(\.step).sorted() == Array(0..<200))
    }
}
