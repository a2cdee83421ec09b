import LandscapeCore
import Testing
import Training

/// Random crops with padding and horizontal flips, alone and through the batch loader.
struct AugmentationTests {
    /// An image of `height x width x channels` whose values are `1 + index`: all distinct and none
    /// equal to the padding value 0.
    static func image(height: Int, width: Int, channels: Int) -> [Float] {
        (0..<height * width * channels).map { Float(1 + $0) }
    }

    /// The image moved by `(dy, dx)` (output pixel `(y, x)` is source pixel `(y + dy, x' + dx)`,
    /// `x'` mirrored when `flip`), 0 outside: the documented transform, pixel by pixel.
    static func transformed(_ image: [Float], height: Int, width: Int, channels: Int, dy: Int, dx: Int, flip: Bool) -> [Float] {
        var output = [Float](repeating: 0, count: image.count)
        for y in 0..<height {
            for x in 0..<width {
                let sy = y + dy, sx = (flip ? width - 1 - x : x) + dx
                guard (0..<height).contains(sy), (0..<width).contains(sx) else { continue }
                for c in 0..<channels {
                    output[(y * width + x) * channels + c] = image[(sy * width + sx) * channels + c]
                }
            }
        }
        return output
    }

    /// `count` copies of `image` after `augmentation`, one array per copy.
    static func augmentCopies(
        _ image: [Float], count: Int, height: Int, width: Int, channels: Int, augmentation: Augmentation, seed: UInt64
    ) -> [[Float]] {
        var batch = Array([[Float]](repeating: image, count: count).joined())
        var scratch = [Float](repeating: .nan, count: image.count)
        var generator = RandomGenerator(seed: seed)
        batch.withUnsafeMutableBufferPointer { images in
            scratch.withUnsafeMutableBufferPointer { scratch in
                augmentation.apply(to: images.baseAddress!, count: count, height: height, width: width, channels: channels,
                                   generator: &generator, scratch: scratch.baseAddress!)
            }
        }
        return (0..<count).map { Array(batch[$0 * image.count ..< ($0 + 1) * image.count]) }
    }

    @Test("a flip mirrors the image exactly; about half of the images are flipped")
    func flipMirrors() {
        let (height, width, channels) = (3, 4, 2)
        let original = Self.image(height: height, width: width, channels: channels)
        // Mirrored by hand: row 0 of channel 0 is 1, 3, 5, 7, so it becomes 7, 5, 3, 1.
        let mirror = Self.transformed(original, height: height, width: width, channels: channels, dy: 0, dx: 0, flip: true)
        #expect(Array(mirror.prefix(8)) == [7, 8, 5, 6, 3, 4, 1, 2])

        let outputs = Self.augmentCopies(original, count: 64, height: height, width: width, channels: channels,
                                         augmentation: Augmentation(horizontalFlip: true), seed: 1)
        #expect(outputs.allSatisfy { $0 == original || $0 == mirror })
        let flipped = outputs.filter { $0 == mirror }.count
        #expect(flipped > 16 && flipped < 48)
    }

    @Test("a crop with padding p shifts the content by at most p and fills with 0; every shift occurs", arguments: [false, true])
    func cropShifts(flip: Bool) {
        let (height, width, channels, p) = (5, 6, 3, 2)
        let original = Self.image(height: height, width: width, channels: channels)
        let outputs = Self.augmentCopies(original, count: 400, height: height, width: width, channels: channels,
                                         augmentation: Augmentation(cropPadding: p, horizontalFlip: flip), seed: 2)
        var seen: Set<[Int]> = []
        for output in outputs {
            let candidates = (-p...p).flatMap { dy in (-p...p).flatMap { dx in (flip ? [false, true] : [false]).map { [dy, dx, $0 ? 1 : 0] } } }
            let matches = candidates.filter {
                Self.transformed(original, height: height, width: width, channels: channels, dy: $0[0], dx: $0[1], flip: $0[2] == 1) == output
            }
            #expect(matches.count == 1, "an output is no shift of at most \(p) pixels")
            seen.formUnion(matches)
        }
        #expect(seen.count == 25 * (flip ? 2 : 1))
    }

    @Test("padding wider than the image leaves only the part that overlaps, or nothing")
    func widePadding() {
        let original = Self.image(height: 2, width: 3, channels: 1)
        let outputs = Self.augmentCopies(original, count: 100, height: 2, width: 3, channels: 1,
                                         augmentation: Augmentation(cropPadding: 5), seed: 3)
        let shifts = (-5...5).flatMap { dy in (-5...5).map { dx in (dy, dx) } }
        for output in outputs {
            #expect(shifts.contains { Self.transformed(original, height: 2, width: 3, channels: 1, dy: $0.0, dx: $0.1, flip: false) == output })
        }
        #expect(outputs.contains { $0.allSatisfy { $0 == 0 } })
    }

