import AccordEvents
import Foundation

/// The `--area-offices` option, read the same way by the projector and by `accord audit rebuild`,
/// `replay` and `verify`, so that a rebuild, a replay or a verification upcasts events exactly as
/// the projector did and derives the same view.
///
/// The value is a JSON file of area code to probation office id (`AreaOffices`), the word `none`
/// (no upcasting), or absent: then `ACCORD_AREA_OFFICES` from the environment, else the simulated
/// partnership's areas (`AreaOffices.simulatedPartnership`).
public enum AreaOfficesOption {
    /// The environment variable read when the option is not given.
    public static let environmentVariable = "ACCORD_AREA_OFFICES"

    /// The option's help text.
    public static let help = """
        JSON file of areas to probation offices, e.g. {"london-north": "nps-london"}: case-transferred.v1 events \
        are read as v2 with the receiving office of the area joined (env ACCORD_AREA_OFFICES; 'none' for no \
        upcasting; default: the simulated partnership's areas). Give the audit commands the projector's value.
        """

    /// The upcaster for the option's `value` (nil: not given), reading `environment` when it is not given.
    public static func upcaster(_ value: String?,
                                environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(AreaOfficesError) -> EventUpcaster {
        guard let value = value ?? environment[environmentVariable] else {
            return EventUpcaster(areaOffices: .simulatedPartnership)
        }
        if value == "none" { return .none }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: value))
        } catch {
            throw AreaOfficesError("area offices file \(value): cannot read it (\(error.localizedDescription))")
        }
        do {
            return EventUpcaster(areaOffices: try AreaOffices(json: [UInt8](bytes)))
        } catch {
            throw AreaOfficesError("area offices file \(value): \(error.message)")
        }
    }
}
