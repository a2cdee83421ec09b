import ArgumentParser

@main
struct Landscape: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Sharpness-aware training and loss-landscape analysis.")
}
