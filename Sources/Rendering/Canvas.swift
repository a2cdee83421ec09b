import CCairo
import Foundation
import LandscapeCore

/// The file formats a figure is written in.
public enum ImageFormat: String, CaseIterable, Sendable {
    /// 8-bit RGB through libpng, with tEXt chunks naming the sources and the command.
    case png
    /// Vector formats through cairo's SVG and PDF surfaces.
    case svg, pdf

    /// The format a file name's extension asks for, or nil.
    public init?(pathExtension: String) { self.init(rawValue: pathExtension.lowercased()) }
}

/// Where a text's anchor point sits on the text.
public enum TextAnchor: Sendable {
    case topLeft, top, topRight, left, center, right, bottomLeft, bottom, bottomRight

    var fractions: (x: Double, y: Double) {
        switch self {
        case .topLeft: (0, 0)
        case .top: (0.5, 0)
        case .topRight: (1, 0)
        case .left: (0, 0.5)
        case .center: (0.5, 0.5)
        case .right: (1, 0.5)
        case .bottomLeft: (0, 1)
        case .bottom: (0.5, 1)
        case .bottomRight: (1, 1)
        }
    }
}

/// A drawing surface of `width` x `height` units (pixels in PNG, points in SVG and PDF) over a
/// cairo context: antialiased paths, and text in DejaVu Sans found by fontconfig and drawn with
/// FreeType. y grows downwards.
public final class Canvas {
    public let width: Double
    public let height: Double
    public let format: ImageFormat
    /// The font family of every text.
    public static let fontFamily = "DejaVu Sans"

    private let surface: OpaquePointer
    let context: OpaquePointer
    /// The bytes a vector surface has written so far.
    private let stream = ByteSink()

    public init(width: Int, height: Int, format: ImageFormat) {
        precondition(width > 0 && height > 0, "Canvas: size \(width)x\(height)")
        self.width = Double(width)
        self.height = Double(height)
        self.format = format
        let sink = Unmanaged.passUnretained(stream).toOpaque()
        switch format {
        case .png: surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
        case .svg: surface = cairo_svg_surface_create_for_stream(ByteSink.write, sink, Double(width), Double(height))
        case .pdf: surface = cairo_pdf_surface_create_for_stream(ByteSink.write, sink, Double(width), Double(height))
        }
        context = cairo_create(surface)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_ROUND)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
        setColor(.white)
        cairo_paint(context)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    // MARK: Paths and paint

