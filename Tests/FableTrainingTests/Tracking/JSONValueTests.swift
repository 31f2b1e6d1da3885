import Foundation
import Testing
@testable import FableTraining

@Suite("JSONValue: parsing and writing free-form JSON")
struct JSONValueTests {
    @Test("parses every kind of value, nested")
    func parsesKinds() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "x\"y\u00e9\n"}} "#)
        #expect(v == .object([
            "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("x\"yé\n")]),
        ]))
    }

    @Test("reads Python's NaN and Infinity tokens, and quoted ones as numbers")
    func nonFinite() throws {
        let v = try JSONValue.parse(#"[NaN, Infinity, -Infinity, "NaN"]"#)
        guard case .array(let items) = v else { Issue.record("not an array"); return }
        #expect(items[0].doubleValue?.isNaN == true)
        #expect(items[1].doubleValue == .infinity)
        #expect(items[2].doubleValue == -.infinity)
        #expect(items[3].doubleValue?.isNaN == true)
    }

    @Test("surrogate pairs decode to one scalar")
    func surrogates() throws {
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test("errors give the line, the column and what was expected")
    func errorPositions() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": 1,\n  \"b\" 2\n}")
            Issue.record("should have failed")
        } catch let error as JSONParseError {
            #expect(error.line == 3)
            #expect(error.column == 7)
            #expect(error.reason.contains("expected ':'"))
        } catch { Issue.record("wrong error \(error)") }
    }

    @Test("rejects what JSON forbids", arguments: ["", "{", "[1,]", "01", "1.", "\"a", "{\"a\":1} x", "tru", "{'a':1}"])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test("numbers are written in the shortest form that reads back exactly")
    func numberText() throws {
        for x in [0.1, 3e-4, 1e-5, 123456789.125, 2.0, -7.0, 1e300, Double.leastNonzeroMagnitude, 0.30000000000000004] {
            let text = JSONValue.numberText(x)
            #expect(Double(text) == x, "\(text) for \(x)")
            #expect(try JSONValue.parse(text) == .number(x))
        }
        #expect(JSONValue.numberText(2) == "2")
        #expect(JSONValue.numberText(0.001) == "0.001")
        #expect(JSONValue.numberText(.nan) == "NaN")
        #expect(JSONValue.numberText(-.infinity) == "-Infinity")
    }

    @Test("writing then parsing gives the same value")
    func roundTrip() throws {
        let v = JSONValue.object(["k\"ey": .array([.string("tab\tand\u{01}"), .number(1.5), .null]), "z": .bool(true)])
        #expect(try JSONValue.parse(v.jsonText) == v)
    }

    @Test("flattening joins nested keys with dots")
    func flatten() throws {
        let v = try JSONValue.parse(#"{"model":{"d_model":512,"rope":{"theta":10000}},"lr":0.001,"betas":[0.9,0.95]}"#)
        let flat = v.flattened
        #expect(flat["model.d_model"] == .number(512))
        #expect(flat["model.rope.theta"] == .number(10000))
        #expect(flat["lr"] == .number(0.001))
        #expect(flat["betas"] == .array([.number(0.9), .number(0.95)]))
        #expect(flat.count == 4)
    }
}
