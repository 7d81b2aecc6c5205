import Foundation
import NTStat
import NtstatReplay
import NtstatTestSupport
import NtstatWire
import Testing

/// The kernel-control ABI we define ourselves, checked against XNU's `sys/kern_control.h`
/// and `sys/sys_domain.h` (values from compiling them; reference §e).
@Suite(.hangLimit) struct KernelControlTests {
  @Test func constantsMatchXNU() {
    #expect(KernelControlABI.pfSystem == 32)
    #expect(KernelControlABI.sysprotoControl == 2)
    #expect(KernelControlABI.afSysControl == 2)
    // _IOWR('N', 3, struct ctl_info): IOC_INOUT | (100 << 16) | ('N' << 8) | 3.
    #expect(KernelControlABI.ctliocginfo == 0xC000_0000 | (100 << 16) | (UInt(UInt8(ascii: "N")) << 8) | 3)
    #expect(KernelControlABI.controlInfoSize == 100)
    #expect(KernelControlABI.sockaddrControlSize == 32)
  }

  @Test func controlInfoLayout() {
    let info = KernelControlABI.controlInfo(name: "com.apple.network.statistics")
    #expect(info.count == 100)
    #expect(info[0..<4].allSatisfy { $0 == 0 })  // ctl_id, filled in by the kernel
    #expect(Array(info[4..<32]) == Array("com.apple.network.statistics".utf8))
    #expect(info[32] == 0)
    // A name longer than MAX_KCTL_NAME - 1 is cut so the string stays terminated.
    let long = KernelControlABI.controlInfo(name: String(repeating: "x", count: 200))
    #expect(long[99] == 0 && long[98] == UInt8(ascii: "x"))
    var reply = info
    reply[0] = 0x78
    reply[1] = 0x56
    #expect(KernelControlABI.controlID(from: reply) == 0x5678)
  }

  @Test func sockaddrControlLayout() {
    let address = KernelControlABI.sockaddrControl(id: 0x0102_0304, unit: 7)
    #expect(address.count == 32)
    #expect(address[0] == 32)  // sc_len
    #expect(address[1] == 32)  // sc_family = AF_SYSTEM
    #expect(address[2] == 2 && address[3] == 0)  // ss_sysaddr = AF_SYS_CONTROL
    #expect(Array(address[4..<8]) == [4, 3, 2, 1])  // sc_id
    #expect(Array(address[8..<12]) == [7, 0, 0, 0])  // sc_unit
    #expect(address[12..<32].allSatisfy { $0 == 0 })  // sc_reserved[5]
  }

  #if os(Linux)
    @Test func kernelControlFailsWithATypedErrorOffMacOS() {
      do {
        _ = try DatagramSocketTransport.kernelControl()
        Issue.record("a kernel control socket opened on Linux")
      } catch let error as TransportError {
        #expect(error.operation == "socket(PF_SYSTEM, SOCK_DGRAM, SYSPROTO_CONTROL)")
        #expect(error.errno == EAFNOSUPPORT)
        #expect(error.description.contains("only on macOS"))
      } catch {
        Issue.record("unexpected error \(error)")
      }
    }
  #endif

  #if os(macOS)
    /// On a Mac the control opens, the family comes from uname, and the kernel answers.
    @Test func kernelControlOpensAndAnswers() throws {
      let transport = try DatagramSocketTransport.kernelControl()
      var configuration = ClientConfiguration()
      configuration.providers = [.tcpKernel, .udpKernel]
      let client = NetworkStatisticsClient(transport: transport, configuration: configuration)
      var events = 0
      try client.run(for: 2_000_000_000) { event in
        if case .streamAdded = event { events += 1 }
      }
      #expect(client.statistics.datagramsReceived > 0)
      #expect(events > 0)
    }
  #endif
}
