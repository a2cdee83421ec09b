import Analysis
import Testing

/// Grid axes written `min:max:count`, with the coordinates `numpy.linspace(min, max, count)` gives.
struct GridAxisTests {
    /// numpy's `linspace(start, stop, num)` with the default `endpoint=True`: `arange(num) * step +
    /// start` with `step = (stop - start) / (num - 1)`, and the last element set to `stop`.
    static func linspace(_ start: Double, _ stop: Double, _ num: Int) -> [Double] {
        guard num > 1 else { return num == 1 ? [start] : [] }
        let step = (stop - start) / Double(num - 1)
        var y = (0..<num).map { Double($0) * step + start }
        y[num - 1] = stop
        return y
    }

    @Test("-1:1:51 has 51 values from -1 to exactly 1 with 0 in the middle")
    func defaultGrid() throws {
        let axis = try GridAxis(argument: "-1:1:51")
        #expect(axis.minimum == -1)
        #expect(axis.maximum == 1)
        #expect(axis.count == 51)
        let values = axis.values
        #expect(values.count == 51)
        #expect(values.first == -1)
        #expect(values.last == 1)
        #expect(abs(values[25]) <= 1e-15)
        #expect(zip(values, values.dropFirst()).allSatisfy { $0 < $1 })
        for (i, value) in values.enumerated() {
            #expect(abs(value - (-1 + Double(i) / 25)) <= 1e-15, "value \(i)")
        }
        #expect(axis.description == "-1.0:1.0:51")
        #expect(try GridAxis(argument: axis.description) == axis)
    }

    @Test("0:1.5:4 is 0, 0.5, 1, 1.5")
    func quarterSteps() throws {
        let axis = try GridAxis(argument: "0:1.5:4")
        #expect(axis.values == [0, 0.5, 1, 1.5])
    }

    @Test("2:2:1 is the single value 2")
    func singlePoint() throws {
        let axis = try GridAxis(argument: "2:2:1")
        #expect(axis.count == 1)
        #expect(axis.values == [2])
        // One point need not have min = max: it is min, as linspace gives.
        #expect(try GridAxis(argument: "-0.5:3:1").values == [-0.5])
    }

    @Test("the values are numpy.linspace's, bit for bit",
          arguments: ["-1:1:51", "0:1.5:4", "2:2:1", "-1:1:21", "-0.3:0.7:31", "0.1:0.2:3", "-2.5:1e-3:17", "1e-8:3e-8:7", "-1:1:2"])
    func linspaceValues(argument: String) throws {
        let axis = try GridAxis(argument: argument)
        let expected = Self.linspace(axis.minimum, axis.maximum, axis.count)
        #expect(axis.values == expected)
        #expect(axis.values.count == axis.count)
        #expect(axis.values.last == axis.maximum)
    }

    @Test("malformed or impossible grids are errors", arguments: [
        "1:-1:5", "a:b:c", "-1:1", "-1:1:0", "nan:1:3", "-1:nan:3", "-inf:1:3", "-1:1:-3", "2:2:3", "-1:1:2.5", "-1:1:5:7", "", "::",
    ])
    func invalid(argument: String) throws {
        let error = try #require(throws: AnalysisError.self) { try GridAxis(argument: argument) }
        #expect(error.description.contains("grid"))
        #expect(!error.description.contains("\n"))
    }

    @Test("the memberwise initializer checks the same conditions")
    func memberwise() throws {
        #expect(try GridAxis(minimum: -1, maximum: 1, count: 3).values == [-1, 0, 1])
        #expect(throws: AnalysisError.self) { try GridAxis(minimum: 1, maximum: -1, count: 3) }
        #expect(throws: AnalysisError.self) { try GridAxis(minimum: 0, maximum: 1, count: 0) }
        #expect(throws: AnalysisError.self) { try GridAxis(minimum: 0, maximum: .infinity, count: 3) }
        #expect(throws: AnalysisError.self) { try GridAxis(minimum: .nan, maximum: 1, count: 3) }
    }
}
