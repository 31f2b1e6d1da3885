import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses `text` as XML and says why it is not well-formed, or nil when it is.
/// On Linux `XMLParser.parse()` can return true despite an error, so the error is checked too.
func xmlProblem(_ text: String) -> String? {
    let parser = XMLParser(data: Data(text.utf8))
    let ok = parser.parse()
    if let error = parser.parserError { return "\(error) at line \(parser.lineNumber), column \(parser.columnNumber)" }
    return ok ? nil : "parse failed"
}

/// Each `<svg ...>...</svg>` element in `html`, in order.
func svgElements(in html: String) -> [String] {
    var result: [String] = []
    var rest = html[...]
    while let start = rest.range(of: "<svg"), let end = rest.range(of: "</svg>", range: start.upperBound..<rest.endIndex) {
        result.append(String(rest[start.lowerBound..<end.upperBound]))
        rest = rest[end.upperBound...]
    }
    return result
}