    @Test("the same generator gives the same augmentation; .none changes nothing")
    func generatorDeterminism() {
        let original = Self.image(height: 4, width: 4, channels: 3)
        let augmentation = Augmentation(cropPadding: 1, horizontalFlip: true)
        let a = Self.augmentCopies(original, count: 10, height: 4, width: 4, channels: 3, augmentation: augmentation, seed: 4)
        #expect(Self.augmentCopies(original, count: 10, height: 4, width: 4, channels: 3, augmentation: augmentation, seed: 4) == a)
        #expect(Self.augmentCopies(original, count: 10, height: 4, width: 4, channels: 3, augmentation: augmentation, seed: 5) != a)

        #expect(Augmentation.none.isNone && Augmentation().isNone)
        #expect(!augmentation.isNone && !Augmentation(cropPadding: 4).isNone && !Augmentation(horizontalFlip: true).isNone)
        let untouched = Self.augmentCopies(original, count: 3, height: 4, width: 4, channels: 3, augmentation: .none, seed: 4)
        #expect(untouched.allSatisfy { $0 == original })
    }

    // MARK: - Through the batch loader

    /// The batches of `epoch`, copied out, visiting the batch indices in `indices` order.
    static func batches(_ loader: BatchLoader, epoch: Int, indices: [Int]) -> [Int: [Float]] {
        loader.startEpoch(epoch)
        var result: [Int: [Float]] = [:]
        for index in indices {
            result[index] = Array(loader.batch(index).images.elements)
        }
        return result
    }

    @Test("an augmented batch depends only on the seed, the epoch and the batch index")
    func loaderDeterminism() {
        let data = SyntheticData.randomImages(count: 20, side: 6, channels: 2, classes: 3, seed: 1)
        let augmentation = Augmentation(cropPadding: 2, horizontalFlip: true)
        let forward = BatchLoader(data, batchSize: 8, seed: 11, augmentation: augmentation)
        let epoch1 = Self.batches(forward, epoch: 1, indices: [0, 1, 2])
        let epoch2 = Self.batches(forward, epoch: 2, indices: [0, 1, 2])

        // Another loader, batches in another order, epochs visited out of order: the same batches.
        let resumed = BatchLoader(data, batchSize: 8, seed: 11, augmentation: augmentation)
        #expect(Self.batches(resumed, epoch: 2, indices: [2, 0, 1]) == epoch2)
        #expect(Self.batches(resumed, epoch: 1, indices: [1, 2, 0, 1]) == epoch1)
        #expect(epoch1 != epoch2)
        let other = BatchLoader(data, batchSize: 8, seed: 12, augmentation: augmentation)
        #expect(Self.batches(other, epoch: 1, indices: [0, 1, 2]) != epoch1)

        // The documented generator, applied to the unaugmented batch, gives the same images.
        let plain = BatchLoader(data, batchSize: 8, seed: 11)
        let raw = Self.batches(plain, epoch: 1, indices: [0, 1, 2])
        for index in 0..<3 {
            var images = raw[index]!
            var scratch = [Float](repeating: 0, count: data.sampleSize)
            var generator = RandomGenerator(seed: 11, stream: 0x4155_4700 + (1 << 20) + UInt64(index))
            images.withUnsafeMutableBufferPointer { images in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    augmentation.apply(to: images.baseAddress!, count: images.count / data.sampleSize, height: 6, width: 6,
                                       channels: 2, generator: &generator, scratch: scratch.baseAddress!)
                }
            }
            #expect(images == epoch1[index], "batch \(index)")
            #expect(raw[index] != epoch1[index])
        }
    }

    @Test("without augmentation the loader's batches are the raw samples")
    func loaderWithoutAugmentation() {
        let data = SyntheticData.randomImages(count: 10, side: 3, channels: 2, classes: 2, seed: 6)
        let loader = BatchLoader(data, batchSize: 4, seed: 5, augmentation: .none)
        #expect(loader.augmentation == .none)
        loader.startEpoch(3)
        var generator = RandomGenerator(seed: 5, stream: 4)
        let order = generator.permutation(10)
        for index in 0..<loader.batchCount {
            let (images, labels) = loader.batch(index)
            for i in 0..<images.shape.n {
                let sample = order[index * 4 + i]
                let pixels = Array(images.elements[i * data.sampleSize ..< (i + 1) * data.sampleSize])
                #expect(pixels == Array(data.images[sample * data.sampleSize ..< (sample + 1) * data.sampleSize]))
                #expect(labels[i] == data.labels[sample])
            }
        }
    }
}
