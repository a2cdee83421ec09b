import Networks

/// Runs `body` and then leaves a network objective's parameters as they were before it.
///
/// Every sharpness and Hessian computation goes through this: a `NetworkObjective` loads each point
/// it evaluates into its network, so without it the network would keep the last perturbed weights.
/// The network's float32 parameters are copied before and written back after, bit for bit. Other
/// objectives are left to the algorithms themselves, which make their last call at the analysed
/// point.
func preservingParameters<Result>(of objective: any Objective, _ body: () -> Result) -> Result {
    guard let network = (objective as? NetworkObjective)?.network else { return body() }
    let saved = Array(network.parameters.elements)
    defer {
        let w = network.parameters.pointer
        for i in saved.indices { w[i] = saved[i] }
    }
    return body()
}
