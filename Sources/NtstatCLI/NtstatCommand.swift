import ArgumentParser
public struct NtstatCommand: ParsableCommand { public init() {} }
