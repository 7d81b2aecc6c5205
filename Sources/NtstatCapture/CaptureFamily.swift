import NtstatWire

extension CaptureMetadata {
  /// The layout family a capture's metadata gives, and where it came from: the recorder's own
  /// `ntstat.family`, else the kernel it names (the XNU build in `ntstat.kernel_version` or a
  /// standard `shb_os` line such as `Darwin Kernel Version 23.6.0: …; root:xnu-10063.141.1~1/…`,
  /// else a Darwin release). Captures written by other tools, or by older versions of ntstat,
  /// often carry only `shb_os`. Nil when nothing names a known kernel: the caller then detects
  /// the family from struct sizes.
  public var declaredFamily: (family: LayoutFamily, source: String)? {
    if let family { return (family, "from the capture's metadata") }
    let candidates: [(String, String?)] = [
      ("ntstat.kernel_version", kernelVersion), ("shb_os", extra["shb_os"]),
    ]
    for (key, text) in candidates {
      guard let text else { continue }
      var kernel = KernelVersion(release: darwinRelease, version: text)
      if kernel.darwin == nil, let range = text.firstRange(of: "Darwin ") {
        kernel.darwin = DarwinVersion(String(text[range.upperBound...].prefix { $0.isNumber || $0 == "." }))
      }
      if let family = try? LayoutFamily.select(for: kernel) {
        return (family, "from the kernel in \(key) (\(kernel))")
      }
    }
    if let release = darwinRelease,
      let family = try? LayoutFamily.select(for: KernelVersion(release: release, version: nil))
    {
      return (family, "from the Darwin release \(release)")
    }
    return nil
  }

  /// The family to decode with: the caller's `override` ("given"), else ``declaredFamily``.
  public func family(override: LayoutFamily?) -> (family: LayoutFamily, source: String)? {
    if let override { return (override, "given") }
    return declaredFamily
  }
}
