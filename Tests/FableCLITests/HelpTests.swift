import ArgumentParser
import Foundation
import Testing
@testable import FableCLI

@Suite("fable --help")
struct HelpTests {
    @Test("lists the commands in pipeline order, tools after")
    func pipelineOrder() {
        let help = Fable.helpMessage()
        let expected = ["corpus", "tokenizer", "train", "sweep", "report", "generate",
                        "model-config", "accounting", "info", "bench"]
        let lines = help.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let positions = expected.map { name in lines.firstIndex { $0.hasPrefix(name + " ") } ?? -1 }
        #expect(!positions.contains(-1), "every command is listed: \(help)")
        #expect(positions == positions.sorted(), "commands in pipeline order: \(help)")
    }
}
