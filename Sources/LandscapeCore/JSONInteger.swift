import Foundation

/// Reading whole numbers from `JSONSerialization` output.
public enum JSONInteger {
    /// The value of a JSON integer, or nil for anything else: Foundation parses `2.0` and `true` as
    /// numbers too, and a size or a count is neither.
    public static func value(_ json: Any) -> Int? {
        guard let number = json as? NSNumber else { return nil }
        switch String(cString: number.objCType) {
        case "c", "B", "f", "d": return nil
        default: return json as? Int
        }
    }
}
