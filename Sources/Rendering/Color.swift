/// An opaque sRGB colour with components in 0...1.
public struct Color: Equatable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// From 8-bit components.
    public init(_ red: Int, _ green: Int, _ blue: Int) {
        self.init(red: Double(red) / 255, green: Double(green) / 255, blue: Double(blue) / 255)
    }

    /// The straight line from `self` (t = 0) to `other` (t = 1).
    public func mixed(with other: Color, _ t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t, blue: blue + (other.blue - blue) * t)
    }

    /// `self` darkened (factor < 1) or lightened towards white (factor > 1).
    public func shaded(_ factor: Double) -> Color {
        factor <= 1 ? Color(red: red * factor, green: green * factor, blue: blue * factor)
            : mixed(with: .white, min(factor - 1, 1))
    }

    public static let white = Color(255, 255, 255)
    public static let black = Color(0, 0, 0)
    /// Text, axes and ticks.
    public static let ink = Color(34, 34, 34)
    /// Grid lines and frames of secondary elements.
    public static let rule = Color(190, 190, 190)
    /// Cells that hold no valid value (not computed, or not finite).
    public static let missing = Color(204, 204, 204)
    /// The minimum's marker: a red that no colormap here contains.
    public static let marker = Color(230, 25, 45)

    /// Colours for several curves: the colour-blind-safe palette of Okabe and Ito ("Color Universal
    /// Design", 2008), without its black and yellow.
    public static let series: [Color] = [
        Color(0, 114, 178), Color(213, 94, 0), Color(0, 158, 115), Color(204, 121, 167), Color(86, 180, 233), Color(230, 159, 0),
    ]
}