    public func setColor(_ color: Color, alpha: Double = 1) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, alpha)
    }
    public func move(_ x: Double, _ y: Double) { cairo_move_to(context, x, y) }
    public func line(_ x: Double, _ y: Double) { cairo_line_to(context, x, y) }
    public func close() { cairo_close_path(context) }
    public func rectangle(_ x: Double, _ y: Double, _ width: Double, _ height: Double) { cairo_rectangle(context, x, y, width, height) }
    public func circle(_ x: Double, _ y: Double, radius: Double) {
        cairo_new_sub_path(context)
        cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
    }
    /// A polyline through `points`, as a new sub-path.
    public func polyline(_ points: [(x: Double, y: Double)], closed: Bool = false) {
        guard let first = points.first else { return }
        cairo_new_sub_path(context)
        move(first.x, first.y)
        for point in points.dropFirst() { line(point.x, point.y) }
        if closed { close() }
    }
    /// Fills the current path (non-zero winding, so adjacent pieces of one path leave no seams).
    public func fill(preserving: Bool = false) {
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_WINDING)
        preserving ? cairo_fill_preserve(context) : cairo_fill(context)
    }
    /// Strokes the current path with `width`, solid or with a `dash` pattern.
    public func stroke(width: Double, dash: [Double] = [], preserving: Bool = false) {
        cairo_set_line_width(context, width)
        cairo_set_dash(context, dash, Int32(dash.count), 0)
        preserving ? cairo_stroke_preserve(context) : cairo_stroke(context)
    }
    /// Runs `body` with drawing clipped to the rectangle, then restores the state.
    public func clipped(to x: Double, _ y: Double, _ width: Double, _ height: Double, _ body: () -> Void) {
        cairo_save(context)
        cairo_rectangle(context, x, y, width, height)
        cairo_clip(context)
        body()
        cairo_restore(context)
    }

    /// Runs `body` with drawing clipped to the path that `path` builds, then restores the state.
    public func clipped(byPath path: () -> Void, _ body: () -> Void) {
        cairo_save(context)
        cairo_new_path(context)
        path()
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_WINDING)
        cairo_clip(context)
        body()
        cairo_restore(context)
    }

    // MARK: Text

    /// The advance width and the height of `text` at `size`.
    public func measure(_ text: String, size: Double, bold: Bool = false) -> (width: Double, height: Double) {
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        return (extents.x_advance, font.ascent + font.descent)
    }

    /// Draws `text` with its `anchor` at (x, y), turned by `angle` radians (clockwise on screen).
    /// A `halo` draws a ring of that colour around the glyphs first, so text stays legible over lines.
    public func text(_ text: String, at x: Double, _ y: Double, size: Double, anchor: TextAnchor = .bottomLeft,
                     color: Color = .ink, bold: Bool = false, angle: Double = 0, halo: Color? = nil) {
        guard !text.isEmpty else { return }
        selectFont(size: size, bold: bold)
        var extents = cairo_text_extents_t()
        cairo_text_extents(context, text, &extents)
        var font = cairo_font_extents_t()
        cairo_font_extents(context, &font)
        let (fx, fy) = anchor.fractions
        cairo_save(context)
        cairo_translate(context, x, y)
        cairo_rotate(context, angle)
        // Vertical placement by the font's ascent and descent, so labels line up whatever their glyphs.
        cairo_move_to(context, -fx * extents.x_advance, font.ascent - fy * (font.ascent + font.descent))
        cairo_text_path(context, text)
        if let halo {
            setColor(halo)
            stroke(width: max(2, size / 4), preserving: true)
        }
        setColor(color)
        cairo_fill(context)
        cairo_restore(context)
    }

    private func selectFont(size: Double, bold: Bool) {
        cairo_select_font_face(context, Self.fontFamily, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(context, size)
    }

    // MARK: Output

    /// Finishes the drawing and writes it to `url` atomically. `metadata` (keyword: value) goes
    /// into the PNG's tEXt chunks or the PDF's document information; SVG has no place for it.
    public func write(to url: URL, metadata: [(keyword: String, value: String)] = []) throws(FileError) {
        switch format {
        case .png:
            try image().write(to: url, text: metadata)
        case .svg, .pdf:
            if format == .pdf {
                for (keyword, value) in metadata {
                    let key: cairo_pdf_metadata_t = switch keyword {
                    case "Title": CAIRO_PDF_METADATA_TITLE
                    case "Software": CAIRO_PDF_METADATA_CREATOR
                    case "Source": CAIRO_PDF_METADATA_SUBJECT
                    default: CAIRO_PDF_METADATA_KEYWORDS
                    }
                    cairo_pdf_surface_set_metadata(surface, key, value)
                }
            }
            cairo_surface_finish(surface)
            let status = cairo_surface_status(surface)
            guard status == CAIRO_STATUS_SUCCESS else {
                throw FileError(file: url.path, problem: "cairo could not finish the \(format.rawValue): \(String(cString: cairo_status_to_string(status)))")
            }
            do { try Data(stream.bytes).write(to: url, options: .atomic) } catch {
                throw FileError(file: url.path, problem: "cannot write: \(error.localizedDescription)")
            }
        }
    }

    /// The pixels drawn so far (PNG canvases only).
    public func image() -> PNGImage {
        precondition(format == .png, "Canvas.image: only raster canvases have pixels")
        cairo_surface_flush(surface)
        let (w, h) = (Int(width), Int(height))
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        var pixels = [UInt8](repeating: 0, count: 3 * w * h)
        for y in 0..<h {
            // RGB24 keeps each pixel as a native-endian 32-bit 0x00RRGGBB.
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<w {
                let value = row[x]
                let o = 3 * (y * w + x)
                pixels[o] = UInt8(truncatingIfNeeded: value >> 16)
                pixels[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                pixels[o + 2] = UInt8(truncatingIfNeeded: value)
            }
        }
        return PNGImage(width: w, height: h, pixels: pixels)
    }
}

/// Collects the bytes cairo's vector surfaces write.
private final class ByteSink {
    var bytes: [UInt8] = []

    static let write: cairo_write_func_t = { closure, data, length in
        guard let closure, let data else { return CAIRO_STATUS_WRITE_ERROR }
        let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
        return CAIRO_STATUS_SUCCESS
    }
}
