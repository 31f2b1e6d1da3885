import FableTokenizer
import FableStories
import FableTraining
import Foundation

/// The data the demo trains on, and what it takes to beat.
struct DemoData {
    let train: TokenDataset
    let val: TokenDataset
    /// The tokenizer's vocabulary size (the model's vocab_size).
    let vocabSize: Int
    let split: CorpusSplitter.Summary
    /// Cross-entropy of the validation tokens under the training split's unigram
    /// distribution, in nats per token.
    let baseline: Double

    /// Validation tokens per validation byte: turns nats per token into bits per byte.
    var tokensPerByte: Double { Double(val.count) / Double(max(split.validationBytes, 1)) }

    /// A loss in nats per token as bits per byte of validation text.
    func bitsPerByte(_ nats: Double) -> Double { nats / log(2) * tokensPerByte }

    var record: DemoSummary.DataRecord {
        DemoSummary.DataRecord(
            vocabSize: vocabSize, trainDocuments: split.trainDocuments, valDocuments: split.validationDocuments,
            trainTokens: train.count, valTokens: val.count, valBytes: split.validationBytes, unigramBaseline: baseline)
    }
}

extension DemoPipeline {
    /// The special token that separates documents.
    static let endOfText = StoryGenerator.endOfText

    // MARK: - 1. Corpus

    /// The corpus file: the given one, or the built-in stories written to DIR/corpus.txt.
    func makeCorpus() throws -> (url: URL, bytes: Int) {
        if let corpusPath {
            let url = URL(fileURLWithPath: corpusPath).standardizedFileURL
            let size = try CorpusSplitter.inspect(url)
            printStep("corpus", "\(layout.display(url)) (\(HumanFormat.bytes(Double(size))))")
            return (url, size)
        }
        let stories = Self.storyCount(minutes: minutes)
        let (statistics, seconds) = try timed {
            try StoryCorpus.write(stories: stories, seed: UInt64(seed), to: layout.corpus)
        }
        printStep("corpus", "\(Self.grouped(stories)) generated stories, "
            + "\(HumanFormat.bytes(Double(statistics.bytes))), \(Self.grouped(statistics.distinctWords)) distinct words "
            + "-> \(layout.display(layout.corpus))", seconds: seconds)
        return (layout.corpus, statistics.bytes)
    }

    /// Stories of the built-in corpus for a budget: about the tokens a fast 2-core machine
    /// trains on in that time, so batches rarely repeat, within the corpus cap.
    static func storyCount(minutes: Double) -> Int {
        let wanted = Int((minutes * Double(storiesPerMinute)).rounded(.up))
        return min(max(wanted, 4_000), corpusCapMiB * 1_200)
    }

    // MARK: - 2. Splits

    /// Holds out one document in ``validationEvery`` into DIR/data/val.txt.
    func splitCorpus(_ corpus: URL) throws -> CorpusSplitter.Summary {
        let splitter = CorpusSplitter(separator: Self.endOfText, validationEvery: Self.validationEvery,
                                      maxBytes: Self.corpusCapMiB << 20)
        let (split, seconds) = try timed {
            try splitter.split(input: corpus, train: layout.trainText, validation: layout.valText)
        }
        let unit = split.hasSeparators ? "documents" : "lines"
        printStep("splits", "\(Self.grouped(split.trainDocuments)) training and "
            + "\(Self.grouped(split.validationDocuments)) validation \(unit) "
            + "(1 in \(Self.validationEvery) held out) -> \(layout.display(layout.data))/{train,val}.txt", seconds: seconds)
        if split.isTruncated {
            printDetail("used the first \(HumanFormat.bytes(Double(split.usedBytes))) of "
                + "\(HumanFormat.bytes(Double(split.inputBytes))): more than \(HumanFormat.duration(minutes * 60)) of training reads")
        }
        if !split.hasSeparators {
            printDetail("no \(Self.endOfText) in the file: split by lines, so the model never learns where a document ends")
        }
        return split
    }

    // MARK: - 3. Tokenizer

    /// Trains the BPE tokenizer on the training split and saves it to DIR/tokenizer.
    func trainTokenizer() throws -> Tokenizer {
        let trainer = try BPETrainer(.init(vocabSize: Self.vocabularySize, specialTokens: [Self.endOfText],
                                           threads: threads))
        let ((result, tokenizer), seconds) = try timed { () throws -> (BPETrainingResult, Tokenizer) in
            let result = try trainer.train(file: layout.trainText.path)
            try result.vocabulary.save(to: layout.tokenizer)
            return (result, try Tokenizer(vocabulary: result.vocabulary))
        }
        let size = tokenizer.vocabularySize
        let note = size < Self.vocabularySize ? " (the corpus allows no more merges)" : ""
        printStep("tokenizer", "byte-level BPE, \(Self.grouped(size)) tokens\(note): 256 bytes, "
            + "\(Self.grouped(result.vocabulary.merges.count)) merges, \(Self.endOfText) -> \(layout.display(layout.tokenizer))/",
            seconds: seconds)
        return tokenizer
    }

    // MARK: - 4. Data and baseline

    /// Encodes both splits to .npy and measures the unigram baseline.
    func encodeSplits(_ tokenizer: Tokenizer, split: CorpusSplitter.Summary) throws -> DemoData {
        let encoder = TokenFileEncoder(tokenizer: tokenizer, threads: threads)
        let ((train, val), seconds) = try timed { () throws -> (TokenDataset, TokenDataset) in
            _ = try encoder.encode(input: layout.trainText, output: layout.trainTokens)
            _ = try encoder.encode(input: layout.valText, output: layout.valTokens)
            return (try TokenDataset(url: layout.trainTokens), try TokenDataset(url: layout.valTokens))
        }
        if train.count < 4 * Self.minimumContext || val.count < Self.minimumContext + 1 {
            throw DemoError.corpusTooSmall(path: corpusPath ?? layout.corpus.path, trainTokens: train.count,
                                           valTokens: val.count)
        }
        let bytesPerToken = Double(split.trainBytes + split.validationBytes) / Double(max(train.count + val.count, 1))
        printStep("data", "train \(HumanFormat.count(Double(train.count))) tokens, val \(HumanFormat.count(Double(val.count))) "
            + "tokens (\(HumanFormat.fixed(bytesPerToken, decimals: 2)) bytes per token) -> "
            + "\(layout.display(layout.data))/{train,val}.npy", seconds: seconds)

        let (baseline, baselineSeconds) = try timed { () throws -> Double in
            let unigram = try UnigramBaseline(training: train, vocabSize: tokenizer.vocabularySize)
            return try unigram.crossEntropy(of: val)
        }
        let data = DemoData(train: train, val: val, vocabSize: tokenizer.vocabularySize, split: split, baseline: baseline)
        printStep("baseline", "unigram: \(HumanFormat.fixed(baseline, decimals: 3)) nats/token "
            + "(\(HumanFormat.fixed(data.bitsPerByte(baseline), decimals: 3)) bits/byte) on the validation tokens, "
            + "predicting each token from its frequency in the training split", seconds: baselineSeconds)
        return data
    }
}
