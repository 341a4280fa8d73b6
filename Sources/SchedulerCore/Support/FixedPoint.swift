/// Integer arithmetic for the few places the scheduler needs an exponential, so that the planner
/// stays free of floating point and gives the same answer on every machine.
public enum FixedPoint {
    /// Scale of the results: 1.0 is `one`.
    public static let one = 1 << 30

    /// `2^(-2^-k) * 2^30` for k = 1…30, rounded to nearest.
    private static let rootsOfHalf: [Int] = [
        759250125, 902905651, 984625594, 1028218693, 1050733751, 1062175491, 1067942999, 1070838486,
        1072289173, 1073015252, 1073378477, 1073560135, 1073650976, 1073696399, 1073719111, 1073730468,
        1073736146, 1073738985, 1073740404, 1073741114, 1073741469, 1073741647, 1073741735, 1073741780,
        1073741802, 1073741813, 1073741818, 1073741821, 1073741823, 1073741823,
    ]

    /// `2^(-numerator/denominator)` scaled by `one` (so `one` for 0, `one/2` for 1). Both
    /// arguments must be non-negative and the denominator positive.
    public static func exp2Negative(_ numerator: Int128, over denominator: Int128) -> Int {
        precondition(numerator >= 0 && denominator > 0)
        let whole = numerator / denominator
        if whole >= 31 { return 0 }
        let fraction = Int((numerator % denominator) << 30 / denominator)   // 30-bit binary fraction
        var result = one
        for k in 1...30 where fraction & (1 << (30 - k)) != 0 {
            result = (result * rootsOfHalf[k - 1] + (one >> 1)) >> 30
        }
        return result >> Int(whole)
    }
}
