// Times reading GPT-2's vocab.json: the strict FableFormats JSONParser against the
// one-purpose reader it replaced (VocabularyJSON at commit 01a2d16, fetched from git by
// vocab_load_bench.sh and never committed), plus the whole load path
// (Vocabulary.readVocabJSON: parse, id checks, byte-to-unicode decoding) and a plain
// byte scan as the memory-speed ceiling. Built and run by vocab_load_bench.sh.
import FableFormats
import Foundation

/// CPU time of this thread in seconds (not wall time: the machine may be shared).
private func threadSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

private func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// Old path: read the file as 01a2d16 did, its reader, then the same id checks and
/// decoding as readVocabJSON.
private func oldLoad(_ url: URL) throws -> [[UInt8]] {
    let bytes = [UInt8](try Data(contentsOf: url))
    let entries = try bytes.withUnsafeBufferPointer { try VocabularyJSON.parse($0) }
    var tokens = [[UInt8]?](repeating: nil, count: entries.count)
    for entry in entries {
        guard entry.id < entries.count, tokens[entry.id] == nil else { throw CocoaError(.coderReadCorrupt) }
        guard case .success(let decoded) = ByteLevel.decode(entry.key) else { throw CocoaError(.coderReadCorrupt) }
        tokens[entry.id] = decoded
    }
    return tokens.map { $0! }
}

@main
struct VocabLoadBench {
    static func main() throws {
        let arguments = CommandLine.arguments
        let path = arguments[1]
        let rounds = arguments.count > 2 ? Int(arguments[2])! : 21
        let url = URL(fileURLWithPath: path)
        let bytes = [UInt8](try Data(contentsOf: url))
        let megabytes = Double(bytes.count) / 1e6
        var sink = 0
        var times: [String: [Double]] = [:]
        func time(_ name: String, _ body: () throws -> Int) rethrows {
            let start = threadSeconds()
            sink &+= try body()
            times[name, default: []].append(threadSeconds() - start)
        }
        let names = ["byte scan", "old reader (01a2d16)", "JSONParser.parseMembers", "old load path (01a2d16)", "readVocabJSON (new load path)"]
        try bytes.withUnsafeBufferPointer { buffer in
            let raw = UnsafeRawBufferPointer(buffer)
            for round in 0...rounds {  // round 0 warms up and is dropped
                time(names[0]) {
                    var quotes = 0
                    for byte in buffer where byte == UInt8(ascii: "\"") { quotes &+= 1 }
                    return quotes
                }
                try time(names[1]) { try VocabularyJSON.parse(buffer).count }
                try time(names[2]) { try JSONParser.parseMembers(raw).count }
                try time(names[3]) { try oldLoad(url).count }
                try time(names[4]) { try Vocabulary.readVocabJSON(url).count }
                if round == 0 { times = [:] }
            }
        }
        print("file \(path): \(bytes.count) bytes; \(rounds) rounds, thread CPU time, median (min)")
        for name in names {
            let t = times[name]!
            print(name.padding(toLength: 30, withPad: " ", startingAt: 0) + String(format: " %8.2f ms (%6.2f)  %7.0f MB/s", median(t) * 1e3, t.min()! * 1e3, megabytes / median(t)))
        }
        let ratio = median(times[names[2]]!) / median(times[names[1]]!)
        let loadRatio = median(times[names[4]]!) / median(times[names[3]]!)
        print(String(format: "parse new/old %.2f, load path new/old %.2f (both load paths read the file)", ratio, loadRatio))
        if sink == 42 { print("") }
    }
}
