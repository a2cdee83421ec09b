import LandscapeCore

/// Random training-time transformations of a batch of images: a padded random crop and a random
/// horizontal flip, the standard CIFAR recipe (`cropPadding: 4, horizontalFlip: true`). Off by
/// default: the Fashion-MNIST reference training uses none.
///
/// Padding is with 0 in normalised space, which is the training-set mean colour. PyTorch's
/// `RandomCrop(padding:)`, applied before `Normalize`, pads the raw image with black instead, which
/// normalisation turns into `-mean_c / std_c` per channel (-1.99, -1.98, -1.71 for CIFAR-10). The
/// translations are the same; only the value of the border pixels differs (mean grey here, black
/// there). Padding with the mean keeps this type independent of any data set's statistics.
public struct Augmentation: Equatable, Sendable {
    /// Pixels of padding on each side before a random crop back to the original size; 0 disables
    /// cropping.
    public var cropPadding: Int
    /// Whether to mirror each image left to right with probability 1/2.
    public var horizontalFlip: Bool

    /// An augmentation; the defaults do nothing, `Augmentation(cropPadding: 4, horizontalFlip: true)`
    /// is the usual CIFAR setting.
    public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
        precondition(cropPadding >= 0, "Augmentation: crop padding \(cropPadding) is negative")
        self.cropPadding = cropPadding
        self.horizontalFlip = horizontalFlip
    }

    /// No augmentation: batches pass through unchanged.
    public static let none = Augmentation()

    /// Whether this leaves every image unchanged.
    public var isNone: Bool { cropPadding == 0 && !horizontalFlip }

    /// Transforms `count` channels-last images of `height x width x channels` in place, each
    /// independently.
    ///
    /// For each image, in order, with `p = cropPadding`: if `p > 0`, offsets `dy` and `dx` are drawn
    /// uniformly from `0...2p` (`generator.integer(below: 2p + 1)`, `dy` first); if `horizontalFlip`,
    /// a flip is drawn (`generator.integer(below: 2) == 1`). The output is then
    ///
    ///     out[y][x] = in[y + dy - p][x' + dx - p],   x' = flip ? width - 1 - x : x,
    ///
    /// with 0 where the source lies outside the image: the crop of the padded image at `(dy, dx)`,
    /// then mirrored, as PyTorch's `RandomCrop` followed by `RandomHorizontalFlip` does. `scratch`
    /// must hold one image (`height * width * channels` floats); nothing is allocated.
    public func apply(
        to images: UnsafeMutablePointer<Float>, count: Int, height: Int, width: Int, channels: Int,
        generator: inout RandomGenerator, scratch: UnsafeMutablePointer<Float>
    ) {
        guard !isNone else { return }
        let p = cropPadding
        let rowSize = width * channels
        let size = height * rowSize
        for n in 0..<count {
            let dy = p > 0 ? generator.integer(below: 2 * p + 1) - p : 0
            let dx = p > 0 ? generator.integer(below: 2 * p + 1) - p : 0
            let flip = horizontalFlip && generator.integer(below: 2) == 1
            // The centred crop without a flip is the identity.
            guard dy != 0 || dx != 0 || flip else { continue }

            let image = images + n * size
            scratch.update(from: image, count: size)
            for y in 0..<height {
                let row = image + y * rowSize
                let sourceY = y + dy
                guard sourceY >= 0, sourceY < height else {
                    row.update(repeating: 0, count: rowSize)
                    continue
                }
                let sourceRow = scratch + sourceY * rowSize
                if flip {
                    for x in 0..<width {
                        let sourceX = width - 1 - x + dx
                        if sourceX >= 0, sourceX < width {
                            (row + x * channels).update(from: sourceRow + sourceX * channels, count: channels)
                        } else {
                            (row + x * channels).update(repeating: 0, count: channels)
                        }
                    }
                } else {
                    // Columns lower..<upper (those with 0 <= x + dx < width) come from the source row
                    // as one block; the rest are padding. The clamps cover padding wider than the image.
                    let lower = min(width, max(0, -dx))
                    let upper = max(lower, min(width, width - dx))
                    row.update(repeating: 0, count: lower * channels)
                    if upper > lower {
                        (row + lower * channels).update(from: sourceRow + (lower + dx) * channels, count: (upper - lower) * channels)
                    }
                    (row + upper * channels).update(repeating: 0, count: (width - upper) * channels)
                }
            }
        }
    }
}
