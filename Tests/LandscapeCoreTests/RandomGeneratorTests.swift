import LandscapeCore
import Numerics
import Testing

/// The seeded generator: xoshiro256** filled by SplitMix64 from `seed ^ (stream * 0xD1B54A32D192ED03)`.
///
/// The golden values are those of the published algorithms (Blackman and Vigna's xoshiro256**,
/// Steele, Lea and Flood's SplitMix64) for these seeds, so a change to the generator, the seeding
/// or the conversions shows up here rather than as a silently different run.
struct RandomGeneratorTests {
    @Test("first outputs of seed 0 and seed 42 match the reference xoshiro256** seeded by SplitMix64", arguments: [
        (UInt64(0), [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0, 0x6AA5_94F1_262D_2D2C, 0xBBA5_AD4A_1F84_2E59]),
        (UInt64(42), [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1, 0xFDE6_DC7F_E2EC_5E64]),
    ] as [(UInt64, [UInt64])])
    func goldenOutputs(seed: UInt64, expected: [UInt64]) {
        var generator = RandomGenerator(seed: seed)
        let outputs = (0..<expected.count).map { _ in generator.next() }
        #expect(outputs == expected)
    }

    @Test("the stream is mixed into the seed as seed ^ (stream * 0xD1B54A32D192ED03)")
    func goldenStreams() {
        var streamOne = RandomGenerator(seed: 1, stream: 1)
        #expect(streamOne.next() == 0xBAA2_4E21_D05C_2935)
        var streamZero = RandomGenerator(seed: 1, stream: 0)
        #expect(streamZero.next() == 0xB3F2_AF6D_0FC7_10C5)
        var other = RandomGenerator(seed: 7, stream: 3)
        #expect((0..<3).map { _ in other.next() } == [0xD88D_886B_B833_247C, 0xCAE3_895E_9C25_6B2D, 0x1D57_2D31_5B1E_C89F])
        // The default stream is 0.
        var implicit = RandomGenerator(seed: 1)
        #expect(implicit.next() == 0xB3F2_AF6D_0FC7_10C5)
    }

    @Test("uniform() is the top 53 bits times 2^-53")
    func goldenUniforms() {
        var generator = RandomGenerator(seed: 0)
        #expect((0..<3).map { _ in generator.uniform() } == [0.6012629994179048, 0.7477740925472398, 0.10301998939503632])
    }

    @Test("normal() is the Box-Muller transform of two uniforms")
    func goldenNormals() {
        var generator = RandomGenerator(seed: 42)
        let expected = [-0.303263064678738, 1.3438117634372806, 0.3834617912676943]
        for value in expected {
            // log and cos come from the platform's libm, so allow a few ulps.
            let deviate = generator.normal()
            #expect(deviate.isApproximatelyEqual(to: value, relativeTolerance: 1e-13), "\(deviate) vs \(value)")
        }
    }

    @Test("integer(below:) and permutation(_:) match the reference Lemire and Fisher-Yates draws")
    func goldenIntegersAndPermutation() {
        var integers = RandomGenerator(seed: 42)
        #expect((0..<12).map { _ in integers.integer(below: 6) } == [0, 2, 4, 5, 5, 4, 4, 5, 4, 3, 4, 1])
        var shuffler = RandomGenerator(seed: 42)
        #expect(shuffler.permutation(10) == [9, 1, 4, 2, 8, 7, 6, 5, 3, 0])
    }

    @Test("the same seed and stream give the same sequence", arguments: [(UInt64(0), UInt64(0)), (17, 0), (17, 5), (.max, .max)])
    func reproducible(seed: UInt64, stream: UInt64) {
        var a = RandomGenerator(seed: seed, stream: stream)
        var b = RandomGenerator(seed: seed, stream: stream)
        let first = (0..<1000).map { _ in a.next() }
        let second = (0..<1000).map { _ in b.next() }
        #expect(first == second)
    }

