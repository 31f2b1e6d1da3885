import Testing
import FableTestSupport

@Suite("Test data for FableTokenizer")
struct FableTokenizerTestDataTests {
    @Test("the fixtures folder sits in the package")
    func fixturesFolderExists() {
        #expect(TestData.fixturesRoot.lastPathComponent == "Fixtures")
    }
}
