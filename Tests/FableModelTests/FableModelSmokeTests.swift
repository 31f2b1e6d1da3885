import Testing
import FableTestSupport

@Suite("Test data for FableModel")
struct FableModelTestDataTests {
    @Test("the fixtures folder sits in the package")
    func fixturesFolderExists() {
        #expect(TestData.fixturesRoot.lastPathComponent == "Fixtures")
    }
}
