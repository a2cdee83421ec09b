/// A problem with a file the user gave or asked for (a checkpoint, a data set, a surface): which
/// file, and what is wrong with it, as one line.
public struct FileError: Error, CustomStringConvertible, Equatable {
    /// The path (or caller-supplied name) of the file.
    public let file: String
    /// What is wrong, without the file name.
    public let problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    /// `"<file>: <problem>"`.
    public var description: String { "\(file): \(problem)" }
}
