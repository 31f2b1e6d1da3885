import FableFormats
import Foundation
import Testing
import FableTestSupport
import FableTraining
@testable import FableReports

@Suite("RunSummary: reading run directories")
struct RunSummaryTests {
    @Test("final and best losses, steps, tokens and time from a hand-made run")
    func values() throws {
        let folder = TemporaryFolder()
        let dir = try folder.run("lr-1e-3", lines: [
            #"{"step":10,"tokens":100,"wall_seconds":1,"lr":0.001,"train_loss":9.0}"#,
            #"{"step":20,"tokens":200,"wall_seconds":2,"train_loss":6.0,"val_loss":6.5}"#,
            #"{"step":30,"tokens":300,"wall_seconds":3,"train_loss":4.0,"val_loss":4.25}"#,
            #"{"step":40,"tokens":400,"wall_seconds":4.5,"train_loss":3.5}"#,
            #"{"step":50,"tokens":500,"wall_seconds":6,"train_loss":3.75,"val_loss":4.5}"#,
            #"{"event":"finished","step":50}"#,
        ], config: #"{"optimizer":{"lr":0.001},"batch_size":8}"#)
        let run = try RunSummary.load(dir)
        #expect(run.name == "lr-1e-3")
        #expect(run.lastStep == 50)
        #expect(run.tokens == 500)
        #expect(run.wallSeconds == 6)
        #expect(run.finalTrainLoss == 3.75)
        #expect(run.finalValLoss == 4.5)
        #expect(run.bestValLoss?.loss == 4.25)
        #expect(run.bestValLoss?.step == 30)
        #expect(run.bestTrainLoss?.loss == 3.5)
        #expect(run.divergence == nil)
        #expect(run.status == "finished")
        #expect(run.config["optimizer.lr"] == .number(0.001))
        #expect(run.rankingLoss(.valLoss) == 4.25)
        #expect(run.rankingLoss(.trainLoss) == 3.5)
    }

    @Test("divergence: a NaN loss", arguments: ["NaN", "Infinity"])
    func divergenceNonFinite(_ token: String) throws {
        let folder = TemporaryFolder()
        let dir = try folder.run("r", lines: [
            #"{"step":1,"train_loss":9}"#, #"{"step":2,"train_loss":7,"val_loss":7.5}"#, "{\"step\":3,\"train_loss\":\(token)}",
        ])
        let run = try RunSummary.load(dir)
        #expect(run.diverged)
        #expect(run.divergence?.step == 3)
        #expect(run.status == "diverged")
        #expect(run.bestValLoss?.loss == 7.5)  // the best before it diverged still counts
    }

    @Test("divergence: an explicit event, with its message")
    func divergenceEvent() throws {
        let folder = TemporaryFolder()
        let dir = try folder.run("r", lines: [
            #"{"step":1,"train_loss":9}"#, #"{"step":2,"train_loss":7}"#,
            #"{"event":"diverged","step":2,"message":"loss spiked above 50"}"#,
        ])
        let run = try RunSummary.load(dir)
        #expect(run.divergence == RunSummary.Divergence(step: 2, reason: "loss spiked above 50"))
    }

    @Test("divergence: the loss ends far above where it started, but not one noisy spike")
    func divergenceRise() throws {
        let folder = TemporaryFolder()
        let rising = try folder.run("up", lines: [9.2, 6, 5, 8, 12, 14, 15].enumerated().map {
            "{\"step\":\($0.offset),\"train_loss\":\($0.element)}"
        })
        let run = try RunSummary.load(rising)
        #expect(run.diverged)
        #expect(run.divergence?.step == 4)
        #expect(run.divergence?.reason == "train loss rose from 9.20 to 13.67")

        let spike = try folder.run("spike", lines: [9.2, 6, 30, 5, 4.5, 4].enumerated().map {
            "{\"step\":\($0.offset),\"train_loss\":\($0.element)}"
        })
        #expect(try !RunSummary.load(spike).diverged)

        // Blown up for several logs, then back down as the rate decayed (the lr = 1 run of
        // the CS336 sweep): diverged, with the peak and where it ended.
        let recovered = try folder.run("recovered", lines: [9.2, 7.1, 8.7, 23.2, 42, 30, 12, 7.5, 6.8, 6.7, 6.6].enumerated().map {
            "{\"step\":\($0.offset * 10),\"train_loss\":\($0.element)}"
        })
        let run2 = try RunSummary.load(recovered)
        #expect(run2.divergence?.step == 30)
        #expect(run2.divergence?.reason == "train loss rose from 9.20 to a peak of 42.00 (step 40), then came back to 6.70")
        #expect(run2.status == "diverged")
    }

    @Test("same-step lines merge; a resumed stretch replaces the steps it re-ran")
    func timeline() throws {
        let folder = TemporaryFolder()
        let dir = try folder.run("r", lines: [
            #"{"step":10,"train_loss":5}"#, #"{"step":10,"val_loss":5.5}"#,
            #"{"step":20,"train_loss":4}"#, #"{"step":30,"train_loss":3.9}"#,
            #"{"event":"resumed","step":20}"#,
            #"{"step":30,"train_loss":3.5}"#, #"{"step":40,"train_loss":3.0}"#,
        ])
        let run = try RunSummary.load(dir)
        #expect(run.records.map(\.step) == [10, 20, 30, 40])
        #expect(run.records[0].trainLoss == 5 && run.records[0].valLoss == 5.5)
        #expect(run.records[2].trainLoss == 3.5)
        #expect(run.events.map(\.name) == ["resumed"])
    }

    @Test("progress against the planned steps, and an empty log")
    func statusAndEmpty() throws {
        let folder = TemporaryFolder()
        let partial = try folder.run("p", lines: [#"{"step":250,"train_loss":5}"#], config: #"{"training":{"max_steps":1000}}"#)
        #expect(try RunSummary.load(partial).status == "25% of 1000")
        let empty = try folder.run("e", lines: [])
        let run = try RunSummary.load(empty)
        #expect(run.isEmpty)
        #expect(run.status == "no metrics")
        #expect(run.bestValLoss == nil && run.lastStep == nil)
    }

    @Test("errors name the directory, the file and the line")
    func errors() throws {
        let folder = TemporaryFolder()
        let missing = folder.url.appendingPathComponent("nope")
        #expect { try RunSummary.load(missing) } throws: { String(describing: $0) == "\(missing.path): no such run directory" }

        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("nometrics"), withIntermediateDirectories: true)
        #expect { try RunSummary.load(folder.url.appendingPathComponent("nometrics")) } throws: {
            String(describing: $0).contains("nometrics/metrics.jsonl: no such file")
        }

        let garbled = try folder.run("garbled", lines: [#"{"step":1}"#, "oops", #"{"step":3}"#])
        #expect { try RunSummary.load(garbled) } throws: { String(describing: $0).contains("garbled/metrics.jsonl:2: ") }

        let badConfig = try folder.run("badconfig", lines: [#"{"step":1}"#], config: "{\n \"lr\": 1e-3,\n}")
        #expect { try RunSummary.load(badConfig) } throws: { String(describing: $0).contains("badconfig/config.json:3:1: ") }
    }
}

@Suite("RunTable: ranking and hyperparameter columns")
struct RunTableTests {
    func sweep() throws -> (TemporaryFolder, [RunSummary]) {
        let folder = TemporaryFolder()
        var runs: [RunSummary] = []
        for (name, lr, best) in [("a", 1e-3, 3.0), ("b", 3e-3, 2.5), ("c", 1e-2, 2.8)] {
            let dir = try folder.run(name, lines: [
                "{\"step\":1,\"train_loss\":9}", "{\"step\":2,\"train_loss\":\(best),\"val_loss\":\(best + 0.1)}",
            ], config: "{\"optimizer\":{\"name\":\"adamw\",\"lr\":\(lr)},\"batch_size\":16,\"out\":\"/runs/\(name)\",\"seed\":\(name == "c" ? 1 : 0)}")
            runs.append(try RunSummary.load(dir))
        }
        runs.append(try RunSummary.load(try folder.run("empty", lines: [])))
        return (folder, runs)
    }

    @Test("runs are ranked by best validation loss, runs without one last")
    func ranking() throws {
        let (_, runs) = try sweep()
        let table = RunTable(runs: runs, metric: .valLoss)
        #expect(table.runs.map(\.name) == ["b", "c", "a", "empty"])
        #expect(table.inputIndices == [1, 2, 0, 3])
    }

    @Test("settings that vary are found at any depth; paths are left out")
    func hyperparameters() throws {
        let (_, runs) = try sweep()
        let columns = HyperparameterColumns.select(for: runs)
        let lr = try #require(columns.first { $0.title == "lr" })
        #expect(lr.varies)
        #expect(lr.cells == ["0.001", "0.003", "0.01", "—"])
        #expect(columns.first { $0.title == "batch_size" }?.varies == false)
        #expect(columns.first { $0.title == "optimizer" }?.cells.first == "adamw")
        #expect(columns.first { $0.title == "seed" }?.varies == true)
        #expect(!columns.contains { $0.title == "out" })
    }

    @Test("a setting named after an optimizer the run did not choose is left empty")
    func inapplicableSettings() throws {
        let folder = TemporaryFolder()
        var runs: [RunSummary] = []
        for (name, kind, muonLR) in [("adamw", "adamw", 0.02), ("muon-a", "muon", 0.05), ("muon-b", "muon", 0.1)] {
            let dir = try folder.run(name, lines: ["{\"step\":1,\"train_loss\":3}"],
                                     config: "{\"optimizer\":{\"kind\":\"\(kind)\",\"lr\":0.01,\"muon_lr\":\(muonLR),\"muon_momentum\":0.95,\"sgd_decay\":\"none\"}}")
            runs.append(try RunSummary.load(dir))
        }
        let columns = HyperparameterColumns.select(for: runs)
        // The AdamW run's config lists Muon's default rate; it did not use it.
        #expect(columns.first { $0.title == "optimizer.muon_lr" }?.cells == ["—", "0.05", "0.1"])
        // A setting the same in every run it applies to is not a column.
        #expect(!columns.contains { $0.title == "optimizer.sgd_decay" || $0.title == "optimizer.muon_momentum" })
        // No run chose SGD, so its setting is an ordinary (constant) one.
        #expect(HyperparameterColumns.applies("optimizer.sgd_decay", in: runs[0].config, choices: ["optimizer.kind": ["adamw", "muon"]]))
        #expect(!HyperparameterColumns.applies("optimizer.muon_lr", in: runs[0].config, choices: ["optimizer.kind": ["adamw", "muon"]]))
        #expect(HyperparameterColumns.applies("optimizer.muon_lr", in: runs[1].config, choices: ["optimizer.kind": ["adamw", "muon"]]))
    }

    @Test("the text table lines up and shows the varying settings after the name")
    func text() throws {
        let (_, runs) = try sweep()
        let lines = RunTable(runs: runs, metric: .valLoss).text().split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("#  run       lr  seed  best val"))
        #expect(lines[2].hasPrefix("1  b      0.003     0    2.6000"))
        #expect(lines[5].contains("no metrics"))
    }

    @Test("runs are put in the order of the numeric setting that varies")
    func orderBySettings() throws {
        let (_, runs) = try sweep()
        let shuffled = [runs[2], runs[3], runs[0], runs[1]]
        // seed varies too but comes after lr among the columns; lr decides.
        #expect(HyperparameterColumns.orderedBySettings(shuffled).map(\.name) == ["a", "b", "c", "empty"])
    }

    @Test("ranking by training loss leads with the training columns; unlogged columns are left out")
    func trainingColumns() throws {
        let (_, runs) = try sweep()
        let table = RunTable(runs: runs, metric: .trainLoss)
        #expect(table.columns.map(\.title) == ["#", "run", "best train", "at step", "final train", "best val", "final val", "steps", "status"])
        #expect(table.runs.map(\.name) == ["b", "c", "a", "empty"])
    }
}

