// The version `purser --version`, the API document and build_info report.
public enum PurserVersion {
    public static let current = "0.1.0"
}
