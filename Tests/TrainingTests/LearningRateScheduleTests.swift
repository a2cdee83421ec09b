import Foundation
import Networks
import Testing
import Training

/// The learning-rate schedules step by step, and the parsing of `--schedule`.
struct LearningRateScheduleTests {
    static let base = 0.2

    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(abs(b), 1e-300) }

    @Test("constant keeps the base rate")
    func constant() {
        let schedule = LearningRateSchedule.constant
        for step in 0..<50 {
            #expect(schedule.rate(base: Self.base, step: step, stepsPerEpoch: 5, epochs: 10) == Self.base)
        }
    }

    @Test("step:2:0.1 multiplies by 0.1 every two epochs")
    func stepDecay() throws {
        let schedule = try LearningRateSchedule(argument: "step:2:0.1")
        #expect(schedule == .step(every: 2, gamma: 0.1))
        func rate(_ step: Int) -> Double { schedule.rate(base: Self.base, step: step, stepsPerEpoch: 5, epochs: 7) }
        // Epochs 0 and 1 (steps 0...9) at the base rate, epochs 2 and 3 at a tenth, ...
        for step in 0..<35 {
            let expected = Self.base * pow(0.1, Double(step / 10))
            #expect(Self.close(rate(step), expected), "step \(step): \(rate(step)) vs \(expected)")
        }
        #expect(rate(9) == Self.base)
        #expect(Self.close(rate(10), 0.02))
        #expect(Self.close(rate(19), 0.02))
        #expect(Self.close(rate(20), 0.002))
        #expect(Self.close(rate(34), 0.0002))
    }

    @Test("cosine without warm-up: the base rate first, half of it halfway, almost zero at the last step")
    func cosine() throws {
        let schedule = try LearningRateSchedule(argument: "cosine")
        #expect(schedule == .cosine(warmupEpochs: 0))
        let (perEpoch, epochs) = (10, 4)
        let rates = (0..<40).map { schedule.rate(base: Self.base, step: $0, stepsPerEpoch: perEpoch, epochs: epochs) }
        #expect(rates[0] == Self.base)
        #expect(Self.close(rates[20], Self.base / 2))
        #expect(rates[39] > 0 && rates[39] < 0.01 * Self.base)
        #expect(Self.close(rates[39], Self.base * (1 + cos(Double.pi * 39 / 40)) / 2))
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 > $1 }, "the rate must fall at every step")
    }

    @Test("cosine with one epoch of warm-up: base / warm-up first, the base rate at its end, then the cosine")
    func cosineWithWarmup() throws {
        let schedule = try LearningRateSchedule(argument: "cosine:1")
        #expect(schedule == .cosine(warmupEpochs: 1))
        // 10 warm-up steps in a run of 40; the cosine covers the remaining 30.
        let rates = (0..<40).map { schedule.rate(base: Self.base, step: $0, stepsPerEpoch: 10, epochs: 4) }
        #expect(Self.close(rates[0], Self.base / 10))
        for step in 0..<10 { #expect(Self.close(rates[step], Self.base * Double(step + 1) / 10)) }
        #expect(rates[9] == Self.base)
        #expect(rates[10] == Self.base)
        #expect(Self.close(rates[25], Self.base / 2))
        #expect(rates[39] > 0 && rates[39] < 0.01 * Self.base)
        #expect(Self.close(rates[39], Self.base * (1 + cos(Double.pi * 29 / 30)) / 2))
        #expect(zip(rates[..<10], rates[1...10]).allSatisfy { $0 <= $1 })
        #expect(zip(rates[10...], rates[11...]).allSatisfy { $0 > $1 })
    }

    @Test("a fractional warm-up rounds to whole steps; one longer than the run stops a step short of its end")
    func warmupEdges() {
        let half = LearningRateSchedule.cosine(warmupEpochs: 0.5)
        // Half an epoch of 4 steps: 2 warm-up steps.
        #expect(half.rate(base: Self.base, step: 0, stepsPerEpoch: 4, epochs: 3) == Self.base / 2)
        #expect(half.rate(base: Self.base, step: 1, stepsPerEpoch: 4, epochs: 3) == Self.base)
        #expect(half.rate(base: Self.base, step: 2, stepsPerEpoch: 4, epochs: 3) == Self.base)

        let long = LearningRateSchedule.cosine(warmupEpochs: 10)
        let rates = (0..<6).map { long.rate(base: Self.base, step: $0, stepsPerEpoch: 3, epochs: 2) }
        #expect(rates.allSatisfy { $0.isFinite && $0 > 0 && $0 <= Self.base })
        #expect(Self.close(rates[0], Self.base / 5))
        #expect(zip(rates, rates.dropFirst()).allSatisfy { $0 <= $1 })

        // A single-step run.
        #expect(LearningRateSchedule.cosine(warmupEpochs: 1).rate(base: Self.base, step: 0, stepsPerEpoch: 1, epochs: 1) == Self.base)
    }

    @Test("valid arguments parse, and their descriptions parse back to the same schedule",
          arguments: [
              ("constant", LearningRateSchedule.constant),
              ("step:30:0.1", .step(every: 30, gamma: 0.1)),
              ("step:1:0.5", .step(every: 1, gamma: 0.5)),
              ("step:2:2", .step(every: 2, gamma: 2)),
              ("cosine", .cosine(warmupEpochs: 0)),
              ("cosine:0", .cosine(warmupEpochs: 0)),
              ("cosine:5", .cosine(warmupEpochs: 5)),
              ("cosine:0.5", .cosine(warmupEpochs: 0.5)),
          ])
    func valid(_ argument: String, _ expected: LearningRateSchedule) throws {
        let schedule = try LearningRateSchedule(argument: argument)
        #expect(schedule == expected)
        #expect(try LearningRateSchedule(argument: schedule.description) == schedule)
    }

    @Test("invalid arguments are refused with an error naming --schedule",
          arguments: ["", "linear", "Cosine", "constant:1", "step", "step:30", "step:30:0.1:2", "step:0:0.1", "step:-1:0.1",
                      "step:x:0.1", "step:1.5:0.1", "step:30:0", "step:30:-0.1", "step:30:x", "step:30:nan",
                      "cosine:-1", "cosine:x", "cosine:nan", "cosine:1:2"])
    func invalid(_ argument: String) {
        let error = #expect(throws: TrainingError.self) { try LearningRateSchedule(argument: argument) }
        #expect(error?.description.contains("--schedule \(argument)") == true, "\(String(describing: error))")
    }

    /// `rate` converts the warm-up to a whole number of steps with `Int(_:)`, which traps for an
    /// infinite one, so a run with such a schedule would pass validation and then crash at its
    /// first step: the argument must be refused when parsed, as `--lr inf` is.
    @Test("a non-finite warm-up is refused, by the parser and by the configuration",
          arguments: ["cosine:inf", "cosine:infinity"])
    func infiniteWarmup(_ argument: String) {
        #expect(throws: TrainingError.self) { _ = try LearningRateSchedule(argument: argument) }
        let configuration = TrainingConfiguration(architecture: Architecture(family: .mlp, side: 6, hidden: 8), batchSize: 16,
                                                  schedule: argument)
        #expect(throws: TrainingError.self) { try configuration.validate() }
    }
}