    @Test("different streams and different seeds give different sequences")
    func streamsDiffer() {
        func prefix(seed: UInt64, stream: UInt64) -> [UInt64] {
            var generator = RandomGenerator(seed: seed, stream: stream)
            return (0..<16).map { _ in generator.next() }
        }
        let sequences = (0..<8).map { prefix(seed: 17, stream: $0) } + [prefix(seed: 18, stream: 0)]
        #expect(Set(sequences).count == sequences.count)
        // No two streams share even a single one of their first outputs.
        #expect(Set(sequences.flatMap { $0 }).count == sequences.count * 16)
    }

    @Test("uniform() lies in [0, 1) and uniform(lower, upper) in [lower, upper)")
    func uniformRange() {
        var generator = RandomGenerator(seed: 3)
        let uniforms = (0..<100_000).map { _ in generator.uniform() }
        #expect(uniforms.allSatisfy { 0 <= $0 && $0 < 1 })
        #expect(uniforms.min()! < 1e-3 && uniforms.max()! > 1 - 1e-3)
        let scaled = (0..<10_000).map { _ in generator.uniform(-0.5, 2) }
        #expect(scaled.allSatisfy { -0.5 <= $0 && $0 < 2 })
        #expect(scaled.min()! < -0.49 && scaled.max()! > 1.99)
    }

    @Test("100k normal deviates have mean 0 and variance 1 within 0.02")
    func normalMoments() {
        var generator = RandomGenerator(seed: 11)
        let count = 100_000
        var sum = 0.0, sumOfSquares = 0.0
        var allFinite = true
        for _ in 0..<count {
            let x = generator.normal()
            allFinite = allFinite && x.isFinite
            sum += x
            sumOfSquares += x * x
        }
        let mean = sum / Double(count)
        let variance = sumOfSquares / Double(count) - mean * mean
        #expect(allFinite)
        #expect(abs(mean) < 0.02, "mean \(mean)")
        #expect(abs(variance - 1) < 0.02, "variance \(variance)")
    }

    @Test("integer(below:) stays in range and is uniform over 0..<6: each frequency within 0.02 of 1/6")
    func integerFrequencies() {
        var generator = RandomGenerator(seed: 5)
        let draws = 60_000
        var counts = [Int](repeating: 0, count: 6)
        var outside = 0
        for _ in 0..<draws {
            let k = generator.integer(below: 6)
            if (0..<6).contains(k) { counts[k] += 1 } else { outside += 1 }
        }
        #expect(outside == 0)
        for (value, count) in counts.enumerated() {
            let frequency = Double(count) / Double(draws)
            #expect(abs(frequency - 1.0 / 6) < 0.02, "\(value) has frequency \(frequency)")
        }
        // A sharper test of the same: Pearson's chi-squared with 5 degrees of freedom stays below
        // 20.5, its 99.9th percentile.
        let expected = Double(draws) / 6
        let chiSquared = counts.map { (Double($0) - expected) * (Double($0) - expected) / expected }.reduce(0, +)
        #expect(chiSquared < 20.5, "chi-squared \(chiSquared) for counts \(counts)")
        for bound in [1, 2, 7, 1000, Int(Int32.max), Int.max] {
            let values = (0..<200).map { _ in generator.integer(below: bound) }
            #expect(values.allSatisfy { (0..<bound).contains($0) }, "bound \(bound)")
        }
    }

    @Test("permutation(n) is a permutation of 0..<n and depends only on the seed", arguments: [0, 1, 2, 10, 1000])
    func permutation(count: Int) {
        var a = RandomGenerator(seed: 23)
        var b = RandomGenerator(seed: 23)
        let order = a.permutation(count)
        #expect(order.sorted() == Array(0..<count))
        #expect(b.permutation(count) == order)
        if count >= 10 {
            var other = RandomGenerator(seed: 24)
            #expect(other.permutation(count) != order)
            #expect(order != Array(0..<count))
        }
    }
}
