/// A rectangle of the canvas that shows data: the map from data to canvas coordinates, and the
/// frame with ticks, tick labels and axis labels around it.
public struct Axes: Sendable {
    public typealias Rectangle = (x: Double, y: Double, width: Double, height: Double)

    /// The plot area on the canvas.
    public let frame: Rectangle
    public let x: Scale
    public let y: Scale

    public init(frame: Rectangle, x: Scale, y: Scale) {
        self.frame = frame
        self.x = x
        self.y = y
    }

    /// Canvas coordinates of the data point (u, v).
    public func point(_ u: Double, _ v: Double) -> (x: Double, y: Double) {
        (frame.x + x.fraction(u) * frame.width, frame.y + (1 - y.fraction(v)) * frame.height)
    }

    /// Runs `body` with drawing clipped to the plot area.
    public func clipped(_ canvas: Canvas, _ body: () -> Void) {
        canvas.clipped(to: frame.x, frame.y, frame.width, frame.height, body)
    }

    /// Draws the frame, outward ticks with labels on the bottom and left, and the axis labels.
    public func drawFrame(on canvas: Canvas, xLabel: String, yLabel: String, style: Style = .standard) {
        canvas.setColor(.ink)
        canvas.rectangle(frame.x, frame.y, frame.width, frame.height)
        canvas.stroke(width: 1)
        let bottom = frame.y + frame.height
        for tick in x.ticks(count: max(2, Int(frame.width / 70))) {
            let px = point(tick.value, y.lower).x
            canvas.move(px, bottom)
            canvas.line(px, bottom + style.tickLength)
            canvas.stroke(width: 1)
            canvas.text(tick.label, at: px, bottom + style.tickLength + 2, size: style.tickSize, anchor: .top)
        }
        let labelWidth = drawVerticalTicks(y, on: canvas, at: frame.x, outward: -1, style: style)
        canvas.text(xLabel, at: frame.x + frame.width / 2, bottom + style.tickLength + style.tickSize + 8, size: style.labelSize, anchor: .top)
        canvas.text(yLabel, at: frame.x - style.tickLength - labelWidth - 8, frame.y + frame.height / 2, size: style.labelSize,
                    anchor: .bottom, angle: -Double.pi / 2)
    }

    /// A second vertical axis on the right for `scale`, with its label, in `color`.
    public func drawRightAxis(on canvas: Canvas, scale: Scale, label: String, color: Color = .ink, style: Style = .standard) {
        canvas.setColor(color)
        let right = frame.x + frame.width
        let labelWidth = drawVerticalTicks(scale, on: canvas, at: right, outward: 1, style: style, color: color)
        canvas.text(label, at: right + style.tickLength + labelWidth + 8, frame.y + frame.height / 2, size: style.labelSize,
                    anchor: .bottom, color: color, angle: Double.pi / 2)
    }

    /// Ticks of `scale` along the vertical line at `x`, pointing left (outward -1) or right (+1);
    /// returns the widest label's width.
    @discardableResult
    func drawVerticalTicks(_ scale: Scale, on canvas: Canvas, at lineX: Double, outward: Double, style: Style, color: Color = .ink) -> Double {
        var widest = 0.0
        for tick in scale.ticks(count: max(2, Int(frame.height / 50))) {
            let py = frame.y + (1 - scale.fraction(tick.value)) * frame.height
            canvas.setColor(color)
            canvas.move(lineX, py)
            canvas.line(lineX + outward * style.tickLength, py)
            canvas.stroke(width: 1)
            canvas.text(tick.label, at: lineX + outward * (style.tickLength + 2), py, size: style.tickSize,
                        anchor: outward < 0 ? .right : .left, color: color)
            widest = max(widest, canvas.measure(tick.label, size: style.tickSize).width)
        }
        return widest
    }

    /// Sizes of the text and ticks of a figure.
    public struct Style: Sendable {
        public var tickSize = 11.0
        public var labelSize = 12.5
        public var titleSize = 14.0
        public var captionSize = 11.5
        public var tickLength = 4.0
        public static let standard = Style()
    }
}
