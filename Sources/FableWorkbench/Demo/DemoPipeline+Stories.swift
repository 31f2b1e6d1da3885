import FableFormats
import FableModel
import FableTokenizer
import FableStories
import FableReports
import FableTraining
import Foundation

extension DemoPipeline {
    // MARK: - 7. Report

    /// Writes DIR/report/index.html from the run's metrics (as `fable report DIR/run` does);
    /// nil when the run logged nothing.
    func writeReport() throws -> URL? {
        let (files, seconds) = try timed { () throws -> HTMLReport.Files? in
            let run = try RunSummary.load(layout.run, name: "demo")
            guard !run.isEmpty else { return nil }
            let report = HTMLReport(runs: [run], options: ReportOptions(title: "Fable demo"))
            return try report.write(to: layout.report)
        }
        if let files {
            printStep("report", "learning curves and the run's settings -> \(layout.display(files.page))", seconds: seconds)
        } else {
            printStep("report", "skipped: the run logged no metrics")
        }
        return files?.page
    }

    // MARK: - Results

    /// The validation loss beside the unigram baseline, in nats per token and bits per byte.
    func printResults(_ training: DemoTraining, data: DemoData) {
        printNow([""])
        let baseline = data.baseline
        guard let evaluation = training.evaluation else {
            printStep("results", "no validation loss (no step was trained); unigram baseline "
                + "\(HumanFormat.fixed(baseline, decimals: 3)) nats/token")
            return
        }
        let loss = evaluation.loss
        let scope = evaluation.isFullSplit ? "the whole validation split" : "\(evaluation.batches) validation batches"
        let lossText = HumanFormat.fixed(loss, decimals: 3)
        let baselineText = HumanFormat.fixed(baseline, decimals: 3)
        let width = max(lossText.count, baselineText.count)
        func pad(_ s: String) -> String { String(repeating: " ", count: width - s.count) + s }
        printStep("results", "validation loss   \(pad(lossText)) nats/token  "
            + "\(HumanFormat.fixed(data.bitsPerByte(loss), decimals: 3)) bits/byte  "
            + "perplexity \(HumanFormat.significant(evaluation.perplexity, digits: 3))  (\(scope), step \(training.result.step))")
        printDetail("unigram baseline  \(pad(baselineText)) nats/token  "
            + "\(HumanFormat.fixed(data.bitsPerByte(baseline), decimals: 3)) bits/byte  "
            + "perplexity \(HumanFormat.significant(exp(baseline), digits: 3))")
        if loss.isFinite {
            let ratio = exp(baseline - loss)
            printDetail("the model is \(HumanFormat.significant(ratio, digits: 3))x less perplexed than token frequencies alone")
        }
    }

    // MARK: - Stories

    /// Streams a story for each prompt, and writes them to DIR/samples.txt.
    func tellStories(model: TransformerLM, tokenizer: Tokenizer) throws -> [DemoSummary.Story] {
        printNow(["", "Stories (temperature \(HumanFormat.compact(Double(Self.temperature))), top-p "
            + "\(HumanFormat.compact(Double(Self.topP))), seed \(seed)):"])
        let generator = TextGenerator(model: model)
        let endOfText = tokenizer.specialTokenID(Self.endOfText)
        // Stories in the corpus begin after "<|endoftext|>\n": start there too.
        let storyStart = endOfText != nil ? tokenizer.encode(Self.endOfText + "\n") : []
        var stories: [DemoSummary.Story] = []
        for (index, prompt) in Self.prompts.enumerated() {
            var sampling = SamplingOptions(temperature: Self.temperature, topP: Self.topP)
            if tokenizer.vocabularySize < model.config.vocabSize { sampling.vocabularyLimit = tokenizer.vocabularySize }
            let options = GenerationOptions(
                maxNewTokens: Self.storyTokens, sampling: sampling, seed: UInt64(seed + index), endOfText: endOfText,
                overflow: .slide)
            printNow(["", "── \(prompt) ──"])
            FileHandle.standardOutput.write(Data(prompt.utf8))
            var text = prompt
            var decoder = TextStreamDecoder(tokenizer: tokenizer)
            // Held back until more text follows, so the story's closing line breaks are not printed.
            var pendingWhitespace = ""
            let stream = try generator.tokens(prompt: storyStart + tokenizer.encode(prompt), options: options)
            func emit(_ piece: String) {
                guard !piece.isEmpty else { return }
                let trimmed = String(piece.reversed().drop(while: \.isWhitespace).reversed())
                if trimmed.isEmpty { pendingWhitespace += piece; return }
                let trailing = String(piece.dropFirst(trimmed.count))
                let out = pendingWhitespace + trimmed
                FileHandle.standardOutput.write(Data(out.utf8))
                text += out
                pendingWhitespace = trailing
            }
            for token in stream { emit(try decoder.append(token)) }
            emit(decoder.finish())
            let ending = stream.finishReason == .endOfText ? "" : " ..."
            FileHandle.standardOutput.write(Data((ending + "\n").utf8))
            stories.append(DemoSummary.Story(prompt: prompt, text: text + ending))
        }
        var file = ""
        for story in stories { file += "── \(story.prompt) ──\n\(story.text)\n\n" }
        do {
            try AtomicFile.write(file, to: layout.samples)
        } catch {
            throw DemoError.cannotWrite(path: layout.samples.path, reason: Self.reason(error))
        }
        return stories
    }

    // MARK: - What next

    /// The commands that continue from here, with this run's paths.
    func printFollowUps(_ training: DemoTraining) {
        let fable = Self.invocation()
        let checkpoint = layout.display(layout.run.appendingPathComponent("checkpoints/latest.safetensors"))
        let tokenizer = layout.display(layout.tokenizer)
        let run = layout.display(layout.run)
        var lines = ["", "Done in \(HumanFormat.duration(elapsed(since: started))). Everything is in \(layout.display(layout.root))/; next:", ""]
        if training.result.lastCheckpoint != nil {
            lines.append("  # more stories from the trained model")
            lines.append("  \(fable) generate --checkpoint \(checkpoint) --tokenizer \(tokenizer) \\")
            lines.append("      --prompt \"Once upon a time\" --temperature \(HumanFormat.compact(Double(Self.temperature))) "
                + "--top-p \(HumanFormat.compact(Double(Self.topP)))")
        }
        lines.append("  # the learning curves (open \(layout.display(layout.report))/index.html)")
        lines.append("  \(fable) report \(run)")
        lines.append("  # a longer run of the same model, on the same data")
        lines.append("  \(fable) train --config \(run)/config.json --train \(layout.display(layout.trainTokens)) "
            + "--val \(layout.display(layout.valTokens)) \\")
        lines.append("      --set steps=\(max(1000, training.plan.steps * 4)) --out runs/longer")
        printNow(lines)
    }

    /// How the user ran fable: its path relative to the working folder when it was started
    /// by path (`.build/release/fable`), else `fable`.
    static func invocation() -> String {
        guard let first = CommandLine.arguments.first, first.contains("/") else { return "fable" }
        let url = URL(fileURLWithPath: first).standardizedFileURL
        let cwd = FileManager.default.currentDirectoryPath
        if url.path.hasPrefix(cwd + "/") {
            let relative = String(url.path.dropFirst(cwd.count + 1))
            return DemoLayout.shellQuoted(relative.hasPrefix(".") ? relative : "./" + relative)
        }
        return DemoLayout.shellQuoted(url.path)
    }
}
